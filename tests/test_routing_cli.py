"""The routes CLI, run as a real process (plus a few in-process cases for the edges)."""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from gateway.routing.cli import main
from gateway.routing.document import expand_text
from gateway.routing.ramp import RampState
from gateway.routing.ramp_state import encode, state_key
from gateway.routing.table import load_table, parse_table
from tests.conftest import Stack
from tests.support.redis_server import (
    RedisServer,
    redis_server_fixture,  # noqa: F401
    redis_session_server_fixture,  # noqa: F401
)

REPO = Path(__file__).resolve().parent.parent
ENV = {"LEGACY_URL": "http://legacy:8000", "FLIGHTS_URL": "http://flights:8001"}
RUN_MAIN = "import sys; from gateway.routing.cli import main; sys.exit(main(sys.argv[1:]))"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    unset = {*ENV, "LEGACY_PORT", "FLIGHTS_PORT"}  # a fresh shell, whatever make exported
    clean = {k: v for k, v in os.environ.items() if k not in unset and "proxy" not in k.lower()}
    return subprocess.run(
        [sys.executable, "-c", RUN_MAIN, *args],
        cwd=REPO,
        env={**clean, **(ENV if env is None else env)},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def routes_file() -> Path:
    return REPO / "routes.yaml"


def small_routes(directory: Path, *, fx: str = "", default: str = "legacy") -> Path:
    """A routes file of its own (no routes: nothing for access checks to report)."""
    path = directory / "routes.yaml"
    path.write_text(
        "version: 1\n"
        "backends:\n"
        '  legacy: {url: "${LEGACY_URL}", timeout_ms: 3000}\n'
        '  flights: {url: "${FLIGHTS_URL}", timeout_ms: 2000}\n'
        f"{fx}"
        f"default: {default}\n"
        "routes: []\n",
        encoding="utf-8",
    )
    return path


def test_check_accepts_the_committed_file(routes_file: Path) -> None:
    result = run("check", str(routes_file))
    version = load_table(routes_file, env=ENV).version
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"ok: 15 routes, version {version}\n",
        "",
    )


def test_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\n"
        "backends:\n"
        "  legacy: {url: http://legacy, timeout_ms: 30000}\n"
        "default: legacy\n"
        "routes:\n"
        "  - path: /api/flights\n"
        "    taget: flights\n",
        encoding="utf-8",
    )
    result = run("check", str(bad))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines() == [
        f"{bad}:3: backends.legacy: timeout_ms 30000 is outside 1-28999; "
        "use whole milliseconds from 1 to 28999 (the HTTP API gives up at 30 s)",
        f"{bad}:6: routes[0] (/api/flights): target is missing; add target: <backend>",
        f"{bad}:7: routes[0] (/api/flights): unknown key 'taget' in a route; rename it to target",
        f"3 problems in {bad}",
    ]


def test_check_treats_an_unset_variable_as_a_problem(tmp_path: Path) -> None:
    routes = small_routes(tmp_path, fx='  fx: {url: "${FX_URL}", timeout_ms: 1000}\n')
    result = run("check", str(routes))
    assert result.returncode == 1
    assert "backends.fx: url uses ${FX_URL}, which is not set" in result.stderr
    fixed = run("check", str(routes), "--env", "FX_URL=http://fx")
    assert fixed.returncode == 0, fixed.stderr


def test_check_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("check", str(tmp_path / "nope.yaml"))
    assert (result.returncode, result.stderr) == (
        2,
        f"error: cannot read {tmp_path / 'nope.yaml'}: No such file or directory\n",
    )


def test_check_defaults_to_routes_file_then_routes_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("ROUTES_FILE", raising=False)
    assert main(["check"]) == 0
    monkeypatch.setenv("ROUTES_FILE", str(tmp_path / "elsewhere.yaml"))
    assert main(["check"]) == 2
    assert "elsewhere.yaml" in capsys.readouterr().err


def test_explain_says_which_rule_decided_and_why(routes_file: Path) -> None:
    result = run(
        "explain", "get", "/api/flights?ids=fl-1", "--traveler", "t-2", "--file", str(routes_file)
    )
    version = load_table(routes_file, env=ENV).version
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "GET /api/flights?ids=fl-1 → legacy (http://legacy:8000, timeout 3 s)",
        f"rule:   routes[1] GET /api/flights ({routes_file}:44)",
        "why:    route routes[1] GET /api/flights: canary 25% (traveler bucket 58 ≥ 25, stays) "
        "→ legacy; shadow 100% → flights",
        "shadow: flights (http://flights:8001), ignoring $.updated_at",
        f"table:  {routes_file} version {version}",
    ]


