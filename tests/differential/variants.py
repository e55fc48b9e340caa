"""Requests that reuse a case's document, so they meet the plan cached for it: other
variable values (the flags flipped, other ids, pages and sizes), the document's other
operation, and the same document as an automatic persisted query.

    variants(Case(..., variables={"b0": True, "v1": 2}))
    → [Case(..., variables={"b0": False, "v1": 3}), Case(..., persisted="register"),
       Case(..., persisted="hash")]
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tests.differential.domain import pools
from tests.differential.strategies import Case


def variants(case: Case) -> list[Case]:
    found = []
    other = {name: other_value(value) for name, value in case.variables.items()}
    if other != case.variables:
        found.append(dataclasses.replace(case, variables=other))
    if "query Other " in case.document:
        found.append(dataclasses.replace(case, operation_name="Other"))
    found += [dataclasses.replace(case, persisted=how) for how in ("register", "hash")]
    return found


def other_value(value: Any) -> Any:
    """Another value of the same type, valid where `value` was (and `null` stays `null`)."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value % 3 + 1 if 1 <= value <= 3 else 2
    if isinstance(value, str):
        for pool in _string_pools():
            if value in pool:
                return pool[(pool.index(value) + 1) % len(pool)]
    return value


def _string_pools() -> tuple[tuple[str, ...], ...]:
    p = pools()
    return (p.traveler_ids, p.trip_ids, p.cursors, ("BOOKED", "CANCELLED"))
