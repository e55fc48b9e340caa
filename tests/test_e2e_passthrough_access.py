"""The REST passthrough's access rules end to end: every endpoint of legacy-api.md asked by
nobody, by the owner, by another traveler and by an agent, through a real gateway in front
of a real monolith stub (../shared/contract/README.md, "REST passthrough").

The witness for each refusal is the stub itself: its event feed (no new event), the entity
read from it directly (unchanged), its request counters (the write never forwarded), and the
answer (no byte of the other traveler's data in its body or headers). Travelers, trips and
bookings are found by asking the stub, never assumed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from gateway.auth import issue_dev_token
from tests.conftest import SECRET, gateway_env
from tests.support.parties import Json, Party, find_parties, leaked
from tests.support.passthrough import (
    AGENT,
    World,
    check_headers,
    error_body,
    forbidden,
    unauthenticated,
)
from tests.support.processes import GATEWAY_FACTORY, ROOT, Service, start_uvicorn, write_routes
from tests.support.raw_http import raw_request

pytestmark = pytest.mark.e2e

CALLERS = ("anonymous", "owner", "other", "agent")
MiB = 1024 * 1024


# Every test runs against both: routes.yaml without access entries (the contract's rules
# apply by default) and the repository's own routes.yaml (explicit access entries; single
# flights from the flights service, the batch canaried to it and shadowed).
ROUTE_TABLES = ("contract-defaults", "repository-routes")


@pytest.fixture(scope="module", params=ROUTE_TABLES)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """Its own stub (refused writes that slip through really change data) and a gateway
    with its default caches, following the stub's event feed as in local development."""
    with ExitStack() as started:
        legacy = start_uvicorn("legacy_stub.app:app")
        started.callback(legacy.stop)
        if request.param == "repository-routes":
            flights = start_uvicorn("services.flights.app:app")
            started.callback(flights.stop)
            routes, flights_url = ROOT / "routes.yaml", flights.url
        else:
            routes = write_routes(tmp_path_factory.mktemp("access") / "routes.yaml")
            flights_url = legacy.url
        env = gateway_env(
            legacy.url,
            routes,
            FLIGHTS_URL=flights_url,
            EVENTS_FEED_URL=f"{legacy.url}/_stub/events",
        )
        gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
        started.callback(gateway.stop)
        owner, other = find_parties(legacy.url)
        client = started.enter_context(httpx.Client(timeout=30))
        yield World(legacy, gateway, owner, other, client, env)


@pytest.fixture
def w(world: World) -> World:
    world.reset()
    return world


# --- reads ------------------------------------------------------------------------------------


def ids(values: list[str]) -> str:
    return ",".join(values)


# Each read names only the owner's data; `other` asks for it too.
READS: dict[str, Callable[[Party], str]] = {
    "traveler": lambda p: f"/api/travelers/{p.id}",
    "travelers-batch": lambda p: f"/api/travelers?ids={p.id}",
    "traveler-trips": lambda p: f"/api/travelers/{p.id}/trips?limit=100",
    "traveler-trips-page": lambda p: f"/api/travelers/{p.id}/trips?status=booked&limit=2",
    "trip": lambda p: f"/api/trips/{p.main['id']}",
    "trips-batch": lambda p: f"/api/trips?ids={ids([t['id'] for t in p.trips][:100])}",
    "flight": lambda p: f"/api/flights/{p.flight}",
    "flights-batch": lambda p: f"/api/flights?ids={ids(p.main['flight_ids'])}",
    "hotel-stay": lambda p: f"/api/hotel-stays/{p.stay}",
    "hotel-stays-batch": lambda p: f"/api/hotel-stays?ids={ids(p.main['hotel_stay_ids'])}",
    "car-rental": lambda p: f"/api/car-rentals/{p.car}",
    "car-rentals-batch": lambda p: f"/api/car-rentals?ids={ids(p.main['car_rental_ids'])}",
}
PUBLIC_READS = {
    "destinations-top": "/api/destinations/top?limit=5",
    "fx-eur": "/api/fx?base=EUR",
    "fx-jpy": "/api/fx?base=JPY",
}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("read", list(PUBLIC_READS))
def test_public_routes_answer_everyone_as_the_monolith_does(
    w: World, read: str, caller: str
) -> None:
    path = PUBLIC_READS[read]
    response = w.call(caller, "GET", path)
    assert (response.status_code, response.content) == (200, w.direct(path).content)
    check_headers(response, public=True)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("read", list(READS))