def test_explain_with_override_headers_cookies_and_client(routes_file: Path) -> None:
    args = ["explain", "GET", "/api/flights", "--file", str(routes_file)]
    agent = run(*args, "--role", "agent", "--header", "X-Route-Target=flights")
    assert (
        agent.stdout.splitlines()[0]
        == "GET /api/flights → flights (http://flights:8001, timeout 2 s)"
    )
    traveler = run(
        *args, "--role", "traveler", "--header", "X-Route-Target=flights", "--client", "10.0.0.1"
    )
    assert traveler.stdout.splitlines()[2] == (
        "why:    route routes[1] GET /api/flights: canary 25% (no traveler id; client address "
        "bucket 58 ≥ 25, stays) → legacy; shadow 100% → flights; "
        "X-Route-Target ignored (role traveler is not agent)"
    )
    default = run("explain", "POST", "/api/bookings", "--file", str(routes_file), "--cookie", "a=b")
    assert default.stdout.splitlines()[1:3] == [
        "rule:   default (no route matches)",
        "why:    no route matches POST /api/bookings: default → legacy",
    ]


def test_explain_usage_errors_exit_2(routes_file: Path) -> None:
    assert run("explain", "GET").returncode == 2
    bad_header = run("explain", "GET", "/x", "--header", "novalue", "--file", str(routes_file))
    assert bad_header.returncode == 2
    assert "expected NAME=VALUE, got 'novalue'" in bad_header.stderr


def test_status_shows_the_ledger(routes_file: Path) -> None:
    result = run("status", "--file", str(routes_file))
    version = load_table(routes_file, env=ENV).version
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["METHOD", "PATH", "STAGE", "BACKEND", "RULE"]
    assert lines[8].split() == ["GET", "/api/flights/{id}", "migrated", "flights", "routes[0]"]
    assert lines[9] == (
        "GET     /api/flights               canary 25%  legacy   "
        "routes[1]; canary 25% → flights (traveler); shadow 100% → flights"
    )
    assert lines[1].split() == ["GET", "/api/travelers/{id}", "legacy", "legacy", "routes[2]"]
    assert lines[-1] == f"{routes_file}: version {version}"


class FakeGateway(BaseHTTPRequestHandler):
    """Answers GET /_gateway/routes the way the app does."""

    body: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        status, payload = (200, self.body) if self.path == "/_gateway/routes" else (404, {})
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeGateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_status_with_a_gateway_adds_live_numbers(
    routes_file: Path, gateway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = load_table(routes_file, env=ENV).version
    monkeypatch.setattr(
        FakeGateway,
        "body",
        {
            "health": {
                "version": "0123456789ab",
                "source": "routes.yaml",
                "loaded_at": "2026-01-01T00:00:00+00:00",
                "error": "routes.yaml:9: routes[0] (/x): target 'y' is not a backend; fix",
                "problems": ["routes.yaml:9: routes[0] (/x): target 'y' is not a backend; fix"],
            },
            "stats": {
                "routes": {
                    "GET /api/flights": {
                        "requests": 200,
                        "errors": 3,
                        "by_backend": {},
                        "shadow": {"match": 147, "mismatch": 3},
                    },
                    "GET /api/flights/{id}": {"requests": 10, "errors": 0, "by_backend": {}},
                    "default": {"requests": 50, "errors": 1, "by_backend": {}},
                }
            },
        },
    )
    result = run("status", "--file", str(routes_file), "--gateway", gateway + "/")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "METHOD",
        "PATH",
        "STAGE",
        "BACKEND",
        "RULE",
        "REQUESTS",
        "ERRORS",
        "SHADOW",
        "MATCH",
    ]
    assert lines[8].split()[-3:] == ["10", "0.0%", "-"]
    assert lines[9].split()[-3:] == ["200", "1.5%", "98.0%"]
    assert lines[1].split()[-3:] == ["-", "-", "-"]
    assert lines[-4:] == [
        f"{routes_file}: version {version}",
        "gateway: version 0123456789ab (differs from the file), "
        "loaded at 2026-01-01T00:00:00+00:00",
        "gateway: refused the last change: routes.yaml:9: routes[0] (/x): target 'y' is not a "
        "backend; fix",
        "unrouted endpoints (default → legacy): 50 requests, 2.0% errors",
    ]


def test_status_with_an_unreachable_or_odd_gateway_exits_2(
    routes_file: Path, gateway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeGateway, "body", {"health": "ok"})
    odd = run("status", "--file", str(routes_file), "--gateway", gateway)
    assert odd.returncode == 2
    assert odd.stderr == (
        f'error: {gateway}/_gateway/routes did not answer {{"health": {{...}}, "stats": {{...}}}}\n'
    )
    closed = run("status", "--file", str(routes_file), "--gateway", "http://127.0.0.1:1")
    assert closed.returncode == 2
    assert closed.stderr.startswith("error: cannot get http://127.0.0.1:1/_gateway/routes: ")


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: python -m gateway routes" in capsys.readouterr().err
    assert main(["--help"]) == 0
    assert "check" in capsys.readouterr().out


