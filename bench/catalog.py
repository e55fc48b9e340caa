"""Every scenario of `make bench`, in run order (each baseline before what it is compared
with). Names are what `--only` takes.

Backend minimums: (a) needs the trips page, the traveler, one batch each of flights, hotel
stays and car rentals, and the exchange rates → 6. (b) needs the trip instead of the page,
then the same five → 6. The passthrough forwards one request → 1. The hand-written BFF
(bff-a, bff-b; bench/handwritten_bff.py) makes the same calls as the gateway.

(a), (b), their baseline c and the hand-written BFF's bff-a and bff-b send a rotation: one
request per traveler of `fixtures.rotation` (64 travelers, each with their own token and
variables), in the same order on every side, so concurrent requests rarely ask for the same
backend data and the gateway cannot share in-flight backend calls between them.

Baselines of issue 8 (REST passthrough): the stub served directly and a minimal aiohttp
reverse proxy (bench/minimal_proxy.py), with, as context, the gateway's own server and
client with nothing between them (bench/asgi_floor.py); of issue 9 (the GraphQL answer path): the
hand-written BFF. Targets that take a ratio of a second scenario name it (`Target.of`).

The caching scenarios (trips-cold/trips-warm, c-answer/answer-l1/answer-l2) send through
wrk's cycling script on both sides of each ratio (`count_sent`), so both pay the same
client-side Lua call per request and server counters can be divided by requests sent.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from bench.coldstart import ImportRatioScenario, LambdaFirstInvocationScenario
from bench.fixtures import (
    agent_token,
    flights_note,
    flights_request,
    gateway_answer,
    gateway_comparison_note,
    mobile_itinerary_rotation,
    public_request,
    token,
    trip_owner,
    web_trips_request,
    web_trips_rotation,
)
from bench.hostile import HostileBodyScenario
from bench.l2 import AnswerL2Scenario
from bench.load import LoadScenario
from bench.micro import PlannerMicroScenario, RouteSelectScenario, StagesScenario
from bench.request import HttpRequest
from bench.results import Target
from bench.scenario import Scenario
from bench.services import Stack

PASSTHROUGH_TRIP = "trip-1"
GATEWAY = ("stub", "gateway-aiohttp")
ROUTED = ("stub", "flights", "gateway-routes")  # the repository's routes.yaml
TAIL = Target("p99_over_p50", "<=", 3)  # issue 8: p99 ≤ 3 × p50 at 32 connections


def to_path(path: str, requests: Sequence[HttpRequest]) -> list[HttpRequest]:
    """The same requests, headers and bodies alike, sent to another endpoint."""
    return [HttpRequest(r.method, path, r.headers, r.body) for r in requests]


def baseline_rotation(stack: Stack) -> list[HttpRequest]:
    """(a)'s rotation sent to the bare endpoint (it answers one fixed body to all)."""
    return to_path("/answer", web_trips_rotation(stack))


def baseline_public_request(stack: Stack) -> HttpRequest:
    """The public query's request, headers and body alike, sent to the bare endpoint."""
    public = public_request(stack)
    return HttpRequest("POST", "/answer/public", public.headers, public.body)


def trip_request(stack: Stack) -> HttpRequest:
    """The plain route of issue 8, with an agent's token (no ownership to decide)."""
    headers = {"Authorization": f"Bearer {agent_token(stack)}"}
    return HttpRequest("GET", f"/api/trips/{PASSTHROUGH_TRIP}", headers)


def owner_trip_request(stack: Stack) -> HttpRequest:
    """The same, with the token of the trip's own traveler."""
    owner = trip_owner(stack, PASSTHROUGH_TRIP)
    headers = {"Authorization": f"Bearer {token(stack, owner)}"}
    return HttpRequest("GET", f"/api/trips/{PASSTHROUGH_TRIP}", headers)


def bff_web_rotation(stack: Stack) -> list[HttpRequest]:
    """(a)'s rotation sent to the hand-written BFF's endpoint."""
    return to_path("/web/trips", web_trips_rotation(stack))


def bff_mobile_rotation(stack: Stack) -> list[HttpRequest]:
    """(b)'s rotation sent to the hand-written BFF's endpoint."""
    return to_path("/mobile/itinerary", mobile_itinerary_rotation(stack))


def bff_web_check(stack: Stack, answer: httpx.Response) -> str:
    first = web_trips_rotation(stack)[0]
    return gateway_comparison_note(answer.content, lambda: gateway_answer(stack, first))


def bff_mobile_check(stack: Stack, answer: httpx.Response) -> str:
    first = mobile_itinerary_rotation(stack)[0]
    return gateway_comparison_note(answer.content, lambda: gateway_answer(stack, first))


def shadowed_flights_request(stack: Stack) -> HttpRequest:
    return flights_request(stack, canary=False)