def test_read_of_the_owners_data(w: World, read: str, caller: str) -> None:
    path = READS[read](w.owner)
    response = w.call(caller, "GET", path)
    if caller == "anonymous":
        unauthenticated(response)
        assert leaked(w.owner, response, named=path) == []
        assert w.stats() == {}
    elif caller == "other":
        forbidden(response, w.owner, named=path)
    else:
        direct = w.direct(path)
        assert direct.status_code == 200
        assert response.status_code == 200, response.text[:300]
        if caller == "agent":
            assert response.content == direct.content
        else:
            assert response.json() == direct.json()
        check_headers(response)


BATCHES: dict[str, Callable[[Party], str]] = {
    "travelers": lambda p: p.id,
    "trips": lambda p: p.main["id"],
    "flights": lambda p: p.flight,
    "hotel-stays": lambda p: p.stay,
    "car-rentals": lambda p: p.car,
}


def every_own(party: Party, kind: str) -> list[str]:
    """All of `party`'s ids of one kind: "flights" → every flight on every trip of theirs."""
    if kind == "travelers":
        return [party.id]
    if kind == "trips":
        return [t["id"] for t in party.trips]
    field = {"flights": "flight_ids", "hotel-stays": "hotel_stay_ids"}.get(kind, "car_rental_ids")
    return [i for t in party.trips for i in t[field]]


@pytest.mark.parametrize("kind", list(BATCHES))
def test_batch_naming_one_foreign_id_is_refused_whole(w: World, kind: str) -> None:
    own, foreign = BATCHES[kind](w.other), BATCHES[kind](w.owner)
    last_of_99 = ids([*every_own(w.other, kind)[:98], foreign])  # the last of many
    for named in (f"{own},{foreign}", f"{foreign},{own}", last_of_99):
        path = f"/api/{kind}?ids={named}"
        forbidden(w.call("other", "GET", path), w.owner, named=path)
    path = f"/api/{kind}?ids={ids(every_own(w.other, kind)[:98])}"
    assert w.call("other", "GET", path).json() == w.direct(path).json()  # without it: fine


SMUGGLED = {
    "repeated-ids-param": "/api/{kind}?ids={own}&ids={foreign}",
    "encoded-comma": "/api/{kind}?ids={own}%2C{foreign}",
    "encoded-space": "/api/{kind}?ids={own},%20{foreign}",
    "encoded-id": "/api/{kind}?ids={own},{encoded}",
    "trailing-slash": "/api/{kind}/?ids={foreign}",
}


@pytest.mark.parametrize("trick", list(SMUGGLED))
@pytest.mark.parametrize("kind", ["trips", "flights"])
def test_batch_cannot_smuggle_a_foreign_id_past_the_check(w: World, kind: str, trick: str) -> None:
    own, foreign = BATCHES[kind](w.other), BATCHES[kind](w.owner)
    encoded = "".join(f"%{ord(c):02X}" for c in foreign)
    path = SMUGGLED[trick].format(kind=kind, own=own, foreign=foreign, encoded=encoded)
    response = w.call("other", "GET", path)
    assert response.status_code in (400, 403), (response.status_code, response.text[:300])
    assert set(response.json()) == {"error", "message"}
    assert leaked(w.owner, response, named=path) == []


UNKNOWN = {
    "trips": "trip-99999999",
    "flights": "fl-99999999",
    "hotel-stays": "hs-99999999",
    "car-rentals": "cr-99999999",
}


@pytest.mark.parametrize("kind", list(UNKNOWN))
def test_unknown_ids_answer_as_the_monolith_does(w: World, kind: str) -> None:
    error_body(w.call("owner", "GET", f"/api/{kind}/{UNKNOWN[kind]}"), 404, "not_found")
    batch = f"/api/{kind}?ids={BATCHES[kind](w.owner)},{UNKNOWN[kind]}"
    response = w.call("owner", "GET", batch)
    assert (response.status_code, response.json()) == (200, w.direct(batch).json())
    assert len(response.json()["items"]) == 1
    for path in (f"/api/{kind}/{UNKNOWN[kind]}", batch, "/api/travelers/t-99999999"):
        agent = w.call("agent", "GET", path)
        direct = w.direct(path)
        assert (agent.status_code, agent.content) == (direct.status_code, direct.content)


