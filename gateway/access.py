"""Who may read and change what: every access decision of the gateway, as pure functions.

A traveler may read and change only their own traveler record, their own trips and the
bookings (flights, hotel stays, car rentals) on their own trips; an agent anyone's. Without
a valid token only public data answers. GraphQL's resolvers and the REST passthrough both
decide here; the facts a decision needs (who owns a trip, which bookings are on a
traveler's trips) are fetched by `gateway.owners` and passed in.

    rest_gate(identity, rule)                 → True (decided: allowed) | False (owner check)
                                                 | raises Unauthenticated / Forbidden
    check_travelers(identity, ["t-1"])        → None | Forbidden
    check_bookings(identity, ids, owned=...)  → the ids that need an existence check
    check_answer(identity, rule, body, owned) → None | Forbidden (an answer's owners)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

from gateway.auth import Identity
from gateway.errors import BadUserInput, Forbidden, Unauthenticated
from gateway.routing.access_rules import AccessRule

BOOKING_LISTS = ("flight_ids", "hotel_stay_ids", "car_rental_ids")


def require_signed_in(identity: Identity) -> str:
    """The caller's traveler id, or UNAUTHENTICATED (with why a presented token was refused)."""
    if not identity.authenticated or identity.traveler_id is None:
        raise Unauthenticated(identity.refusal)
    return identity.traveler_id


def may_access_traveler(identity: Identity, traveler_id: str) -> bool:
    return identity.authenticated and (identity.is_agent or identity.traveler_id == traveler_id)


def check_traveler(identity: Identity, traveler_id: str, *, what: str | None = None) -> None:
    """Allow the caller to read or change `traveler_id`'s record and trips, or raise.

    `what` names the refused thing when the traveler id came from the data rather than
    from the caller (a trip's owner): the refusal must not tell whose it is.
    """
    require_signed_in(identity)
    if not may_access_traveler(identity, traveler_id):
        raise Forbidden(what or f"traveler {traveler_id}'s data")


def check_travelers(identity: Identity, traveler_ids: Iterable[str]) -> None:
    """Every id must be the caller's own (agents: any); one foreign id refuses them all."""
    for traveler_id in traveler_ids:
        check_traveler(identity, traveler_id)


def check_first(first: int) -> int:
    if not 1 <= first <= 100:
        raise BadUserInput(f"`first` must be between 1 and 100, got {first}.")
    return first


def check_limit(limit: int, *, maximum: int = 50) -> int:
    if not 1 <= limit <= maximum:
        raise BadUserInput(f"`limit` must be between 1 and {maximum}, got {limit}.")
    return limit


# -- bookings ------------------------------------------------------------------------------


def booking_ids(trip: Mapping[str, Any]) -> list[str]:
    """Every booking a trip (or a new trip's body) names, in the order written."""
    ids: list[str] = []
    for name in BOOKING_LISTS:
        value = trip.get(name) or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise BadUserInput(f"{name} must be a list of id strings.")
        ids.extend(value)
    return ids


def owned_bookings(trips: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """The bookings on a traveler's trips (cancelled trips included: still theirs)."""
    return frozenset(i for trip in trips for i in booking_ids(trip))


def check_bookings(
    identity: Identity, ids: Collection[str], *, owned: Collection[str]
) -> list[str]:
    """The ids that are not on the caller's trips (agents: none). The caller may use them
    only if none of them exists: an unknown id answers as the backend does, a foreign one is
    refused, so the caller checks their existence next (`refuse_existing`)."""
    require_signed_in(identity)
    if identity.is_agent:
        return []
    return [i for i in dict.fromkeys(ids) if i not in owned]


def refuse_existing(found: Iterable[Any]) -> None:
    """Forbidden when any of the caller's foreign ids names an existing entity."""
    if any(item is not None for item in found):
        raise Forbidden("bookings on another traveler's trips")


# -- the REST passthrough -----------------------------------------------------------------


def rest_gate(identity: Identity, rule: AccessRule | None) -> bool:
    """The part of a route's rule decided from the token alone.

    True: allowed, nothing more to check. False: an owner rule for a signed-in traveler,
    decided next from the ids the request or its answer names. Raises Unauthenticated or
    Forbidden. No rule at all (a path neither the routes nor the contract cover) refuses.
    """
    if rule is not None and rule.public:
        return True
    require_signed_in(identity)
    if rule is None:
        raise Forbidden("this path (no access rule covers it)")
    if identity.is_agent or rule.level == "signed-in":
        return True
    if rule.level == "agent":
        raise Forbidden("this endpoint (agents only)")
    return False


def check_new_trip(identity: Identity, body: Any) -> list[str]:
    """A new trip's `traveler_id` must be the caller's; returns the bookings it names."""
    if not isinstance(body, dict) or not isinstance(body.get("traveler_id"), str):
        raise BadUserInput("The body must be a JSON object with a traveler_id.")
    check_traveler(identity, body["traveler_id"])
    return booking_ids(body)


def answer_items(body: Any) -> list[Any]:
    """The entities of an answer: a batch's `items`, or the one entity."""
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return list(body["items"])
    return [body]


def check_answer(
    identity: Identity, rule: AccessRule, body: Any, *, owned: Collection[str] = ()
) -> None:
    """Whether every entity of a 2xx answer is the caller's, before a byte of it is sent.

    For `trip` rules an entity's owner is its `traveler_id`; for `booking` rules it is the
    caller's if its id is in `owned`; for `traveler` rules its own id.
    """
    for item in answer_items(body):
        if not isinstance(item, dict):
            raise Forbidden("an answer the gateway cannot check")
        if rule.owner == "trip":
            check_traveler(identity, str(item.get("traveler_id")), what="another traveler's trip")
        elif rule.owner == "traveler":
            check_traveler(identity, str(item.get("id")), what="another traveler's record")
        elif not identity.is_agent and item.get("id") not in owned:
            raise Forbidden("bookings on another traveler's trips")