def canaried_flights_request(stack: Stack) -> HttpRequest:
    return flights_request(stack, canary=True)


def shadowed_flights_check(stack: Stack, answer: httpx.Response) -> str:
    return flights_note(stack, answer, canary=False)


def canaried_flights_check(stack: Stack, answer: httpx.Response) -> str:
    return flights_note(stack, answer, canary=True)


SCENARIOS: Sequence[Scenario] = (
    LoadScenario(
        name="c",
        title="baseline: bare FastAPI endpoint, (a)'s rotation, fixed body of t-1's answer",
        service="baseline",
        request=baseline_rotation,
        needs=("baseline",),
    ),
    LoadScenario(
        name="bff-a",
        title="baseline: hand-written FastAPI + httpx (aiohttp transport) BFF, (a)'s rotation",
        service="bff",
        request=bff_web_rotation,
        needs=("stub", "bff"),
        baseline="c",
        targets=(Target("backend_requests", "==", 6),),
        counts_backend=True,
        check=bff_web_check,
    ),
    LoadScenario(
        name="bff-b",
        title="baseline: hand-written FastAPI + httpx (aiohttp transport) BFF, (b)'s rotation",
        service="bff",
        request=bff_mobile_rotation,
        needs=("stub", "bff"),
        baseline="c",
        targets=(Target("backend_requests", "==", 6),),
        counts_backend=True,
        check=bff_mobile_check,
    ),
    LoadScenario(
        name="a",
        title="web `trips(first: 20)`, full field set, 64 travelers in turn (aiohttp transport)",
        service="gateway-aiohttp",
        request=web_trips_rotation,
        needs=GATEWAY,
        baseline="c",
        targets=(
            Target("ratio", ">=", 0.35),
            Target("ratio", ">=", 0.8, of="bff-a"),
            Target("backend_requests", "==", 6),
        ),
        counts_backend=True,
    ),
    LoadScenario(
        name="a-httpcore",
        title="(a) with GATEWAY_HTTP_TRANSPORT=httpcore",
        service="gateway-httpcore",
        request=web_trips_rotation,
        needs=("stub", "gateway-httpcore"),
        baseline="c",
        targets=(Target("backend_requests", "==", 6),),
        counts_backend=True,
    ),
    LoadScenario(
        name="b",
        title="mobile `itinerary`, 64 travelers' trips with flights, stays and cars in turn",
        service="gateway-aiohttp",
        request=mobile_itinerary_rotation,
        needs=GATEWAY,
        baseline="c",
        targets=(Target("ratio", ">=", 0.8, of="bff-b"), Target("backend_requests", "==", 6)),
        counts_backend=True,
    ),
    LoadScenario(
        name="trips-cold",
        title="(a) for t-1 only, every CACHE_TTL_*=0, measured next to trips-warm",
        service="gateway-aiohttp",
        request=web_trips_request,
        needs=GATEWAY,
        baseline="c",
        counts_backend=True,
        count_sent=True,
        backend_over_run=True,
        x_cache="MISS",
    ),
    LoadScenario(
        name="trips-warm",
        title="(a) for t-1 only, cache on (default TTLs, L1 only), entity and trip-list cache warm",
        service="gateway-cached",
        request=web_trips_request,
        needs=("stub", "gateway-cached"),
        baseline="trips-cold",
        targets=(Target("ratio", ">=", 0.25, of="answer-l1"),),
        counts_backend=True,
        count_sent=True,
        backend_over_run=True,
        x_cache="HIT-L1",
    ),
    LoadScenario(
        name="c-answer",
        title="baseline: bare FastAPI endpoint, fixed JSON body the size of the public answer",
        service="baseline",
        request=baseline_public_request,
        needs=("baseline",),
        count_sent=True,
    ),
    LoadScenario(
        name="answer-l1",
        title="public `topDestinations(limit: 10)`, whole answer from L1 (default TTLs)",
        service="gateway-redis",
        request=public_request,
        needs=("stub", "redis", "gateway-redis"),
        baseline="c-answer",
        targets=(Target("ratio", ">=", 0.85),),
        count_sent=True,
        x_cache="HIT-L1",
        redis_quiet=True,
    ),
    AnswerL2Scenario(),
    LoadScenario(
        name="rest-direct",
        title=f"monolith stub directly, GET /api/trips/{PASSTHROUGH_TRIP}",
        service="stub",
        request=trip_request,
        needs=("stub",),
    ),
    LoadScenario(
        name="rest-proxy",
        title=f"baseline: minimal aiohttp reverse proxy, GET /api/trips/{PASSTHROUGH_TRIP}",
        service="proxy",
        request=trip_request,
        needs=("stub", "proxy"),
        baseline="rest-direct",
        targets=(Target("backend_requests", "==", 1),),
        counts_backend=True,
    ),
    LoadScenario(
        name="rest-asgi-floor",
        title="context: the gateway's server and client with nothing between (bench/asgi_floor.py)",
        service="asgi-floor",
        request=trip_request,
        needs=("stub", "asgi-floor"),
        baseline="rest-direct",
        targets=(Target("backend_requests", "==", 1),),
        counts_backend=True,
    ),
    LoadScenario(
        name="rest-passthrough",
        title=f"REST passthrough through the gateway, GET /api/trips/{PASSTHROUGH_TRIP}, agent",
        service="gateway-aiohttp",
        request=trip_request,
        needs=GATEWAY,
        baseline="rest-direct",
        targets=(
            Target("ratio", ">=", 0.4),
            Target("ratio", ">=", 0.8, of="rest-proxy"),
            TAIL,
            Target("backend_requests", "==", 1),
        ),
        counts_backend=True,
    ),
    LoadScenario(
        name="rest-passthrough-owner",
        title="(rest-passthrough) with the token of the trip's own traveler",
        service="gateway-aiohttp",
        request=owner_trip_request,
        needs=GATEWAY,
        baseline="rest-direct",
        counts_backend=True,
    ),
    LoadScenario(
        name="rest-passthrough-httpcore",
        title="(rest-passthrough) with GATEWAY_HTTP_TRANSPORT=httpcore",
        service="gateway-httpcore",
        request=trip_request,
        needs=("stub", "gateway-httpcore"),
        baseline="rest-direct",
        targets=(Target("backend_requests", "==", 1),),
        counts_backend=True,
    ),
    LoadScenario(
        name="flights-direct",
        title="monolith stub directly, GET /api/flights?ids= (5 flights of one traveler)",
        service="stub",
        request=shadowed_flights_request,
        needs=("stub",),
    ),
    LoadScenario(
        name="flights-shadow",
        title="(flights-direct) through the gateway, repository's routes.yaml: legacy + shadow",
        service="gateway-routes",
        request=shadowed_flights_request,
        needs=ROUTED,
        baseline="flights-direct",
        targets=(Target("ratio", ">=", 0.25), TAIL),
        counts_backend=True,
        check=shadowed_flights_check,
    ),
    LoadScenario(
        name="flights-canary",
        title="the same for a traveler in the canary: the flights service answers",
        service="gateway-routes",
        request=canaried_flights_request,
        needs=ROUTED,
        baseline="flights-direct",
        targets=(Target("ratio", ">=", 0.25), TAIL),
        counts_backend=True,
        check=canaried_flights_check,
    ),
    RouteSelectScenario(),
    PlannerMicroScenario(),
    StagesScenario(),
    HostileBodyScenario(),
    ImportRatioScenario(),
    LambdaFirstInvocationScenario(),
)

