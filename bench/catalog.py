"""Every scenario of `make bench`, in run order (each baseline before what it is compared
with). Names are what `--only` takes.

Backend minimums: (a) needs the trips page, the traveler, one batch each of flights, hotel
stays and car rentals, and the exchange rates → 6. (b) needs the trip instead of the page,
then the same five → 6. The passthrough forwards one request → 1.

The caching scenarios (trips-cold/trips-warm, c-answer/answer-l1/answer-l2) send through
wrk's cycling script on both sides of each ratio (`count_sent`), so both pay the same
client-side Lua call per request and server counters can be divided by requests sent.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.coldstart import ImportRatioScenario, LambdaFirstInvocationScenario
from bench.fixtures import (
    mobile_itinerary_request,
    public_request,
    token,
    trip_owner,
    web_trips_request,
)
from bench.l2 import AnswerL2Scenario
from bench.load import LoadScenario
from bench.micro import RouteSelectScenario
from bench.request import HttpRequest
from bench.results import Target
from bench.scenario import Scenario
from bench.services import Stack

PASSTHROUGH_TRIP = "trip-1"
GATEWAY = ("stub", "gateway-aiohttp")


def baseline_request(stack: Stack) -> HttpRequest:
    """(a)'s request, headers and body alike, sent to the bare endpoint."""
    web = web_trips_request(stack)
    return HttpRequest("POST", "/answer", web.headers, web.body)


def baseline_public_request(stack: Stack) -> HttpRequest:
    """The public query's request, headers and body alike, sent to the bare endpoint."""
    public = public_request(stack)
    return HttpRequest("POST", "/answer/public", public.headers, public.body)


def trip_request(stack: Stack) -> HttpRequest:
    owner = trip_owner(stack, PASSTHROUGH_TRIP)
    headers = {"Authorization": f"Bearer {token(stack, owner)}"}
    return HttpRequest("GET", f"/api/trips/{PASSTHROUGH_TRIP}", headers)


SCENARIOS: Sequence[Scenario] = (
    LoadScenario(
        name="c",
        title="baseline: bare FastAPI endpoint, fixed JSON body the size of (a)'s answer",
        service="baseline",
        request=baseline_request,
        needs=("baseline",),
    ),
    LoadScenario(
        name="a",
        title="web `trips(first: 20)`, full field set (aiohttp transport)",
        service="gateway-aiohttp",
        request=web_trips_request,
        needs=GATEWAY,
        baseline="c",
        targets=(Target("ratio", ">=", 0.35), Target("backend_requests", "==", 6)),
        counts_backend=True,
    ),
    LoadScenario(
        name="a-httpcore",
        title="(a) with GATEWAY_HTTP_TRANSPORT=httpcore",
        service="gateway-httpcore",
        request=web_trips_request,
        needs=("stub", "gateway-httpcore"),
        baseline="c",
        targets=(Target("backend_requests", "==", 6),),
        counts_backend=True,
    ),
    LoadScenario(
        name="b",
        title="mobile `itinerary` of a trip with flights, stays and cars",
        service="gateway-aiohttp",
        request=mobile_itinerary_request,
        needs=GATEWAY,
        baseline="c",
        targets=(Target("backend_requests", "==", 6),),
        counts_backend=True,
    ),
    LoadScenario(
        name="trips-cold",
        title="(a) again, every CACHE_TTL_*=0, measured next to trips-warm",
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
        title="(a) with the cache on (default TTLs, L1 only), entity and trip-list cache warm",
        service="gateway-cached",
        request=web_trips_request,
        needs=("stub", "gateway-cached"),
        baseline="trips-cold",
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
        name="rest-passthrough",
        title=f"REST passthrough through the gateway, GET /api/trips/{PASSTHROUGH_TRIP}",
        service="gateway-aiohttp",
        request=trip_request,
        needs=GATEWAY,
        baseline="rest-direct",
        targets=(Target("ratio", ">=", 0.5), Target("backend_requests", "==", 1)),
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
    RouteSelectScenario(),
    ImportRatioScenario(),
    LambdaFirstInvocationScenario(),
)

# Pairs worth a sentence of their own: (faster candidate, slower candidate, what differs).
COMPARISONS: Sequence[tuple[str, str, str]] = (
    ("a", "a-httpcore", "aiohttp transport over httpcore transport, query (a)"),
    ("rest-passthrough", "rest-passthrough-httpcore", "aiohttp over httpcore, passthrough"),
    ("b", "a", "mobile itinerary over web trips page"),
    ("trips-warm", "trips-cold", "entity + trip-list cache warm over cache off, query (a)"),
    ("answer-l2", "c-answer", "whole answer from Redis over the bare endpoint"),
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
