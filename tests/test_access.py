from __future__ import annotations

import pytest

from gateway import access
from gateway.auth import ANONYMOUS, Identity
from gateway.errors import BadUserInput, Forbidden, Unauthenticated

TRAVELER = Identity(traveler_id="t-1", role="traveler")
AGENT = Identity(traveler_id="qa-1", role="agent")
REFUSED = Identity(traveler_id=None, role=None, refusal="expired")


@pytest.mark.parametrize(
    ("identity", "traveler_id", "allowed"),
    [
        (TRAVELER, "t-1", True),
        (TRAVELER, "t-2", False),
        (AGENT, "t-2", True),
        (AGENT, "qa-1", True),
        (ANONYMOUS, "t-1", False),
        (REFUSED, "t-1", False),
    ],
)
def test_who_may_access_a_traveler(identity: Identity, traveler_id: str, allowed: bool) -> None:
    assert access.may_access_traveler(identity, traveler_id) is allowed


def test_check_traveler_says_why() -> None:
    access.check_traveler(TRAVELER, "t-1")
    access.check_traveler(AGENT, "t-9")
    with pytest.raises(Forbidden) as forbidden:
        access.check_traveler(TRAVELER, "t-2")
    assert forbidden.value.extensions == {"code": "FORBIDDEN"}
    with pytest.raises(Unauthenticated) as anonymous:
        access.check_traveler(ANONYMOUS, "t-1")
    assert anonymous.value.message == "A valid bearer token is required."
    with pytest.raises(Unauthenticated) as refused:
        access.check_traveler(REFUSED, "t-1")
    assert refused.value.message == "A valid bearer token is required (expired)."


def test_signed_in_caller() -> None:
    assert access.require_signed_in(TRAVELER) == "t-1"
    with pytest.raises(Unauthenticated):
        access.require_signed_in(ANONYMOUS)


@pytest.mark.parametrize(
    ("first", "ok"), [(1, True), (100, True), (0, False), (101, False), (-5, False)]
)
def test_paging_limits(first: int, ok: bool) -> None:
    if ok:
        assert access.check_first(first) == first
    else:
        with pytest.raises(BadUserInput, match="between 1 and 100"):
            access.check_first(first)


def test_destination_limit() -> None:
    assert access.check_limit(50) == 50
    with pytest.raises(BadUserInput, match="between 1 and 50"):
        access.check_limit(51)
