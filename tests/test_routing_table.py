"""parse_table: the file format, every validation error (with its line), env expansion,
template specificity and `match`."""

import textwrap
from pathlib import Path

import pytest

from gateway.routing.errors import Problem, RoutesError
from gateway.routing.ledger import CONTRACT_ENDPOINTS
from gateway.routing.table import (
    Backend,
    Canary,
    Route,
    RouteTable,
    Shadow,
    default_table,
    load_table,
    parse_table,
)

ENV = {"LEGACY_URL": "http://legacy:8000", "FLIGHTS_URL": "http://flights:8001/"}

HEADER = """\
version: 1
backends:
  legacy:  {url: "${LEGACY_URL}", timeout_ms: 3000}
  flights: {url: "${FLIGHTS_URL}", timeout_ms: 2000}
default: legacy
"""


def table_of(routes: str, *, env: dict[str, str] = ENV) -> RouteTable:
    """A table with the two usual backends and these routes (YAML, indented by 2)."""
    return parse_table(HEADER + "routes:\n" + textwrap.dedent(routes), source="t.yaml", env=env)


def problems_of(text: str, *, env: dict[str, str] = ENV) -> list[str]:
    with pytest.raises(RoutesError) as caught:
        parse_table(textwrap.dedent(text), source="routes.yaml", env=env)
    return [str(problem) for problem in caught.value.problems]


def route_problems(routes: str) -> list[str]:
    return problems_of(HEADER + "routes:\n" + textwrap.dedent(routes))


def test_the_committed_routes_file_parses_to_the_documented_table() -> None:
    table = load_table(Path(__file__).parent.parent / "routes.yaml", env=ENV)
    assert dict(table.backends) == {
        "legacy": Backend("legacy", "http://legacy:8000", 3.0),
        "flights": Backend("flights", "http://flights:8001", 2.0),
    }
    assert table.default == "legacy"
    flights = [(r.index, r.path, r.methods, r.target, r.canary, r.shadow) for r in table.routes]
    assert flights[:2] == [
        (0, "/api/flights/{id}", frozenset({"GET"}), "flights", None, None),
        (
            1,
            "/api/flights",
            frozenset({"GET"}),
            "legacy",
            Canary("flights", 25, "traveler"),
            Shadow("flights", 100, ("$.updated_at",)),
        ),
    ]
    # The rest: every other endpoint of the contract, still on legacy, with its access rule.
    rest = {(r.key, r.target, r.canary, r.shadow) for r in table.routes[2:]}
    assert rest == {
        (f"{method} {path}", "legacy", None, None)
        for method, path in CONTRACT_ENDPOINTS
        if not path.startswith("/api/flights")
    }


def test_a_minimal_file_gives_defaults_for_optional_keys() -> None:
    table = parse_table(
        textwrap.dedent("""\
            version: 1
            backends:
              legacy: {url: "http://legacy"}
              flights: {url: "https://flights.internal:8443/base/"}
            default: legacy
            routes:
              - path: /api/trips/**
                target: flights
                canary: {target: legacy, percent: 5}
                shadow: {target: legacy}
        """),
        source="min.yaml",
        env={},
    )
    assert table == RouteTable(
        version=table.version,
        source="min.yaml",
        backends={
            "legacy": Backend("legacy", "http://legacy", 3.0),
            "flights": Backend("flights", "https://flights.internal:8443/base", 3.0),
        },
        default="legacy",
        routes=(
            Route(
                index=0,
                path="/api/trips/**",
                methods=None,
                target="flights",
                canary=Canary("legacy", 5, "traveler"),
                shadow=Shadow("legacy", 100, ()),
                line=7,
            ),
        ),
    )
    assert table.routes[0].key == "* /api/trips/**"


def test_version_is_a_short_hash_of_the_expanded_file() -> None:
    first = table_of("  - {path: /api/fx, target: flights}\n")
    same = table_of("  - {path: /api/fx, target: flights}\n")
    other_env = table_of(
        "  - {path: /api/fx, target: flights}\n", env={**ENV, "FLIGHTS_URL": "http://f2"}
    )
    assert len(first.version) == 12
    assert first.version == same.version
    assert other_env.version != first.version


def test_no_routes_key_sends_everything_to_the_default() -> None:
    table = parse_table(HEADER, source="t.yaml", env=ENV)
    assert table.routes == ()
    assert table.match("GET", "/api/flights/fl-1") is None


