from __future__ import annotations

import pytest

from gateway import access
from gateway.auth import ANONYMOUS, Identity
from gateway.errors import BadUserInput, Forbidden, Unauthenticated
from gateway.routing.access_rules import AccessRule, applied_rule, contract_rule, looser, owner
from gateway.routing.templates import PathTemplate

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


# -- the REST passthrough's rules -----------------------------------------------------------

PUBLIC = AccessRule(level="public")
SIGNED_IN = AccessRule(level="signed-in")
AGENTS = AccessRule(level="agent")
OWN_TRIP = owner("trip", "path")
OWN_BOOKINGS = owner("booking", "query")


@pytest.mark.parametrize(
    ("identity", "rule", "outcome"),
    [
        (ANONYMOUS, PUBLIC, True),
        (REFUSED, PUBLIC, True),
        (ANONYMOUS, SIGNED_IN, Unauthenticated),
        (REFUSED, OWN_TRIP, Unauthenticated),
        (ANONYMOUS, None, Unauthenticated),
        (TRAVELER, None, Forbidden),
        (AGENT, None, Forbidden),
        (TRAVELER, SIGNED_IN, True),
        (TRAVELER, AGENTS, Forbidden),
        (AGENT, AGENTS, True),
        (TRAVELER, OWN_TRIP, False),
        (AGENT, OWN_TRIP, True),
    ],
)
def test_rest_gate(identity: Identity, rule: AccessRule | None, outcome: object) -> None:
    if isinstance(outcome, bool):
        assert access.rest_gate(identity, rule) is outcome
    else:
        with pytest.raises(outcome):  # type: ignore[call-overload]
            access.rest_gate(identity, rule)


def test_a_refused_token_says_why_in_the_refusal() -> None:
    with pytest.raises(Unauthenticated) as refused:
        access.rest_gate(REFUSED, SIGNED_IN)
    assert refused.value.reason == "expired"


def test_an_answer_of_someone_elses_trips_is_refused_without_naming_the_owner() -> None:
    mine = {"id": "trip-1", "traveler_id": "t-1"}
    theirs = {"id": "trip-2", "traveler_id": "t-2"}
    access.check_answer(TRAVELER, OWN_TRIP, mine)
    access.check_answer(TRAVELER, OWN_TRIP, {"items": [mine, mine]})
    access.check_answer(AGENT, OWN_TRIP, {"items": [mine, theirs]})
    for answer in (theirs, {"items": [mine, theirs]}):
        with pytest.raises(Forbidden) as refused:
            access.check_answer(TRAVELER, OWN_TRIP, answer)
        assert "t-2" not in refused.value.message


def test_an_answer_of_bookings_passes_only_when_every_booking_is_owned() -> None:
    owned = frozenset({"fl-1", "hs-1"})
    access.check_answer(TRAVELER, OWN_BOOKINGS, {"items": [{"id": "fl-1"}]}, owned=owned)
    access.check_answer(TRAVELER, OWN_BOOKINGS, {"items": []}, owned=owned)
    with pytest.raises(Forbidden):
        access.check_answer(
            TRAVELER, OWN_BOOKINGS, {"items": [{"id": "fl-1"}, {"id": "fl-9"}]}, owned=owned
        )
    access.check_answer(AGENT, OWN_BOOKINGS, {"items": [{"id": "fl-9"}]}, owned=frozenset())


def test_owned_bookings_are_every_booking_on_the_travelers_trips() -> None:
    trips = [
        {"flight_ids": ["fl-1"], "hotel_stay_ids": ["hs-1"], "car_rental_ids": []},
        {"flight_ids": ["fl-2"], "hotel_stay_ids": [], "car_rental_ids": ["cr-3"]},
    ]
    assert access.owned_bookings(trips) == {"fl-1", "hs-1", "fl-2", "cr-3"}


