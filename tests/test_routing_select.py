"""RouteTable.select: canaries and their stickiness, the QA override header, shadow decisions."""

import textwrap
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.routing.errors import RoutesError
from gateway.routing.select import Caller, RouteDecision, RouteRequest, sticky_bucket
from gateway.routing.table import Backend, RouteTable, parse_table

LEGACY = Backend("legacy", "http://legacy", 3.0)
FLIGHTS = Backend("flights", "http://flights", 2.0)
TRAVELERS = [f"t-{number}" for number in range(1, 1001)]


def table_with(route: str) -> RouteTable:
    """A table whose one route is routes[0] on /api/flights (YAML for the route's own keys)."""
    text = textwrap.dedent("""\
        version: 1
        backends:
          legacy: {url: "http://legacy", timeout_ms: 3000}
          flights: {url: "http://flights", timeout_ms: 2000}
        default: legacy
        routes:
          - path: /api/flights
        """) + textwrap.indent(textwrap.dedent(route), "    ")
    return parse_table(text, source="t.yaml", env={})


def canary(percent: int, sticky: str = "traveler") -> RouteTable:
    return table_with(f"""\
        target: legacy
        canary: {{target: flights, percent: {percent}, sticky: "{sticky}"}}
    """)


def rolls(*values: float) -> Iterator[float]:
    return iter(values)


def never() -> float:
    raise AssertionError("no random roll expected")


def moved(table: RouteTable, travelers: list[str]) -> set[str]:
    return {
        traveler
        for traveler in travelers
        if table.select(
            RouteRequest("GET", "/api/flights", Caller(traveler_id=traveler)), roll=never
        ).backend.name
        == "flights"
    }


# --- a plain route and the default ----------------------------------------------------------


def test_a_plain_route_decides_with_a_reason() -> None:
    table = table_with("methods: [GET]\ntarget: flights\n")
    assert table.select(RouteRequest("GET", "/api/flights?ids=fl-1"), roll=never) == RouteDecision(
        backend=FLIGHTS,
        route=table.routes[0],
        route_key="GET /api/flights",
        reason="route routes[0] GET /api/flights → flights",
        shadow=None,
        shadow_ignore=(),
    )


def test_an_unrouted_endpoint_goes_to_the_default() -> None:
    table = table_with("methods: [GET]\ntarget: flights\n")
    assert table.select(RouteRequest("POST", "/api/flights"), roll=never) == RouteDecision(
        backend=LEGACY,
        route=None,
        route_key="default",
        reason="no route matches POST /api/flights: default → legacy",
    )


# --- canary ---------------------------------------------------------------------------------


def test_canary_zero_moves_nobody_and_hundred_moves_everyone() -> None:
    assert moved(canary(0), TRAVELERS) == set()
    assert moved(canary(100), TRAVELERS) == set(TRAVELERS)


def test_canary_25_moves_about_a_quarter() -> None:
    # Buckets of sha256 are as good as uniform, so the count is Binomial(1000, 0.25):
    # mean 250, standard deviation sqrt(1000 * 0.25 * 0.75) ≈ 13.7. The hash is fixed, so
    # the result is too; ±4 sd (195..305) only guards against a skewed bucket function.
    assert 195 <= len(moved(canary(25), TRAVELERS)) <= 305


def test_canary_is_sticky_as_the_percent_grows() -> None:
    at_10, at_25, at_50 = (moved(canary(p), TRAVELERS) for p in (10, 25, 50))
    assert at_10 <= at_25 <= at_50
    assert len(at_10) < len(at_25) < len(at_50)
    # ...and the same traveler always gets the same answer.
    assert moved(canary(25), TRAVELERS) == at_25


def test_sticky_bucket_is_stable_across_runs() -> None:
    # Fixed values (sha256, not hash()): a change here would reshuffle every running canary.
    assert [sticky_bucket(t) for t in ("t-1", "t-2", "t-3", "10.0.0.1")] == [10, 58, 96, 58]
    assert all(0 <= sticky_bucket(t) < 100 for t in TRAVELERS)