def test_a_large_answer_streams_through_intact(w: World) -> None:
    for path in (
        f"/api/trips?ids={ids([f'trip-{n}' for n in range(1, 101)])}",
        f"/api/flights?ids={ids([f'fl-{n}' for n in range(1, 101)])}",
        f"/api/travelers/{w.owner.id}/trips?limit=100",
    ):
        response = w.call("agent", "GET", path)
        direct = w.direct(path)
        assert direct.status_code == 200 and len(direct.content) > 10_000
        assert (response.status_code, response.content) == (200, direct.content)
        check_headers(response)


def test_bookings_on_a_cancelled_trip_are_still_the_owners(w: World) -> None:
    cancelled = [t for t in w.owner.trips if t["status"] == "cancelled" and t["flight_ids"]]
    assert cancelled, "the seeded data has no cancelled trip with a flight for the owner"
    path = f"/api/flights/{cancelled[0]['flight_ids'][0]}"
    response = w.call("owner", "GET", path)
    assert (response.status_code, response.content) == (200, w.direct(path).content)


def test_ownership_reaches_past_the_first_hundred_trips(w: World) -> None:
    """A traveler with more trips than one page of /trips still owns the oldest one's
    bookings. The extra trips are booked at the monolith directly, by another of its
    clients, for a traveler no other test asks about."""
    traveler, flight = traveler_with_a_flight(w, exclude={w.owner.id, w.other.id})
    for n in range(100):
        body = new_trip(traveler, flights=[], stays=[], cars=[])
        body.update(title=f"Filler {n}", start_date="2031-01-01", end_date="2031-01-02")
        w.client.post(f"{w.legacy.url}/api/trips", json=body).raise_for_status()
    response = w.call_as(traveler, "GET", f"/api/flights/{flight}")
    assert (response.status_code, response.content) == (
        200,
        w.direct(f"/api/flights/{flight}").content,
    )
    batch = w.call_as(traveler, "GET", f"/api/flights?ids={flight}")
    assert batch.status_code == 200 and batch.json()["items"][0]["id"] == flight


def traveler_with_a_flight(w: World, *, exclude: set[str]) -> tuple[str, str]:
    """The last traveler (by id) with a flight, and the flight on their oldest trip."""
    for n in range(last_traveler_number(w), 0, -1):
        traveler = f"t-{n}"
        listing = w.direct(f"/api/travelers/{traveler}/trips?limit=100")
        if traveler in exclude or listing.status_code != 200:
            continue
        flown = [t for t in listing.json()["items"] if t["flight_ids"]]
        if flown:
            return traveler, str(flown[-1]["flight_ids"][0])
    raise AssertionError("no traveler in the stub's data has a flight")


def last_traveler_number(w: World) -> int:
    """The highest n for which the stub knows t-n, asked 100 ids at a time."""
    last, start = 0, 1
    while True:
        chunk = ids([f"t-{n}" for n in range(start, start + 100)])
        found = [int(t["id"][2:]) for t in w.direct(f"/api/travelers?ids={chunk}").json()["items"]]
        if not found:
            return last
        last, start = max(found), start + 100


def test_a_traveler_reads_a_hundred_of_their_own_trips_in_one_batch(w: World) -> None:
    mine = [t["id"] for t in w.owner.trips][:100]
    path = f"/api/trips?ids={ids(mine)}"
    response = w.call("owner", "GET", path)
    assert (response.status_code, response.content) == (200, w.direct(path).content)


def bad_authorization(traveler: str) -> dict[str, str]:
    """Authorization headers that must not pass for `traveler` (or for an agent)."""
    day_ago = time.time() - 86400
    expired = issue_dev_token(traveler, secret=SECRET, ttl_s=600, now=day_ago)
    return {
        "garbage": "Bearer not-a-jwt",
        "expired": f"Bearer {expired}",
        "wrong-secret": f"Bearer {issue_dev_token(traveler, secret='x' * 40)}",
        "agent-wrong-secret": f"Bearer {issue_dev_token(AGENT, role='agent', secret='y' * 40)}",
        "basic-scheme": "Basic dC0xOnNlY3JldA==",
        "bearer-without-token": "Bearer",
    }


