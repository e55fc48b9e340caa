"""Top destinations: public, the same for every caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.loaders import Entity
from gateway.resolvers.fields import Args, Load, TypeFields
from gateway.viewer import Viewer


async def top_destinations(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[list[Entity]]:
    return [await viewer.top_destinations(args["limit"])]


DESTINATION: TypeFields = {}  # every field is a read of the entity
ROOTS: dict[str, Load] = {"top_destinations": Load(top_destinations)}