def test_canary_reason_says_bucket_and_verdict() -> None:
    table = canary(25)
    inside = table.select(
        RouteRequest("GET", "/api/flights", Caller(traveler_id="t-1")), roll=never
    )
    outside = table.select(
        RouteRequest("GET", "/api/flights", Caller(traveler_id="t-2")), roll=never
    )
    assert (inside.backend, inside.reason) == (
        FLIGHTS,
        "route routes[0] * /api/flights: canary 25% (traveler bucket 10 < 25) → flights",
    )
    assert (outside.backend, outside.reason) == (
        LEGACY,
        "route routes[0] * /api/flights: canary 25% (traveler bucket 58 ≥ 25, stays) → legacy",
    )


def test_without_traveler_the_client_address_decides() -> None:
    table = canary(25)
    request = RouteRequest("GET", "/api/flights", Caller(client_addr="203.0.113.9"))
    decision = table.select(request, roll=never)
    bucket = sticky_bucket("203.0.113.9")
    assert decision.backend == (FLIGHTS if bucket < 25 else LEGACY)
    assert f"no traveler id; client address bucket {bucket}" in decision.reason


def test_without_traveler_or_address_it_rolls() -> None:
    table = canary(25)
    low = table.select(RouteRequest("GET", "/api/flights"), roll=rolls(0.1).__next__)
    high = table.select(RouteRequest("GET", "/api/flights"), roll=rolls(0.9).__next__)
    assert (low.backend, high.backend) == (FLIGHTS, LEGACY)
    assert "no traveler id or client address; random roll 10 < 25" in low.reason


def test_header_sticky_hashes_the_header_value() -> None:
    table = canary(50, "header:X-Canary-Key")
    assert table.routes[0].canary is not None
    assert table.routes[0].canary.sticky == "header:x-canary-key"
    keys = [f"k{n}" for n in range(200)]
    picked = {
        key
        for key in keys
        if table.select(
            RouteRequest(
                "GET", "/api/flights", Caller(traveler_id="t-1", headers={"x-canary-key": key})
            ),
            roll=never,
        ).backend
        == FLIGHTS
    }
    assert picked == {key for key in keys if sticky_bucket(key) < 50}


def test_cookie_sticky_hashes_the_cookie_and_falls_back_to_the_address() -> None:
    table = canary(50, "cookie:session")
    with_cookie = RouteRequest(
        "GET", "/api/flights", Caller(cookies={"session": "s-1"}, client_addr="a")
    )
    without = RouteRequest("GET", "/api/flights", Caller(cookies={"other": "x"}, client_addr="a"))
    assert f"cookie session bucket {sticky_bucket('s-1')}" in table.select(with_cookie).reason
    assert f"no cookie session; client address bucket {sticky_bucket('a')}" in (
        table.select(without).reason
    )


def test_random_sticky_rolls_every_request() -> None:
    table = canary(30, "random")
    draws = rolls(0.29, 0.30, 0.0, 0.999)
    request = RouteRequest("GET", "/api/flights", Caller(traveler_id="t-2"))
    names = [table.select(request, roll=draws.__next__).backend.name for _ in range(4)]
    assert names == ["flights", "legacy", "flights", "legacy"]


# --- the QA override header -----------------------------------------------------------------


def override(role: str | None, target: str) -> RouteDecision:
    table = canary(0)
    request = RouteRequest(
        "GET",
        "/api/flights",
        Caller(traveler_id="t-1", role=role, headers={"x-route-target": target}),
    )
    return table.select(request, roll=never)


def test_agents_may_pick_the_backend() -> None:
    decision = override("agent", "flights")
    assert (decision.backend, decision.route_key, decision.shadow) == (
        FLIGHTS,
        "* /api/flights",
        None,
    )
    assert decision.reason == (
        "X-Route-Target from an agent → flights (instead of route routes[0] * /api/flights)"
    )


def test_travelers_cannot_pick_the_backend() -> None:
    decision = override("traveler", "flights")
    assert decision.backend == LEGACY
    assert decision.reason.endswith("; X-Route-Target ignored (role traveler is not agent)")
    assert override(None, "flights").reason.endswith("(role none is not agent)")


def test_an_unknown_backend_in_the_header_is_ignored() -> None:
    decision = override("agent", "hotels")
    assert decision.backend == LEGACY
    assert decision.reason.endswith(
        "; X-Route-Target ignored ('hotels' is not a backend: flights, legacy)"
    )