@pytest.mark.parametrize("authorization", list(bad_authorization("t-0")))
def test_a_bad_token_is_401_and_forwards_nothing(w: World, authorization: str) -> None:
    path = f"/api/travelers/{w.owner.id}"
    headers = {"authorization": bad_authorization(w.owner.id)[authorization]}
    response = w.client.get(w.gateway.url + path, headers=headers)
    unauthenticated(response)
    assert leaked(w.owner, response, named=path) == []
    assert w.stats() == {}


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/nowhere"), ("DELETE", "/api/trips/{trip}")]
)
def test_an_api_path_with_no_rule_is_refused_not_forwarded(
    w: World, method: str, path: str
) -> None:
    path = path.format(trip=w.owner.main["id"])
    unauthenticated(w.call("anonymous", method, path))
    error_body(w.call("owner", method, path), 403, "forbidden")
    assert w.stats() == {}


# --- writes -----------------------------------------------------------------------------------


# A distinct booked trip of the owner's for each attempt to cancel one.
CANCELLER_TRIP = {caller: n for n, caller in enumerate((*CALLERS, "double-encoded"))}


@pytest.mark.parametrize("caller", CALLERS)
def test_cancel_the_owners_trip(w: World, caller: str) -> None:
    trip_id = w.owner.spares[CANCELLER_TRIP[caller]]
    path = f"/api/trips/{trip_id}/cancel"
    before, seq = w.direct(f"/api/trips/{trip_id}").json(), w.last_seq()
    assert before["status"] == "booked"
    response = w.call(caller, "POST", path)
    if caller in ("anonymous", "other"):
        if caller == "anonymous":
            unauthenticated(response)
        else:
            forbidden(response, w.owner, named=path)
        assert w.events_after(seq) == []
        assert w.direct(f"/api/trips/{trip_id}").json() == before
        assert "POST /api/trips/{id}/cancel" not in w.stats()
        return
    after = w.direct(f"/api/trips/{trip_id}").json()
    assert (response.status_code, response.json()) == (200, after)
    assert after == {**before, "status": "cancelled", "updated_at": after["updated_at"]}
    check_headers(response)
    events = w.events_after(seq)
    assert [(e["type"], e["id"], e["traveler_id"]) for e in events] == [
        ("TripCancelled", trip_id, w.owner.id)
    ]
    error_body(w.call(caller, "POST", path), 409, "conflict")  # as the monolith answers


def test_cancelling_an_unknown_trip_is_404_as_the_monolith_does(w: World) -> None:
    seq = w.last_seq()
    error_body(w.call("owner", "POST", "/api/trips/trip-99999999/cancel"), 404, "not_found")
    assert w.events_after(seq) == []


def new_trip(traveler: str, *, flights: list[str], stays: list[str], cars: list[str]) -> Json:
    return {
        "traveler_id": traveler,
        "title": "Passthrough e2e trip",
        "start_date": "2027-05-01",
        "end_date": "2027-05-04",
        "flight_ids": flights,
        "hotel_stay_ids": stays,
        "car_rental_ids": cars,
    }


# Requests that must book nothing: (caller, the body they send).
REFUSED_BOOKINGS: dict[str, tuple[str, Callable[[World], Json]]] = {
    "anonymous-for-owner": (
        "anonymous",
        lambda w: new_trip(w.owner.id, flights=[w.owner.flight], stays=[], cars=[]),
    ),
    "other-for-owner-with-owners-bookings": (
        "other",
        lambda w: new_trip(w.owner.id, flights=[w.owner.flight], stays=[w.owner.stay], cars=[]),
    ),
    "other-for-owner-without-bookings": (
        "other",
        lambda w: new_trip(w.owner.id, flights=[], stays=[], cars=[]),
    ),
    "other-for-self-with-owners-flight": (
        "other",
        lambda w: new_trip(w.other.id, flights=[w.owner.flight], stays=[], cars=[]),
    ),
    "other-for-self-own-flight-and-owners-stay": (
        "other",
        lambda w: new_trip(w.other.id, flights=[w.other.flight], stays=[w.owner.stay], cars=[]),
    ),
    "other-for-self-with-owners-car": (
        "other",
        lambda w: new_trip(w.other.id, flights=[], stays=[], cars=[w.owner.car]),
    ),
}


