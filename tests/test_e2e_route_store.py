"""Route flips through the route store end to end: moto's S3 server, the monolith stub, the
flights service and a gateway polling the store, all real processes or servers on loopback;
`routes push` publishes, the stubs' counters prove where requests went."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import NO_CACHE, dev_token, gateway_env
from tests.support.processes import GATEWAY_FACTORY, ROOT, Service, start_uvicorn
from tests.test_route_store import BUCKET, HEAD, KEY, S3, moto_s3, routes_text

pytestmark = pytest.mark.e2e

RUN_MAIN = "import sys; from gateway.routing.cli import main; sys.exit(main(sys.argv[1:]))"


@dataclass
class Fleet:
    s3: S3
    legacy: Service
    flights: Service
    gateway: Service
    cli_env: dict[str, str]
    work: Path

    def routes(self, *args: str, text: str | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m gateway routes ARGS` as ops would run it, FILE written from `text`."""
        if text is not None:
            (self.work / "routes.yaml").write_text(text, encoding="utf-8")
        return subprocess.run(
            [sys.executable, "-c", RUN_MAIN, *args],
            cwd=self.work,
            env=self.cli_env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def store(self) -> dict[str, Any]:
        store: dict[str, Any] = self.health()["routes"]["store"]
        return store

    def health(self) -> Any:
        return httpx.get(f"{self.gateway.url}/healthz", timeout=10).json()

    def wait_for(self, done: Callable[[Any], bool]) -> Any:
        """Poll /healthz until `done`; the gateway polls the store every ~0.2 s here."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            health = self.health()
            if done(health):
                return health
            time.sleep(0.05)
        raise AssertionError(f"the gateway did not pick it up: {self.health()}")

    def latest_version_id(self) -> str:
        versions = self.s3.client().list_object_versions(Bucket=BUCKET, Prefix=KEY)["Versions"]
        return str(next(v["VersionId"] for v in versions if v["IsLatest"]))

    def flights_requests_on(self) -> dict[str, int]:
        """Which backend served GET /api/flights/fl-1, by the stubs' own counters."""
        for service in (self.legacy, self.flights):
            httpx.post(f"{service.url}/_stub/reset").raise_for_status()
        token = dev_token("qa-1", "agent")
        answer = httpx.get(
            f"{self.gateway.url}/api/flights/fl-1",
            headers={"authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert answer.status_code == 200
        return {
            name: sum(
                n
                for key, n in httpx.get(f"{service.url}/_stub/stats").json()["requests"].items()
                if key.startswith("GET /api/flights")
            )
            for name, service in (("legacy", self.legacy), ("flights", self.flights))
        }

    def push_and_wait(self, target: str, message: str) -> str:
        pushed = self.routes("push", "routes.yaml", "-m", message, text=routes_text(target))
        assert pushed.returncode == 0, pushed.stderr
        version_id = self.latest_version_id()
        self.wait_for(lambda h: h["routes"]["store"]["version_id"] == version_id)
        return version_id


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    work = tmp_path_factory.mktemp("route-store")
    packaged = work / "packaged-routes.yaml"  # what the package ships: the fallback table
    packaged.write_text(routes_text("legacy"), encoding="utf-8")
    with moto_s3() as s3:
        legacy = start_uvicorn("legacy_stub.app:app")
        flights = start_uvicorn("services.flights.app:app")
        aws = {**s3.env, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        env = gateway_env(
            legacy.url, packaged, FLIGHTS_URL=flights.url, ROUTES_POLL_S="0.2", **aws, **NO_CACHE
        )
        cli_env = {**env, "ROUTES_AUTHOR": "ana@ops", "PYTHONPATH": str(ROOT)}
        gateway = start_uvicorn(GATEWAY_FACTORY, factory=True, env=env, ready_path="/healthz")
        try:
            yield Fleet(s3, legacy, flights, gateway, cli_env, work)
        finally:
            for service in (gateway, flights, legacy):
                service.stop()


def test_an_empty_store_leaves_the_packaged_table_in_use(fleet: Fleet) -> None:
    health = fleet.health()["routes"]
    assert health["store"]["version_id"] is None
    assert health["error"].startswith(f"s3://{BUCKET}/{KEY}: NoSuchKey")
    assert fleet.flights_requests_on() == {"legacy": 1, "flights": 0}


def test_push_flips_and_rollback_flips_back_without_a_restart(fleet: Fleet) -> None:
    to_flights = fleet.push_and_wait("flights", "fl-1 to the flights service")
    assert fleet.health()["routes"]["error"] is None
    assert fleet.flights_requests_on() == {"legacy": 0, "flights": 1}

    to_legacy = fleet.push_and_wait("legacy", "flights 5xx: back to legacy")
    assert fleet.flights_requests_on() == {"legacy": 1, "flights": 0}

    rolled = fleet.routes("push", "--rollback")
    assert rolled.returncode == 0, rolled.stderr
    rollback_id = fleet.latest_version_id()
    health = fleet.wait_for(lambda h: h["routes"]["store"]["version_id"] == rollback_id)
    assert health["routes"]["store"]["rollback_of"] == to_legacy
    assert health["routes"]["store"]["message"] == f"rollback of {to_legacy}"
    assert fleet.flights_requests_on() == {"legacy": 0, "flights": 1}

    versions = fleet.routes("versions")
    assert [line.split("  ")[0] for line in versions.stdout.splitlines()][:3] == [
        rollback_id,
        to_legacy,
        to_flights,
    ]


def test_a_bad_version_is_refused_by_push_and_kept_out_by_the_gateway(fleet: Fleet) -> None:
    good = fleet.push_and_wait("legacy", "legacy again")
    same = fleet.routes("push", "routes.yaml", "-m", "again")
    assert (same.returncode, same.stdout) == (
        0,
        f"unchanged: s3://{BUCKET}/{KEY} version {good} has this text already\n",
    )
    broken = HEAD + "  - {path: /api/flights/**, target: nowhere}\n"
    refused = fleet.routes("push", "routes.yaml", "-m", "typo", text=broken)
    assert refused.returncode == 1
    assert "target 'nowhere' is not a backend" in refused.stderr
    assert fleet.latest_version_id() == good  # nothing published

    # Forced into the store behind push's back: the gateway keeps the last good table.
    fleet.s3.client().put_object(Bucket=BUCKET, Key=KEY, Body=broken.encode())
    health = fleet.wait_for(lambda h: h["routes"]["error"] is not None)["routes"]
    assert "'nowhere' is not a backend" in health["error"]
    assert health["store"]["version_id"] == good
    assert fleet.flights_requests_on() == {"legacy": 1, "flights": 0}

    fixed = fleet.push_and_wait("flights", "fixed")
    assert fleet.health()["routes"]["error"] is None
    assert fleet.flights_requests_on() == {"legacy": 0, "flights": 1}

    status = fleet.routes("status", "--gateway", fleet.gateway.url)
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1].startswith(
        f"{fleet.gateway.url}: serves s3://{BUCKET}/{KEY}@{fixed} (table "
    )
    assert status.stdout.splitlines()[-1].endswith("pushed by ana@ops at " + _when(fleet))


def _when(fleet: Fleet) -> str:
    return f"{fleet.store()['published_at']}: fixed"