# --- templates, specificity, methods ------------------------------------------------------

SPECIFICITY = """\
  - {path: /api/**, target: legacy}
  - {path: /api/flights/**, target: flights}
  - {path: "/api/flights/{id}", target: legacy}
  - {path: "/api/flights/{id}/seats", target: flights}
  - {path: /api/flights/special, target: legacy}
  - {path: "/api/{kind}/special", target: flights}
  - {path: /api/flights, target: flights}
"""


@pytest.mark.parametrize(
    ("path", "index"),
    [
        ("/api/flights/fl-1", 2),  # {param} beats /**
        ("/api/flights/special", 4),  # a literal beats {param}
        ("/api/flights/fl-1/seats", 3),
        ("/api/flights/fl-1/seats/3", 1),  # only /** takes three segments after /api/flights
        ("/api/flights", 6),  # an exact end beats /** matching nothing
        ("/api/hotel-stays/special", 5),  # {kind} at position 2 beats /** there
        ("/api/hotel-stays/hs-1", 0),
        ("/api", 0),  # /** matches zero segments too
        ("/api/flights/fl-1?fields=seat", 2),  # the query plays no part
    ],
)
def test_the_most_specific_template_wins(path: str, index: int) -> None:
    route = table_of(SPECIFICITY).match("GET", path)
    assert route is not None
    assert route.index == index


@pytest.mark.parametrize("path", ["/", "/apix", "/other/api/flights", "/api/flights/"])
def test_paths_outside_every_template_match_nothing(path: str) -> None:
    table = table_of(
        "  - {path: '/api/flights/{id}', target: flights}\n  - {path: /api, target: flights}\n"
    )
    assert table.match("GET", path) is None


def test_segments_are_compared_from_the_left() -> None:
    table = table_of("""\
      - {path: "/api/trips/{id}", methods: [GET], target: flights}
      - {path: "/api/{kind}/t-1", methods: [GET], target: legacy}
      - {path: "/api/trips/{trip}", methods: [POST], target: flights}
    """)
    # Compared left to right: "trips" (a literal) beats {kind} before t-1 is looked at.
    assert table.match("GET", "/api/trips/t-1") == table.routes[0]
    assert table.match("POST", "/api/trips/t-1") == table.routes[2]


def test_equal_specificity_picks_the_earlier_entry() -> None:
    table = table_of("""\
      - {path: "/api/{a}/x", methods: [GET, POST], target: flights}
      - {path: "/api/{b}/x", methods: [GET, DELETE], target: legacy}
    """)
    assert table.match("GET", "/api/q/x") == table.routes[0]
    assert table.match("DELETE", "/api/q/x") == table.routes[1]


def test_methods_default_to_all_and_filter_otherwise() -> None:
    table = table_of("""\
      - {path: "/api/trips/{id}", methods: [get, post], target: flights}
      - {path: /api/trips/**, target: flights}
    """)
    assert table.routes[0].methods == frozenset({"GET", "POST"})
    assert table.routes[0].key == "GET,POST /api/trips/{id}"
    assert table.match("get", "/api/trips/t-1") == table.routes[0]
    assert table.match("DELETE", "/api/trips/t-1") == table.routes[1]
    assert table.match("PATCH", "/api/trips") == table.routes[1]


# --- env expansion ------------------------------------------------------------------------


def test_variables_expand_and_plain_values_are_typed_after_expansion() -> None:
    table = table_of(
        """\
      - path: /api/flights
        target: legacy
        canary:
          target: flights
          percent: ${CANARY_PERCENT}
          sticky: header:${STICKY}
    """,
        env={**ENV, "CANARY_PERCENT": "40", "STICKY": "X-Canary"},
    )
    assert table.backends["legacy"].url == "http://legacy:8000"
    assert table.routes[0].canary == Canary("flights", 40, "header:x-canary")


def test_an_unset_variable_is_an_error_naming_it_once_per_place() -> None:
    assert problems_of(HEADER, env={"LEGACY_URL": "http://l"}) == [
        "routes.yaml:4: backends.flights: url uses ${FLIGHTS_URL}, which is not set; "
        "set FLIGHTS_URL in the environment",
    ]


def test_a_variable_in_a_comment_is_not_expanded() -> None:
    table = parse_table("# uses ${NOT_SET}\n" + HEADER, source="t.yaml", env=ENV)
    assert table.default == "legacy"


# --- validation: every problem, with file, line, entry and fix ------------------------------