@pytest.mark.parametrize("case", list(REFUSED_BOOKINGS))
def test_booking_that_names_someone_elses_data_books_nothing(w: World, case: str) -> None:
    caller, build = REFUSED_BOOKINGS[case]
    body = build(w)
    listing = f"/api/travelers/{body['traveler_id']}/trips?limit=100"
    trips, seq = w.direct(listing).json(), w.last_seq()
    response = w.call(caller, "POST", "/api/trips", json=body)
    if caller == "anonymous":
        unauthenticated(response)
    else:
        forbidden(response, w.owner, named=json.dumps(body))
    assert w.events_after(seq) == []
    assert "POST /api/trips" not in w.stats()
    assert w.direct(listing).json() == trips


def raw_json(*pairs: tuple[str, Any]) -> bytes:
    """A JSON object with repeated keys kept: ("a", 1), ("a", 2) → b'{"a": 1, "a": 2}'."""
    return ("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}").encode()


def body_tricks(w: World) -> dict[str, tuple[bytes, dict[str, str]]]:
    """Bodies where a parser that differs from the monolith's (json.loads: the last of a
    repeated key wins, any content type, UTF-16 detected) would let a foreign id through."""
    as_json = {"content-type": "application/json"}
    own = list(new_trip(w.other.id, flights=[], stays=[], cars=[]).items())
    for_owner = json.dumps(new_trip(w.owner.id, flights=[], stays=[], cars=[]))
    escaped = "".join(f"\\u{ord(c):04x}" for c in w.owner.id)
    return {
        "repeated-traveler-key": (raw_json(*own, ("traveler_id", w.owner.id)), as_json),
        "repeated-flights-key": (raw_json(*own, ("flight_ids", [w.owner.flight])), as_json),
        "unicode-escaped-id": (
            for_owner.replace(f'"{w.owner.id}"', f'"{escaped}"').encode(),
            as_json,
        ),
        "text-plain": (for_owner.encode(), {"content-type": "text/plain"}),
        "no-content-type": (for_owner.encode(), {}),
        "utf-16": (for_owner.encode("utf-16"), as_json),
    }


TRICKS = (
    "repeated-traveler-key",
    "repeated-flights-key",
    "unicode-escaped-id",
    "text-plain",
    "no-content-type",
    "utf-16",
)


@pytest.mark.parametrize("trick", TRICKS)
def test_a_booking_body_cannot_smuggle_someone_elses_data(w: World, trick: str) -> None:
    content, headers = body_tricks(w)[trick]
    seq = w.last_seq()
    response = w.call("other", "POST", "/api/trips", content=content, headers=headers)
    assert response.status_code in (400, 403, 415, 422), (trick, response.text[:300])
    assert w.events_after(seq) == [], content
    named = f"{w.owner.id} {w.owner.flight}"  # what the tricks name, however spelled
    assert leaked(w.owner, response, named=named) == []


