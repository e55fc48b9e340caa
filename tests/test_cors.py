"""CORS: the pure decisions, then preflights and actual requests against gateway processes,
one with `GATEWAY_CORS_ORIGINS` set (and a rate limit, to see a 429 a browser can read) and
one without."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway.config import Settings, SettingsError
from gateway.cors import (
    ALLOW_HEADERS,
    EXPOSE_HEADERS,
    Annotate,
    CorsPolicy,
    Preflight,
    annotated,
    decide,
    parse_origins,
)
from tests.conftest import dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, Service, start_uvicorn, write_routes

APP = "https://app.example.com"
LOCAL = "http://localhost:5173"
EVIL = "https://evil.example"
POLICY = CorsPolicy(frozenset({APP, LOCAL}))
VARY = (b"vary", b"Origin")

# -- pure ------------------------------------------------------------------------------------


def test_origins_parse_as_an_exact_list() -> None:
    assert parse_origins(f" {APP}, {LOCAL} ,") == (APP, LOCAL)
    assert parse_origins("") == ()
    assert parse_origins("http://[::1]:8080") == ("http://[::1]:8080",)


@pytest.mark.parametrize(
    "bad", ["*", "https://app.example.com/", "https://app.example.com/x", "app.example.com",
            "https://*.example.com", "HTTPS://APP.EXAMPLE.COM", "ftp://a.example"],
)  # fmt: skip
def test_anything_but_an_exact_origin_fails_at_start_up(bad: str) -> None:
    with pytest.raises(SettingsError, match=r"^GATEWAY_CORS_ORIGINS: .* is not an exact origin"):
        Settings.from_env({"GATEWAY_CORS_ORIGINS": bad})


def test_a_preflight_from_an_allowed_origin_gets_the_allow_headers() -> None:
    answer = decide(
        POLICY, method="OPTIONS", path="/graphql/web", origin=APP, request_method="POST"
    )
    assert answer == Preflight(
        204,
        (
            (b"access-control-allow-origin", APP.encode()),
            (b"access-control-allow-methods", b"GET, POST"),
            (b"access-control-allow-headers", ALLOW_HEADERS),
            (b"access-control-max-age", b"600"),
            VARY,
        ),
    )
    rest = decide(POLICY, method="OPTIONS", path="/api/trips", origin=LOCAL, request_method="PUT")
    assert isinstance(rest, Preflight)
    assert dict(rest.headers)[b"access-control-allow-methods"] == b"GET, POST, PUT, PATCH, DELETE"


def test_a_preflight_from_another_origin_is_refused_without_allow_headers() -> None:
    for origin in (EVIL, "https://app.example.com.evil.example", "null"):
        answer = decide(
            POLICY, method="OPTIONS", path="/api/trips", origin=origin, request_method="POST"
        )
        assert answer == Preflight(403, (VARY,))


def test_actual_requests_get_the_origin_only_when_allowed_and_always_vary() -> None:
    def annotate(origin: str | None) -> Annotate | Preflight | None:
        return decide(POLICY, method="POST", path="/graphql/m", origin=origin, request_method=None)

    assert annotate(APP) == Annotate(
        (
            (b"access-control-allow-origin", APP.encode()),
            (b"access-control-expose-headers", EXPOSE_HEADERS),
            VARY,
        )
    )
    assert annotate(EVIL) == Annotate((VARY,))
    assert annotate(None) == Annotate((VARY,))
    # An OPTIONS that is not a preflight is an ordinary request.
    assert decide(POLICY, method="OPTIONS", path="/api/x", origin=APP, request_method=None) == (
        annotate(APP)
    )


def test_other_paths_take_no_part() -> None:
    for path in ("/healthz", "/_gateway/routes", "/graphql", "/apix", "/"):
        assert decide(POLICY, method="OPTIONS", path=path, origin=APP, request_method="GET") is None


def test_origin_joins_an_existing_vary_and_a_backends_cors_headers_are_dropped() -> None:
    app_headers = [
        (b"content-type", b"application/json"),
        (b"Vary", b"Accept, Authorization"),
        (b"Access-Control-Allow-Origin", b"*"),
        (b"access-control-allow-credentials", b"true"),
    ]
    extra = ((b"access-control-allow-origin", APP.encode()), VARY)
    assert annotated(app_headers, extra) == [
        (b"content-type", b"application/json"),
        (b"Vary", b"Accept, Authorization, Origin"),
        (b"access-control-allow-origin", APP.encode()),
    ]
    assert annotated([(b"vary", b"origin")], (VARY,)) == [(b"vary", b"origin")]
    assert annotated([], (VARY,)) == [VARY]


# -- against gateway processes ----------------------------------------------------------------

pytest_e2e = pytest.mark.e2e
ME = "{ me { id } }"


@pytest.fixture(scope="module")
def gateways(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Service]]:
    routes = write_routes(tmp_path_factory.mktemp("cors") / "routes.yaml")
    legacy = start_uvicorn("legacy_stub.app:app")
    started: list[Service] = []
    try:
        for extra in (
            {"GATEWAY_CORS_ORIGINS": f"{APP},{LOCAL}", "GATEWAY_RATE_LIMIT": "3/60"},
            {},
        ):
            env = gateway_env(legacy.url, routes, **extra)
            started.append(
                start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
            )
        yield started[0], started[1]
    finally:
        for service in (*started, legacy):
            service.stop()


def preflight(gateway: Service, path: str, origin: str, method: str = "POST") -> httpx.Response:
    headers = {
        "origin": origin,
        "access-control-request-method": method,
        "access-control-request-headers": "authorization, content-type, idempotency-key",
    }
    return httpx.options(gateway.url + path, headers=headers, timeout=10)


def post_graphql(
    gateway: Service, *, origin: str | None = None, traveler: str | None = None
) -> httpx.Response:
    headers = {"accept": "application/json"}
    if origin:
        headers["origin"] = origin
    if traveler:
        headers["authorization"] = f"Bearer {dev_token(traveler)}"
    return httpx.post(f"{gateway.url}/graphql/web", json={"query": ME}, headers=headers, timeout=10)


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


@pytest_e2e
def test_preflights_from_the_allowed_origins_are_answered(
    gateways: tuple[Service, Service],
) -> None:
    cors, _ = gateways
    for path, methods in (
        ("/graphql/web", "GET, POST"),
        ("/graphql/mobile", "GET, POST"),
        ("/api/trips", "GET, POST, PUT, PATCH, DELETE"),
    ):
        answer = preflight(cors, path, APP)
        assert (answer.status_code, answer.content) == (204, b"")
        assert cors_headers(answer) == {
            "access-control-allow-origin": APP,
            "access-control-allow-methods": methods,
            "access-control-allow-headers": ALLOW_HEADERS.decode(),
            "access-control-max-age": "600",
        }
        assert answer.headers["vary"] == "Origin"


@pytest_e2e
def test_a_preflight_from_another_origin_is_refused(gateways: tuple[Service, Service]) -> None:
    cors, _ = gateways
    for path in ("/graphql/web", "/api/trips"):
        answer = preflight(cors, path, EVIL)
        assert answer.status_code == 403
        assert cors_headers(answer) == {}
        assert answer.headers["vary"] == "Origin"


@pytest_e2e
def test_actual_answers_carry_the_origin_only_when_allowed(
    gateways: tuple[Service, Service],
) -> None:
    cors, _ = gateways
    allowed = post_graphql(cors, origin=APP, traveler="t-11")
    assert allowed.json() == {"data": {"me": {"id": "t-11"}}}
    assert cors_headers(allowed) == {
        "access-control-allow-origin": APP,
        "access-control-expose-headers": EXPOSE_HEADERS.decode(),
    }
    assert allowed.headers["vary"] == "Accept, Authorization, Origin"
    for origin in (EVIL, None):
        other = post_graphql(cors, origin=origin, traveler="t-12")
        assert other.json() == {"data": {"me": {"id": "t-12"}}}
        assert cors_headers(other) == {}
        assert other.headers["vary"] == "Accept, Authorization, Origin"
    rest = httpx.get(
        f"{cors.url}/api/destinations/top",
        headers={"origin": LOCAL, "authorization": f"Bearer {dev_token('t-13')}"},
    )
    assert rest.status_code == 200
    assert rest.headers["access-control-allow-origin"] == LOCAL
    assert "origin" in rest.headers["vary"].lower()
    health = httpx.get(f"{cors.url}/healthz", headers={"origin": APP})
    assert cors_headers(health) == {} and "vary" not in health.headers


@pytest_e2e
def test_a_rate_limited_answer_is_readable_by_the_browser_and_preflights_are_free(
    gateways: tuple[Service, Service],
) -> None:
    cors, _ = gateways
    assert [preflight(cors, "/graphql/web", APP).status_code for _ in range(5)] == [204] * 5
    answers = [post_graphql(cors, origin=APP) for _ in range(4)]  # anonymous: by address
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.headers["access-control-allow-origin"] == APP
    assert "retry-after" in refused.headers["access-control-expose-headers"]
    assert int(refused.headers["retry-after"]) >= 1


@pytest_e2e
def test_without_origins_configured_nothing_changes(gateways: tuple[Service, Service]) -> None:
    _, plain = gateways
    answer = preflight(plain, "/graphql/web", APP)
    assert answer.status_code == 405  # what it was before CORS existed
    assert cors_headers(answer) == {}
    actual = post_graphql(plain, origin=APP, traveler="t-14")
    assert actual.json() == {"data": {"me": {"id": "t-14"}}}
    assert cors_headers(actual) == {}
    assert "origin" not in actual.headers["vary"].lower()


@pytest_e2e
@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded",
     "multipart/form-data; boundary=x"],
)  # fmt: skip
def test_graphql_refuses_the_content_types_a_cross_site_form_can_send(
    gateways: tuple[Service, Service], content_type: str
) -> None:
    """What keeps CSRF out (docs/browsers.md): a body a form or a simple request could carry,
    even valid JSON, is refused before anything runs, whatever the Origin."""
    _, plain = gateways  # the one without a rate limit: these calls are anonymous
    answer = httpx.post(
        f"{plain.url}/graphql/web",
        content=b'{"query": "mutation { cancelTrip(id: \\"trip-1\\") { id } }"}',
        headers={"content-type": content_type, "origin": EVIL},
    )
    assert answer.status_code == 415
    assert answer.json()["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}


@pytest_e2e
def test_graphql_over_get_runs_no_mutation(gateways: tuple[Service, Service]) -> None:
    _, plain = gateways
    answer = httpx.get(
        f"{plain.url}/graphql/web",
        params={"query": 'mutation { cancelTrip(id: "trip-1") { id } }'},
        headers={"origin": EVIL, "accept": "application/json"},
    )
    assert answer.status_code == 405
