"""Travelers: the signed-in one, one by id (access checked), and each trip's traveler."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway import access
from gateway.errors import NotFound
from gateway.loaders import Entity
from gateway.resolvers.fields import NO_ARGS, Args, Load
from gateway.viewer import Viewer


async def me(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[Entity | None]:
    return [await viewer.me()]


async def traveler(viewer: Viewer, roots: Sequence[Any], args: Args) -> list[Entity | None]:
    return [await viewer.traveler(str(args["id"]))]


async def travelers_of(
    viewer: Viewer, trips: Sequence[Entity], args: Args = NO_ARGS
) -> list[Entity]:
    """Each trip's traveler (the trip passed its access check already), one batch."""
    found = await viewer.loaders.load_all("traveler", [t["traveler_id"] for t in trips])
    known: list[Entity] = []
    for trip, traveler in zip(trips, found, strict=True):
        if traveler is None:
            raise NotFound(f"Trip {trip['id']} names a traveler the backend does not know.")
        known.append(traveler)
    return known


def may_read_traveler(viewer: Viewer, roots: Sequence[Any], args: Args) -> None:
    access.check_traveler(viewer.identity, str(args["id"]))


ROOTS: dict[str, Load] = {"me": Load(me), "traveler": Load(traveler, check=may_read_traveler)}