def test_a_streamed_booking_body_is_checked_too(w: World) -> None:
    raw = json.dumps(new_trip(w.owner.id, flights=[w.owner.flight], stays=[], cars=[])).encode()

    def chunks() -> Iterator[bytes]:  # Transfer-Encoding: chunked, no Content-Length
        yield from (raw[: len(raw) // 2], raw[len(raw) // 2 :])

    seq = w.last_seq()
    headers = {"content-type": "application/json"}
    response = w.call("other", "POST", "/api/trips", content=chunks(), headers=headers)
    forbidden(response, w.owner, named=raw.decode())
    assert w.events_after(seq) == []


def single_encoded(id: str) -> str:
    """t-1 → %74-1 (the same id, its first character percent-encoded)."""
    return f"%{ord(id[0]):02X}{id[1:]}"


def double_encoded(id: str) -> str:
    """t-1 → %2574-1, which decodes once to %74-1; only a second decoding gives t-1."""
    return f"%25{ord(id[0]):02X}{id[1:]}"


@pytest.mark.parametrize(
    "path",
    [
        "/api/travelers/{traveler}",
        "/api/travelers/{traveler}/trips",
        "/api/trips/{trip}",
        "/api/flights/{flight}",
        "/api/trips?ids={trip}",
        "/api/travelers?ids={traveler}",
    ],
)
def test_a_double_encoded_id_never_reaches_someone_elses_data(w: World, path: str) -> None:
    owner = w.owner
    target = path.format(
        traveler=double_encoded(owner.id),
        trip=double_encoded(owner.main["id"]),
        flight=double_encoded(owner.flight),
    )
    answer = raw_request(
        w.gateway.url, f"GET {target}", headers={"Authorization": f"Bearer {w.token('other')}"}
    )
    assert answer.status in (400, 403, 404) or answer.json() == {"items": []}, answer
    response = httpx.Response(answer.status, headers=answer.headers, content=answer.body)
    assert leaked(owner, response) == []


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/travelers/{traveler}"),
        ("GET", "/api/trips/{trip}"),
        ("GET", "/api/flights/{flight}"),
        ("POST", "/api/trips/{trip}/cancel"),
    ],
)
def test_a_percent_encoded_id_is_decided_as_decoded(w: World, method: str, path: str) -> None:
    """%74-1 is t-1 to the monolith, so it is t-1 to the access rules too."""
    owner = w.owner
    target = path.format(
        traveler=single_encoded(owner.id),
        trip=single_encoded(owner.main["id"]),
        flight=single_encoded(owner.flight),
    )
    seq = w.last_seq()
    answer = raw_request(
        w.gateway.url,
        f"{method} {target}",
        headers={"Authorization": f"Bearer {w.token('other')}"},
    )
    assert answer.status == 403, answer
    response = httpx.Response(answer.status, headers=answer.headers, content=answer.body)
    named = f"{owner.id} {owner.main['id']} {owner.flight}"  # an error may echo them decoded
    assert leaked(owner, response, named=named) == []
    assert w.events_after(seq) == []


def test_a_double_encoded_cancel_changes_nothing(w: World) -> None:
    trip_id = w.owner.spares[CANCELLER_TRIP["double-encoded"]]
    before, seq = w.direct(f"/api/trips/{trip_id}").json(), w.last_seq()
    assert before["status"] == "booked"
    answer = raw_request(
        w.gateway.url,
        f"POST /api/trips/{double_encoded(trip_id)}/cancel",
        headers={"Authorization": f"Bearer {w.token('other')}"},
    )
    assert answer.status in (400, 403, 404), answer
    assert w.events_after(seq) == []
    assert w.direct(f"/api/trips/{trip_id}").json() == before


@pytest.mark.parametrize("method", ["HEAD", "PUT", "PATCH"])
def test_other_methods_on_the_owners_trip_are_refused(w: World, method: str) -> None:
    path = f"/api/trips/{w.owner.main['id']}"
    refused = w.call("other", method, path)
    assert refused.status_code == 403, refused.text[:300]
    assert leaked(w.owner, refused, named=path) == []
    assert w.call("anonymous", method, path).status_code == 401


def assert_booked(w: World, response: httpx.Response, body: Json, seq: int) -> Json:
    assert response.status_code == 201, response.text[:300]
    trip: Json = response.json()
    assert trip == w.direct(f"/api/trips/{trip['id']}").json()
    expected = {**body, "id": trip["id"], "status": "booked", "updated_at": trip["updated_at"]}
    assert trip == expected
    events = w.events_after(seq)
    assert [(e["type"], e["id"], e["traveler_id"]) for e in events] == [
        ("TripBooked", trip["id"], body["traveler_id"])
    ]
    check_headers(response)
    return trip


def test_a_traveler_books_a_trip_with_their_own_bookings(w: World) -> None:
    own = w.owner
    body = new_trip(own.id, flights=[own.flight], stays=[own.stay], cars=[own.car])
    seq = w.last_seq()
    assert_booked(w, w.call("owner", "POST", "/api/trips", json=body), body, seq)


def test_an_agent_books_anyones_bookings_and_the_new_owner_may_then_read_them(w: World) -> None:
    """Booking ownership is cached per traveler; the new trip must reach that cache."""
    lent = w.other.bookings(w.other.lent)
    kind = {"fl": "flights", "hs": "hotel-stays", "cr": "car-rentals"}[lent[0].split("-")[0]]
    path = f"/api/{kind}/{lent[0]}"
    forbidden(w.call("owner", "GET", path), w.other, named=path)
    trip = w.other.lent
    body = new_trip(
        w.owner.id,
        flights=trip["flight_ids"],
        stays=trip["hotel_stay_ids"],
        cars=trip["car_rental_ids"],
    )
    seq = w.last_seq()
    assert_booked(w, w.call("agent", "POST", "/api/trips", json=body), body, seq)
    deadline = time.monotonic() + 5  # the feed is polled every second
    while (response := w.call("owner", "GET", path)).status_code != 200:
        assert time.monotonic() < deadline, (response.status_code, response.text[:300])
        time.sleep(0.2)
    assert response.json() == w.direct(path).json()
    assert w.call("other", "GET", path).status_code == 200  # still on the lender's trip too