def test_the_spec_example_message() -> None:
    assert route_problems("""\
      - path: /api/flights/{id}
        target: flights
      - path: /api/flights
        target: legacy
        canary: {target: flights, percent: 120}
    """) == [
        "routes.yaml:11: routes[1] (/api/flights): canary.percent 120 is outside 0-100; "
        "use a whole number from 0 to 100"
    ]


def test_routes_error_carries_the_first_problem_and_reads_as_one_line() -> None:
    with pytest.raises(RoutesError) as caught:
        parse_table("version: 3\ncolour: red\n", source="r.yaml", env={})
    error = caught.value
    assert (error.source, error.line, error.entry) == ("r.yaml", 1, "")
    assert error.problem == "version 3 is not supported"
    assert error.problems[0] == Problem(
        "r.yaml",
        1,
        "",
        "version 3 is not supported",
        "write version: 1 (the only format this gateway reads)",
    )
    assert str(error) == (
        "r.yaml:1: version 3 is not supported; write version: 1 (the only format this gateway "
        "reads) (and 3 more problems)"
    )
    assert isinstance(error, ValueError)


def test_file_level_problems() -> None:
    assert problems_of("""\
        version: "1"
        backends: {}
        default: legacy
        routs: []
    """) == [
        "routes.yaml:1: version '1' is not supported; "
        "write version: 1 (the only format this gateway reads)",
        "routes.yaml:2: backends must be a mapping with at least one backend; "
        'add backends like legacy: {url: "${LEGACY_URL}", timeout_ms: 3000}',
        "routes.yaml:3: default 'legacy' is not a backend; "
        "use one of the backends (none defined) or add legacy under backends",
        "routes.yaml:4: unknown key 'routs' in the file; rename it to routes",
    ]


def test_missing_top_level_keys() -> None:
    assert problems_of("routes: []\n") == [
        "routes.yaml:1: version is missing; add version: 1 at the top",
        "routes.yaml:1: backends is missing; "
        'add backends: {legacy: {url: "${LEGACY_URL}", timeout_ms: 3000}}',
        "routes.yaml:1: default is missing; add default: legacy",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "",
            "routes.yaml:1: the file is empty; start with version: 1, then backends, default "
            "and routes (see docs/routes.md)",
        ),
        (
            "version: 1\nbackends: [a\n",
            "routes.yaml:3: not valid YAML: expected ',' or ']', "
            "but got '<stream end>'; fix the syntax there",
        ),
        (
            "- 1\n",
            "routes.yaml:1: the file must be a mapping; "
            "write it as version:, backends:, default:, routes:",
        ),
    ],
)
def test_unreadable_documents(text: str, message: str) -> None:
    assert problems_of(text) == [message]


def test_backend_problems() -> None:
    assert problems_of("""\
        version: 1
        backends:
          legacy: {url: "ftp://legacy", timeout_ms: 29000}
          flights: {url: "http://flights", timeout_ms: 0}
          hotels: {url: "http://hotels", timeout_ms: 1.5, retries: 2}
          cars: {timeout_ms: "${LEGACY_URL}"}
          "two words": {url: "http://x"}
          legacy: {url: "http://again"}
        default: legacy
    """) == [
        "routes.yaml:3: backends.legacy: url 'ftp://legacy' is not an http(s) address; "
        "use an http:// or https:// address like http://flights.internal:8080",
        "routes.yaml:3: backends.legacy: timeout_ms 29000 is outside 1-28999; "
        "use whole milliseconds from 1 to 28999 (the HTTP API gives up at 30 s)",
        "routes.yaml:4: backends.flights: timeout_ms 0 is outside 1-28999; "
        "use whole milliseconds from 1 to 28999 (the HTTP API gives up at 30 s)",
        "routes.yaml:5: backends.hotels: unknown key 'retries' in a backend; "
        "remove it (a backend takes url:, timeout_ms:)",
        "routes.yaml:5: backends.hotels: timeout_ms 1.5 is not a whole number; "
        "use whole milliseconds from 1 to 28999 (the HTTP API gives up at 30 s)",
        'routes.yaml:6: backends.cars: url is missing; add url: "${SERVICE_URL}"',
        "routes.yaml:6: backends.cars: timeout_ms 'http://legacy:8000' is not a whole number; "
        "use whole milliseconds from 1 to 28999 (the HTTP API gives up at 30 s)",
        "routes.yaml:7: backend name 'two words' is not a plain name; "
        "name it with letters, digits, - and _, starting with a letter (e.g. flights)",
        "routes.yaml:8: backends.legacy: this backend is defined twice; keep one",
    ]


