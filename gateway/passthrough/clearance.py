"""Clearing one passthrough request against its access rule, before anything is forwarded.

The decisions are `gateway.access`'s; this module reads the ids a request names (its path,
its `?ids=`, its body) and fetches the facts an owner rule needs (`gateway.owners`). Some
reads can only be decided on the answer (a trip's owner is in the trip): the clearance then
says which rule the answer must pass before a byte of it is sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from gateway import access
from gateway.auth import Identity
from gateway.errors import BadUserInput
from gateway.owners import Owners
from gateway.routing.access_rules import IDS_PARAM, AccessRule, AppliedRule

READS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class Clearance:
    """Allowed to forward; when `answer_rule` is set, the answer must pass it first."""

    answer_rule: AccessRule | None = None
    owned: frozenset[str] = frozenset()


CLEAR = Clearance()


def query_ids(query_string: str) -> list[str]:
    """Every id of every `ids` parameter: "ids=a,b&ids=c" → ["a", "b", "c"] (a backend may
    read the first or the last one: both are checked)."""
    pairs = parse_qsl(query_string, keep_blank_values=True)
    return [i.strip() for k, v in pairs if k == IDS_PARAM for i in v.split(",") if i.strip()]


def parse_body(body: bytes) -> Any:
    """The JSON body an owner rule reads; a key given twice is refused, as a backend could
    read either copy."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            raise BadUserInput("The body names a key twice.")
        return dict(pairs)

    try:
        return json.loads(body, object_pairs_hook=no_duplicates)
    except ValueError:
        raise BadUserInput("The body is not valid JSON.") from None


async def clear(
    identity: Identity,
    applied: AppliedRule | None,
    *,
    method: str,
    path: str,
    query_string: str,
    body: bytes | None,
    owners: Callable[[], Owners],
) -> Clearance:
    """Raises Unauthenticated, Forbidden or BadUserInput; `owners` builds the fact source
    only when a rule needs one (an agent's request never does)."""
    if access.rest_gate(identity, applied.rule if applied else None):
        return CLEAR
    assert applied is not None and applied.rule.owner is not None
    rule = applied.rule
    if rule.where == "body":
        return await _clear_body(identity, rule, parse_body(body or b""), owners)
    ids = [applied.path_id(path)] if rule.where == "path" else query_ids(query_string)
    return await _clear_ids(identity, rule, ids, reads=method.upper() in READS, owners=owners)


async def _clear_ids(
    identity: Identity,
    rule: AccessRule,
    ids: list[str],
    *,
    reads: bool,
    owners: Callable[[], Owners],
) -> Clearance:
    if rule.owner == "traveler":
        access.check_travelers(identity, ids)
        return CLEAR
    if rule.owner == "trip":
        if reads:  # the owner is in the answer
            return Clearance(answer_rule=rule)
        source = owners()
        for trip_id in ids:
            owner = await source.trip_owner(trip_id)
            if owner is not None:  # an unknown trip answers as the backend does
                access.check_traveler(identity, owner, what=f"trip {trip_id}")
        return CLEAR
    source = owners()
    owned = await source.owned_bookings(access.require_signed_in(identity))
    foreign = access.check_bookings(identity, ids, owned=owned)
    if not foreign:
        return CLEAR
    if reads:  # unknown ids answer as the backend does; known foreign ones are refused
        return Clearance(answer_rule=rule, owned=owned)
    access.refuse_existing(await source.existing(foreign))
    return CLEAR


async def _clear_body(
    identity: Identity, rule: AccessRule, body: Any, owners: Callable[[], Owners]
) -> Clearance:
    if rule.owner == "trip":
        await owners().check_new_trip(identity, body)
        return CLEAR
    if not isinstance(body, dict):
        raise BadUserInput("The body must be a JSON object.")
    if rule.owner == "traveler":
        access.check_traveler(identity, str(body.get("traveler_id")))
        return CLEAR
    return await _clear_ids(identity, rule, access.booking_ids(body), reads=False, owners=owners)