# --- GraphQL bookTrip obeys the same rule -----------------------------------------------------

BOOK_TRIP = "mutation($in: BookTripInput!) { bookTrip(input: $in) { id flights { id } } }"


def book_trip(w: World, flights: list[str]) -> httpx.Response:
    variables = {
        "in": {
            "travelerId": w.owner.id,
            "title": "GraphQL e2e trip",
            "startDate": "2027-06-01",
            "endDate": "2027-06-02",
            "flightIds": flights,
        }
    }
    return w.call(
        "owner", "POST", "/graphql/web", json={"query": BOOK_TRIP, "variables": variables}
    )


def test_graphql_book_trip_refuses_a_booking_on_another_travelers_trip(w: World) -> None:
    seq = w.last_seq()
    refused = book_trip(w, [w.owner.flight, w.other.flight])
    codes = [e.get("extensions", {}).get("code") for e in refused.json().get("errors", [])]
    assert (codes, refused.json()["data"]) == (["FORBIDDEN"], None), refused.text[:300]
    assert leaked(w.other, refused, named=w.other.flight) == []
    assert w.events_after(seq) == []
    assert "POST /api/trips" not in w.stats()
    booked = book_trip(w, [w.owner.flight]).json()
    assert booked["data"]["bookTrip"]["flights"] == [{"id": w.owner.flight}], booked
    assert [e["type"] for e in w.events_after(seq)] == ["TripBooked"]


# --- request bodies ---------------------------------------------------------------------------


def too_large(response: httpx.Response) -> None:
    """413 with an error of the contract's shape (its code is the gateway's to choose)."""
    assert response.status_code == 413, (response.status_code, response.text[:300])
    error_body(response, 413, response.json()["error"])


def padded(body: Json, size: int) -> bytes:
    """`body` as JSON, padded with trailing spaces (still valid JSON) to exactly `size` bytes."""
    raw = httpx.Request("POST", "http://x", json=body).content
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


@pytest.fixture(scope="module")
def small(world: World) -> Iterator[Service]:
    """The world's gateway again, with a body limit of 1000 bytes."""
    env = {**world.env, "GATEWAY_MAX_BODY_BYTES": "1000"}
    gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        yield gateway
    finally:
        gateway.stop()


def agent_booking(w: World) -> Json:
    return new_trip(w.owner.id, flights=[w.owner.flight], stays=[], cars=[])


def test_a_body_over_the_limit_is_413_and_never_forwarded(w: World, small: Service) -> None:
    seq = w.last_seq()
    headers = {"content-type": "application/json"}
    over = padded(agent_booking(w), 1001)
    response = w.call("agent", "POST", "/api/trips", url=small.url, content=over, headers=headers)
    too_large(response)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        yield from (over[:500], over[500:], b" " * 1000)

    streamed = w.call(
        "agent", "POST", "/api/trips", url=small.url, content=chunks(), headers=headers
    )
    too_large(streamed)
    assert w.stats() == {}
    assert w.events_after(seq) == []


def test_a_body_at_the_limit_is_forwarded(w: World, small: Service) -> None:
    body = agent_booking(w)
    seq = w.last_seq()
    exact = padded(body, 1000)
    headers = {"content-type": "application/json"}
    response = w.call("agent", "POST", "/api/trips", url=small.url, content=exact, headers=headers)
    assert_booked(w, response, body, seq)


def test_the_default_limit_is_one_mebibyte(w: World) -> None:
    seq = w.last_seq()
    big = padded(agent_booking(w), MiB + MiB // 10)
    headers = {"content-type": "application/json"}
    response = w.call("agent", "POST", "/api/trips", content=big, headers=headers)
    too_large(response)
    assert w.stats() == {}
    assert w.events_after(seq) == []
