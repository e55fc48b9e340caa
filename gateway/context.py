"""What one GraphQL request carries through its resolvers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gateway.cache.request import RequestCache
from gateway.viewer import Viewer

if TYPE_CHECKING:
    from strawberry.types import Info as _Info


@dataclass(slots=True)
class RequestContext:
    viewer: Viewer
    cache: RequestCache
    notes: dict[str, Any] = field(default_factory=dict)  # answer `extensions` added by resolvers


def viewer_of(info: _Info[RequestContext, None]) -> Viewer:
    return info.context.viewer
