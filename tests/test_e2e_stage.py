"""`make run`'s stack as a newcomer gets it, and the prod stage's locked-down GraphQL."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import NO_CACHE, Stack, gateway_env
from tests.support.processes import GATEWAY_FACTORY, ROOT, free_port, start_uvicorn, write_routes

pytestmark = pytest.mark.e2e


def test_prod_turns_graphiql_and_introspection_off(stack: Stack, tmp_path: Path) -> None:
    routes = write_routes(tmp_path / "routes.yaml")
    env = gateway_env(
        stack.legacy.url,
        routes,
        GATEWAY_STAGE="prod",
        GATEWAY_JWT_ISSUER="https://issuer.example",
        GATEWAY_JWT_AUDIENCE="app",
        **NO_CACHE,
    )
    prod = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
    try:
        url = f"{prod.url}/graphql/web"
        page = httpx.get(url, headers={"accept": "text/html"})
        assert page.status_code == 406 and "graphiql" not in page.text.lower()
        introspection = httpx.post(url, json={"query": "{ __schema { types { name } } }"})
        assert "introspection" in introspection.json()["errors"][0]["message"].lower()
        assert "data" not in introspection.json()
        works = httpx.post(url, json={"query": "{ topDestinations(limit: 1) { code } }"})
        assert len(works.json()["data"]["topDestinations"]) == 1
    finally:
        prod.stop()


def test_make_run_starts_the_stack_prints_a_token_and_stops_cleanly_on_ctrl_c() -> None:
    ports = {"GATEWAY_PORT": free_port(), "LEGACY_PORT": free_port(), "FLIGHTS_PORT": free_port()}
    env = {
        **os.environ,
        **{k: str(v) for k, v in ports.items()},
        "ROUTES_FILE": str(ROOT / "routes.yaml"),
    }
    env.pop("GATEWAY_JWT_SECRET", None)
    with subprocess.Popen(
        [sys.executable, "-m", "gateway.devstack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as run:
        _drive(run, ports)


def _drive(run: subprocess.Popen[str], ports: dict[str, int]) -> None:
    try:
        lines = []
        assert run.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = run.stdout.readline()
            lines.append(line)
            if line.startswith("Agent token"):
                break
        printed = "".join(lines)
        base = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        assert f"{base}/graphql/web" in printed and f"{base}/graphql/mobile" in printed
        token = re.search(r"Bearer <token>\"\}\):\n\s+(\S+)", printed)
        assert token, printed
        me = httpx.post(
            f"{base}/graphql/web",
            json={"query": "{ me { id } }"},
            headers={"authorization": f"Bearer {token.group(1)}"},
        )
        assert me.json() == {"data": {"me": {"id": "t-1"}}}
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=30) == 0
        for port in ports.values():
            with pytest.raises(httpx.ConnectError):
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
    finally:
        if run.poll() is None:
            run.kill()


def test_a_broken_routes_file_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    routes = tmp_path / "routes.yaml"
    routes.write_text(
        "version: 1\nbackends:\n  legacy: {url: 'http://127.0.0.1:1', timeout_ms: 3000}\n"
        "default: legacy\nroutes:\n  - {path: /api/trips/**, target: nowhere}\n",
        encoding="utf-8",
    )
    env = {"PATH": "/usr/bin:/bin", "ROUTES_FILE": str(routes), "LEGACY_URL": "http://127.0.0.1:1"}
    done = subprocess.run(
        [sys.executable, "-c", "from gateway.app import create_app; create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"{routes}:6: routes[0]" in done.stderr and "nowhere" in done.stderr