def test_the_override_applies_to_unrouted_endpoints_too() -> None:
    table = canary(0)
    request = RouteRequest(
        "GET", "/api/fx", Caller(role="agent", headers={"x-route-target": "flights"})
    )
    decision = table.select(request, roll=never)
    assert (decision.backend, decision.route, decision.route_key) == (FLIGHTS, None, "default")
    assert decision.reason.endswith("(instead of the default)")


# --- shadow ---------------------------------------------------------------------------------

SHADOWED = """\
    target: legacy
    shadow: {target: flights, percent: PERCENT, ignore: ["$.updated_at", "$..etag"]}
"""


@pytest.mark.parametrize(
    ("method", "percent", "draws", "shadow", "reason"),
    [
        ("GET", 100, (), FLIGHTS, "; shadow 100% → flights"),
        ("GET", 40, (0.39,), FLIGHTS, "; shadow 40% → flights"),
        ("GET", 40, (0.40,), None, "; shadow 40% skipped (roll 40 ≥ 40)"),
        ("GET", 0, (), None, "; shadow 0% skipped (roll 0 ≥ 0)"),
        ("POST", 100, (), None, "; no shadow (only GET is copied)"),
        ("HEAD", 100, (), None, "; no shadow (only GET is copied)"),
    ],
)
def test_shadow_decision(
    method: str, percent: int, draws: tuple[float, ...], shadow: Backend | None, reason: str
) -> None:
    table = table_with(SHADOWED.replace("PERCENT", str(percent)))
    decision = table.select(RouteRequest(method, "/api/flights"), roll=rolls(*draws).__next__)
    assert decision == RouteDecision(
        backend=LEGACY,
        route=table.routes[0],
        route_key="* /api/flights",
        reason=f"route routes[0] * /api/flights → legacy{reason}",
        shadow=shadow,
        shadow_ignore=("$.updated_at", "$..etag") if shadow else (),
    )


def test_no_shadow_when_the_canary_already_sent_it_to_the_shadow_target() -> None:
    table = table_with("""\
        target: legacy
        canary: {target: flights, percent: 100}
        shadow: {target: flights}
    """)
    decision = table.select(
        RouteRequest("GET", "/api/flights", Caller(traveler_id="t-1")), roll=never
    )
    assert (decision.backend, decision.shadow, decision.shadow_ignore) == (FLIGHTS, None, ())
    assert decision.reason.endswith("; no shadow (primary is already flights)")


def test_a_migrated_route_can_shadow_back_to_legacy() -> None:
    table = table_with("target: flights\nshadow: {target: legacy}\n")
    decision = table.select(RouteRequest("GET", "/api/flights"), roll=never)
    assert (decision.backend, decision.shadow) == (FLIGHTS, LEGACY)


# -- the route index: the same answer as trying every route ---------------------------------

SEGMENTS = st.sampled_from(["api", "trips", "flights", "travelers", "x", "t-1", "", "cancel"])
TEMPLATE_PARTS = st.sampled_from(["api", "trips", "flights", "x", "{id}", "cancel"])


@st.composite
def tables(draw: st.DrawFn) -> RouteTable:
    entries = []
    for _ in range(draw(st.integers(1, 8))):
        parts = draw(st.lists(TEMPLATE_PARTS, min_size=0, max_size=4))
        named = [f"{{p{n}}}" if part == "{id}" else part for n, part in enumerate(parts)]
        path = "/" + "/".join(named)
        if draw(st.booleans()):
            path = path.rstrip("/") + "/**"
        methods = draw(st.sampled_from(["", "    methods: [GET]\n", "    methods: [POST]\n"]))
        entries.append(
            f"  - path: {path if path != '/' else '/api'}\n{methods}    target: legacy\n"
        )
    text = "version: 1\nbackends:\n  legacy: {url: 'http://l'}\ndefault: legacy\nroutes:\n"
    try:
        return parse_table(text + "".join(entries), source="t.yaml", env={})
    except RoutesError:
        return parse_table(text.replace("routes:\n", ""), source="t.yaml", env={})


@given(tables(), st.sampled_from(["GET", "POST"]), st.lists(SEGMENTS, max_size=5))
def test_the_index_finds_the_route_that_trying_every_route_finds(
    table: RouteTable, method: str, segments: list[str]
) -> None:
    path = "/" + "/".join(segments)
    every = [route for route in table.routes if route.matches(method, path)]
    expected = max(every, key=lambda r: (r.template.specificity, -r.index), default=None)
    assert table.match(method, path) == expected