# Scenarios reported in a block of their own (a `Table`, not a row of the results table):
# a run that includes one rewrites its block, whatever else ran (bench/__main__.write_doc).
OWN_BLOCKS = frozenset({"stages"})

# Pairs worth a sentence of their own: (faster candidate, slower candidate, what differs).
COMPARISONS: Sequence[tuple[str, str, str]] = (
    ("a", "bff-a", "gateway over the hand-written BFF, web trips page (a)"),
    ("b", "bff-b", "gateway over the hand-written BFF, mobile itinerary (b)"),
    ("a", "a-httpcore", "aiohttp transport over httpcore transport, query (a)"),
    ("rest-passthrough", "rest-passthrough-httpcore", "aiohttp over httpcore, passthrough"),
    ("b", "a", "mobile itinerary over web trips page"),
    ("trips-warm", "trips-cold", "entity + trip-list cache warm over cache off, query (a)"),
    ("trips-warm", "answer-l1", "entity + trip-list cache warm over a whole-answer L1 hit"),
    ("answer-l2", "c-answer", "whole answer from Redis over the bare endpoint"),
    ("rest-passthrough", "rest-proxy", "gateway passthrough over the minimal aiohttp proxy"),
    ("rest-proxy", "rest-direct", "minimal aiohttp proxy over the stub directly"),
    ("rest-passthrough", "rest-asgi-floor", "gateway passthrough over its server + client alone"),
    ("rest-asgi-floor", "rest-proxy", "the gateway's server + client alone over the minimal proxy"),
    ("rest-passthrough-owner", "rest-passthrough", "traveler's own token over an agent's"),
    ("flights-shadow", "flights-direct", "shadowed flights batch over the stub directly"),
    ("flights-canary", "flights-shadow", "canaried traveler over shadowed traveler"),
)


def select(names: Sequence[str] | None) -> list[Scenario]:
    """The scenarios named (in catalog order), or all; ValueError lists the valid names."""
    if not names:
        return list(SCENARIOS)
    known = [scenario.name for scenario in SCENARIOS]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [scenario for scenario in SCENARIOS if scenario.name in names]