def test_route_problems() -> None:
    assert route_problems("""\
      - path: /api/flights/{id}
        methods: [GET, FETCH]
        taget: flights
      - path: /api/flights
        target: flight
        methods: GET
      - path: api/trips
        target: flights
        path: /api/trips
      - methods: []
    """) == [
        "routes.yaml:7: routes[0] (/api/flights/{id}): target is missing; add target: <backend>",
        "routes.yaml:8: routes[0] (/api/flights/{id}): method 'FETCH' is not an HTTP method; "
        "list methods like [GET, POST] (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS), "
        "or drop the key for all",
        "routes.yaml:9: routes[0] (/api/flights/{id}): unknown key 'taget' in a route; "
        "rename it to target",
        "routes.yaml:11: routes[1] (/api/flights): target 'flight' is not a backend; "
        "use one of the backends (flights, legacy) or add flight under backends",
        "routes.yaml:12: routes[1] (/api/flights): methods must be a non-empty list; "
        "list methods like [GET, POST] (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS), "
        "or drop the key for all",
        "routes.yaml:13: routes[2] (api/trips): path 'api/trips' must start with /; "
        "write /api/trips",
        "routes.yaml:15: routes[2] (api/trips): path is given twice; keep only one of them",
        "routes.yaml:16: routes[3]: path is missing; add path: /api/...",
        "routes.yaml:16: routes[3]: target is missing; add target: <backend>",
        "routes.yaml:16: routes[3]: methods must be a non-empty list; "
        "list methods like [GET, POST] (GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS), "
        "or drop the key for all",
    ]


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/api/", "path '/api/' has an empty segment; write /api"),
        ("/api//trips", "path '/api//trips' has an empty segment; write /api/trips"),
        (
            "/api/**/x",
            "path '/api/**/x' has ** before the end; "
            "/** may only end a template; use {param} for one segment in the middle",
        ),
        (
            "/api/*",
            "segment '*' of '/api/*' is not a plain path segment; "
            "use literal text, {param} for one segment, or a trailing /** for the rest",
        ),
        (
            "/api/fl-{id}",
            "segment 'fl-{id}' of '/api/fl-{id}' is not a whole {param}; "
            "a parameter is a whole segment named like {id}, e.g. /api/flights/{id}",
        ),
        (
            "/api/{1d}",
            "segment '{1d}' of '/api/{1d}' is not a whole {param}; "
            "a parameter is a whole segment named like {id}, e.g. /api/flights/{id}",
        ),
        (
            "/api/{id}/x/{id}",
            "path '/api/{id}/x/{id}' names {id} twice; give each parameter its own name",
        ),
        (
            "/api/fx?base=EUR",
            "path '/api/fx?base=EUR' has a query; routes match the path only; drop the ?...",
        ),
    ],
)
def test_bad_templates(path: str, problem: str) -> None:
    assert route_problems(f"  - {{path: '{path}', target: flights}}\n") == [
        f"routes.yaml:7: routes[0] ({path}): {problem}"
    ]