def test_check_bookings_names_the_ids_that_are_not_the_callers() -> None:
    owned = {"fl-1", "hs-1"}
    assert access.check_bookings(TRAVELER, ["fl-1", "fl-9", "fl-9"], owned=owned) == ["fl-9"]
    assert access.check_bookings(TRAVELER, ["fl-1", "hs-1"], owned=owned) == []
    assert access.check_bookings(AGENT, ["fl-9"], owned=set()) == []
    with pytest.raises(Unauthenticated):
        access.check_bookings(ANONYMOUS, ["fl-1"], owned=owned)


def test_a_foreign_booking_refuses_only_when_it_exists() -> None:
    access.refuse_existing([None, None])
    with pytest.raises(Forbidden):
        access.refuse_existing([None, {"id": "fl-9"}])


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        ({"traveler_id": "t-1", "flight_ids": ["fl-1"]}, ["fl-1"]),
        (
            {"traveler_id": "t-1", "hotel_stay_ids": ["hs-1"], "car_rental_ids": ["cr-1"]},
            ["hs-1", "cr-1"],
        ),
        ({"traveler_id": "t-2"}, Forbidden),
        ({"title": "no traveler"}, BadUserInput),
        (["not", "an", "object"], BadUserInput),
        ({"traveler_id": "t-1", "flight_ids": "fl-1"}, BadUserInput),
    ],
)
def test_a_new_trip_must_be_the_callers(body: object, outcome: object) -> None:
    if isinstance(outcome, list):
        assert access.check_new_trip(TRAVELER, body) == outcome
    else:
        with pytest.raises(outcome):  # type: ignore[call-overload]
            access.check_new_trip(TRAVELER, body)


@pytest.mark.parametrize(
    ("method", "path", "rule"),
    [
        ("GET", "/api/travelers/t-1", owner("traveler", "path")),
        ("GET", "/api/travelers", owner("traveler", "query")),
        ("GET", "/api/travelers/t-1/trips", owner("traveler", "path")),
        ("GET", "/api/trips/trip-1", owner("trip", "path")),
        ("HEAD", "/api/trips/trip-1", owner("trip", "path")),
        ("GET", "/api/trips", owner("trip", "query")),
        ("POST", "/api/trips", owner("trip", "body")),
        ("POST", "/api/trips/trip-1/cancel", owner("trip", "path")),
        ("GET", "/api/flights/fl-1", owner("booking", "path")),
        ("GET", "/api/car-rentals", owner("booking", "query")),
        ("GET", "/api/destinations/top", PUBLIC),
        ("GET", "/api/fx", PUBLIC),
        ("DELETE", "/api/trips/trip-1", None),
        ("POST", "/api/fx", None),
        ("GET", "/api/admin", None),
        ("GET", "/api/trips/trip-1/cancel", None),
    ],
)
def test_the_contracts_rule_per_endpoint(method: str, path: str, rule: AccessRule | None) -> None:
    assert contract_rule(method, path) == rule


def test_a_routes_own_rule_wins_and_reads_its_id_with_the_routes_template() -> None:
    template = PathTemplate.parse("/api/v2/bookings/{booking}/lines")
    applied = applied_rule(owner("booking", "path"), template, "GET", "/api/v2/bookings/fl-1/lines")
    assert applied is not None and applied.rule == owner("booking", "path")
    assert applied.path_id("/api/v2/bookings/fl-1/lines") == "fl-1"
    contract = applied_rule(None, None, "POST", "/api/trips/trip-7/cancel")
    assert contract is not None and contract.path_id("/api/trips/trip-7/cancel") == "trip-7"


@pytest.mark.parametrize(
    ("declared", "contract", "is_looser"),
    [
        (PUBLIC, owner("trip", "path"), True),
        (SIGNED_IN, owner("trip", "path"), True),
        (owner("booking", "path"), owner("trip", "path"), True),
        (owner("trip", "path"), owner("trip", "path"), False),
        (AGENTS, owner("trip", "path"), False),
        (SIGNED_IN, PUBLIC, False),
        (PUBLIC, PUBLIC, False),
    ],
)
def test_looser_than_the_contract(
    declared: AccessRule, contract: AccessRule, is_looser: bool
) -> None:
    assert looser(declared, contract) is is_looser