def test_python_dash_m_gateway_routing_runs_the_cli(routes_file: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    result = subprocess.run(
        [sys.executable, "-m", "gateway.routing", "check", str(routes_file)],
        cwd=REPO,
        env={**clean, **ENV},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0
    assert result.stdout.startswith("ok: 15 routes, version ")


# A fresh shell: LEGACY_URL and FLIGHTS_URL default to make run's local stack.
MAKE_RUN_NOTE = (
    "note: not set, so using make run's "
    "LEGACY_URL=http://127.0.0.1:8001, FLIGHTS_URL=http://127.0.0.1:8002\n"
)


def test_a_fresh_shell_gets_make_runs_backends(tmp_path: Path) -> None:
    routes = small_routes(tmp_path)
    local = {"LEGACY_URL": "http://127.0.0.1:8001", "FLIGHTS_URL": "http://127.0.0.1:8002"}
    version = load_table(routes, env=local).version
    check = run("check", str(routes), env={})
    assert (check.returncode, check.stdout, check.stderr) == (
        0,
        f"ok: 0 routes, version {version}\n",
        MAKE_RUN_NOTE,
    )
    explain = run("explain", "GET", "/api/fx", "--file", str(routes), env={})
    assert explain.stdout.splitlines()[0] == (
        "GET /api/fx → legacy (http://127.0.0.1:8001, timeout 3 s)"
    )
    status = run("status", "--file", str(routes), env={})
    assert (status.returncode, status.stderr) == (0, MAKE_RUN_NOTE)


def test_the_defaults_follow_the_port_variables_and_yield_to_set_urls(tmp_path: Path) -> None:
    routes = small_routes(tmp_path)
    moved = run("explain", "GET", "/x", "--file", str(routes), env={"LEGACY_PORT": "9101"})
    assert moved.stdout.splitlines()[0] == "GET /x → legacy (http://127.0.0.1:9101, timeout 3 s)"
    assert moved.stderr == (
        "note: not set, so using make run's "
        "LEGACY_URL=http://127.0.0.1:9101, FLIGHTS_URL=http://127.0.0.1:8002\n"
    )
    given = run("explain", "GET", "/x", "--file", str(routes), "--env", "LEGACY_URL=http://l")
    assert given.stdout.splitlines()[0] == "GET /x → legacy (http://l, timeout 3 s)"
    assert given.stderr == ""  # ENV sets FLIGHTS_URL; --env sets LEGACY_URL
    bad = run("check", str(routes), env={"FLIGHTS_PORT": "80o2"})
    assert bad.returncode == 1
    assert bad.stderr.startswith(
        "note: no local defaults for LEGACY_URL, FLIGHTS_URL: "
        "FLIGHTS_PORT='80o2' is not a port; use a number from 1 to 65535\n"
    )


# `status --gateway`: the gateway's own table when it serves one.
HEALTH = {"version": "", "source": "routes.yaml", "loaded_at": "2026-01-01T00:00:00+00:00"}


def served(table_text: str, **stats: Any) -> dict[str, Any]:
    table = parse_table(table_text, source="routes.yaml", env=ENV)
    return {
        "health": {**HEALTH, "version": table.version, "error": None, "problems": []},
        "stats": {"routes": stats},
        "table": {"source": "routes.yaml", "text": expand_text(table_text, ENV)},
    }


def test_status_shows_the_table_the_gateway_serves_without_a_local_file(
    gateway: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = small_routes(tmp_path, default="flights").read_text(encoding="utf-8")
    counts = {"requests": 4, "errors": 1, "by_backend": {}}
    monkeypatch.setattr(FakeGateway, "body", served(text, default=counts))
    missing = {"ROUTES_FILE": str(tmp_path / "missing.yaml")}
    result = run("status", "--gateway", gateway, env=missing)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[1].split() == [
        "GET",
        "/api/travelers/{id}",
        "legacy",
        "flights",
        "default",
        "-",
        "-",
        "-",
    ]
    version = FakeGateway.body["health"]["version"]
    assert lines[-3:] == [
        f"{gateway}/_gateway/routes (routes.yaml): version {version}",
        "gateway: version " + version + ", loaded at 2026-01-01T00:00:00+00:00",
        "unrouted endpoints (default → flights): 4 requests, 25.0% errors",
    ]


def test_status_without_a_served_table_or_a_usable_file_shows_the_live_numbers(
    gateway: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        FakeGateway,
        "body",
        {
            "health": {**HEALTH, "version": "0123456789ab", "error": None},
            "stats": {
                "routes": {
                    "GET /api/flights": {"requests": 200, "errors": 3, "shadow": {"match": 1}},
                    "default": {"requests": 50, "errors": 0},
                }
            },
        },
    )
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\n", encoding="utf-8")
    result = run("status", "--gateway", gateway, env={**ENV, "ROUTES_FILE": str(broken)})
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        "ROUTE             REQUESTS  ERRORS  SHADOW MATCH",
        "GET /api/flights  200       1.5%    100.0%",
        "default           50        0.0%    -",
        "",
        "gateway: version 0123456789ab, loaded at 2026-01-01T00:00:00+00:00",
        f"no ledger: the gateway does not serve its table and {broken} cannot be used "
        f"(`routes check {broken}` says why); pass --file FILE to compare with another file",
    ]
    explicit = run("status", "--gateway", gateway, "--file", str(broken))
    assert explicit.returncode == 1  # a file named on the command line must be good


def test_status_refuses_a_malformed_served_table(
    gateway: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = {"health": HEALTH, "stats": {}, "table": {"text": 5}}
    monkeypatch.setattr(FakeGateway, "body", body)
    result = run("status", "--gateway", gateway)
    assert (result.returncode, result.stderr) == (
        2,
        f'error: {gateway}/_gateway/routes: "table" is not {{"source": ..., "text": "..."}}\n',
    )


@pytest.mark.e2e
def test_status_against_a_real_gateway_in_a_fresh_shell_with_a_broken_file(
    stack: Stack, tmp_path: Path
) -> None:
    broken = tmp_path / "routes.yaml"
    broken.write_text("version: 1\n", encoding="utf-8")
    running = httpx.get(f"{stack.gateway.url}/healthz", timeout=10).json()["routes"]["version"]
    result = run("status", "--gateway", stack.gateway.url, env={"ROUTES_FILE": str(broken)})
    assert result.returncode == 0, result.stderr
    assert any(
        line.startswith(f"gateway: version {running}") for line in result.stdout.splitlines()
    )


def test_status_against_a_real_gateway_shows_the_table_it_serves(
    stack: Stack, tmp_path: Path
) -> None:
    """No local file at all: the ledger is built from the table the gateway runs."""
    served = httpx.get(f"{stack.gateway.url}/_gateway/routes", timeout=10).json()["table"]
    result = run(
        "status", "--gateway", stack.gateway.url, env={"ROUTES_FILE": str(tmp_path / "no.yaml")}
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["METHOD", "PATH", "STAGE", "BACKEND", "RULE"]
    assert any(line.split()[:2] == ["GET", "/api/flights/{id}"] for line in lines)
    assert served["source"] in result.stdout and "${" not in served["text"]


def test_status_ramps_needs_the_gateways_redis(routes_file: Path) -> None:
    result = run("status", "--ramps", "--file", str(routes_file), env={**ENV, "REDIS_URL": ""})
    assert result.returncode == 2
    assert result.stderr == (
        "error: --ramps reads the gateways' Redis: set REDIS_URL (and REDIS_CLUSTER)\n"
    )


@pytest.mark.redis
def test_status_ramps_shows_each_routes_latest_shared_state(
    routes_file: Path, redis_server: RedisServer
) -> None:
    env = {**ENV, "REDIS_URL": redis_server.url}
    empty = run("status", "--ramps", "--file", str(routes_file), env=env)
    assert empty.stdout.splitlines()[-1] == "redis: no self-ramping canary state"
    old = RampState(percent=50, changed_at=100.0, rev=2, history=("t0 gw:1 armed at 50%",))
    new = RampState(
        percent=0,
        changed_at=200.0,
        rev=3,
        rolled_back=True,
        reason="error rate 50.0% (1/2) > max_error_rate 1.0%",
        history=("t1 gw:2 armed at 10%", "t2 gw:2 rollback 10% → 0%: error rate ..."),
    )
    with redis_server.client() as r:
        r.set(state_key("GET /api/flights", "aaaaaaaaaaaa"), encode(old))
        r.set(state_key("GET /api/flights", "bbbbbbbbbbbb"), encode(new))
    result = run("status", "--ramps", "--file", str(routes_file), env=env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines()[-3:] == [
        "redis GET /api/flights: canary → flights at 0%, ROLLED BACK "
        "(error rate 50.0% (1/2) > max_error_rate 1.0%) [redis, table bbbbbbbbbbbb]",
        "  t1 gw:2 armed at 10%",
        "  t2 gw:2 rollback 10% → 0%: error rate ...",
    ]