def test_canary_and_shadow_problems() -> None:
    assert route_problems("""\
      - path: /api/flights
        target: legacy
        canary: {target: legacy, percent: -1, sticky: "header:"}
        shadow: {target: hotels, percent: 101, ignore: ["updated_at", "$.a[x]"], compare: yes}
      - path: /api/trips
        methods: [POST]
        target: legacy
        canary: {percent: 12.5, sticky: session}
        shadow: {target: flights}
    """) == [
        "routes.yaml:9: routes[0] (/api/flights): canary.target 'legacy' is the route's own "
        "target; point canary.target at another backend, or remove canary",
        "routes.yaml:9: routes[0] (/api/flights): canary.percent -1 is outside 0-100; "
        "use a whole number from 0 to 100",
        "routes.yaml:9: routes[0] (/api/flights): canary.sticky 'header:' is not a sticky kind; "
        "use one of traveler, header:<name>, cookie:<name>, random",
        "routes.yaml:10: routes[0] (/api/flights): unknown key 'compare' in shadow; "
        "remove it (shadow takes target:, percent:, ignore:)",
        "routes.yaml:10: routes[0] (/api/flights): shadow.target 'hotels' is not a backend; "
        "use one of the backends (flights, legacy) or add hotels under backends",
        "routes.yaml:10: routes[0] (/api/flights): shadow.percent 101 is outside 0-100; "
        "use a whole number from 0 to 100",
        "routes.yaml:10: routes[0] (/api/flights): shadow.ignore: ignore path 'updated_at' must "
        'start with $; write paths like "$.updated_at", "$.items[*].updated_at" or '
        '"$..updated_at"',
        "routes.yaml:10: routes[0] (/api/flights): shadow.ignore: ignore path '$.a[x]' cannot be "
        'read from \'[x]\'; write paths like "$.updated_at", "$.items[*].updated_at" or '
        '"$..updated_at"',
        "routes.yaml:14: routes[1] (/api/trips): canary.target is missing; "
        "add target: <backend> to canary",
        "routes.yaml:14: routes[1] (/api/trips): canary.percent 12.5 is not a whole number; "
        "use a whole number from 0 to 100",
        "routes.yaml:14: routes[1] (/api/trips): canary.sticky 'session' is not a sticky kind; "
        "use one of traveler, header:<name>, cookie:<name>, random",
        "routes.yaml:15: routes[1] (/api/trips): shadow copies GET requests only; "
        "add GET to methods, or remove shadow",
    ]


def test_canary_percent_is_required() -> None:
    assert route_problems("  - {path: /api/fx, target: legacy, canary: {target: flights}}\n") == [
        "routes.yaml:7: routes[0] (/api/fx): canary.percent is missing; add percent: 0 to 100"
    ]


def test_routes_that_can_never_be_reached() -> None:
    assert route_problems("""\
      - {path: "/api/trips/{id}", target: flights}
      - {path: "/api/trips/{trip}", methods: [GET], target: legacy}
      - {path: /api/flights, methods: [GET, POST], target: flights}
      - {path: /api/flights, methods: [POST], target: legacy}
      - {path: /api/flights, methods: [GET, DELETE], target: legacy}
      - {path: /api/fx, methods: [GET], target: flights}
      - {path: /api/fx, target: legacy}
    """) == [
        "routes.yaml:8: routes[1] (/api/trips/{trip}): can never be reached: routes[0] on line 7 "
        "has the same template (/api/trips/{id}) and covers all of its methods; "
        "remove this entry, or merge it into routes[0]",
        "routes.yaml:10: routes[3] (/api/flights): can never be reached: routes[2] on line 9 "
        "has the same template (/api/flights) and covers all of its methods; "
        "remove this entry, or merge it into routes[2]",
    ]


# --- construction helpers -----------------------------------------------------------------


def test_load_table_reads_a_file_and_raises_oserror_when_missing(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(HEADER, encoding="utf-8")
    assert load_table(path, env=ENV).source == str(path)
    with pytest.raises(FileNotFoundError):
        load_table(tmp_path / "missing.yaml", env=ENV)


def test_load_table_reads_os_environ_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text(HEADER, encoding="utf-8")
    monkeypatch.setenv("LEGACY_URL", "http://from-env")
    monkeypatch.setenv("FLIGHTS_URL", "http://f")
    assert load_table(path).backends["legacy"].url == "http://from-env"


def test_default_table_sends_everything_to_legacy() -> None:
    table = default_table(legacy_url="http://legacy:8000/", flights_url="http://flights:8001")
    assert dict(table.backends) == {
        "legacy": Backend("legacy", "http://legacy:8000", 3.0),
        "flights": Backend("flights", "http://flights:8001", 2.0),
    }
    assert (table.default, table.routes, table.source) == ("legacy", (), "<built-in default>")
    alone = default_table(legacy_url="http://legacy:8000", flights_url=None)
    assert list(alone.backends) == ["legacy"]
    assert alone.version != table.version


def test_a_route_with_a_bad_template_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="must start with /"):
        Route(0, "api", None, "legacy")


def test_the_table_is_immutable() -> None:
    table = table_of("  - {path: /api/fx, target: flights}\n")
    with pytest.raises(TypeError):
        table.backends["x"] = Backend("x", "http://x", 1.0)  # type: ignore[index]


def test_a_variable_set_to_nothing_is_an_empty_value() -> None:
    assert problems_of(HEADER, env={**ENV, "FLIGHTS_URL": ""}) == [
        "routes.yaml:4: backends.flights: url is empty; "
        "use an http:// or https:// address like http://flights.internal:8080",
    ]
