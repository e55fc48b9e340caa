"""What one GraphQL request carries through its resolvers."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from aiodataloader import DataLoader

from gateway.cache.request import RequestCache
from gateway.viewer import Viewer


@dataclass(slots=True)
class RequestContext:
    viewer: Viewer
    cache: RequestCache
    notes: dict[str, Any] = field(default_factory=dict)  # answer `extensions` added by resolvers
    # The reference executor's batched loads, per field and arguments (gateway.schemas.declared).
    loads: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
