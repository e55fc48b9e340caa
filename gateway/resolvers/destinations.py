"""Top destinations: public, the same for every caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway import access
from gateway.loaders import Entity
from gateway.resolvers.fields import Args, Load, TypeFields
from gateway.viewer import Viewer


async def top_destinations(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[list[Entity]]:
    return [await viewer.top_destinations(args["limit"])]


DESTINATION: TypeFields = {}  # every field is a read of the entity


def limit_in_range(viewer: Viewer, roots: Sequence[Any], args: Args) -> None:
    access.check_limit(args["limit"])


ROOTS: dict[str, Load] = {
    "top_destinations": Load(top_destinations, check=limit_in_range, public="destinations")
}
