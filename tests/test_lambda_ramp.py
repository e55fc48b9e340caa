"""A self-ramping canary on Lambda: two warm containers (each a process running the Mangum
handler, fed API Gateway events one at a time and stopped with SIGSTOP between them, as
Lambda freezes a container) share one redis-server; the monolith stub and the flights
service run as real processes.

No background task runs on Lambda: each container ticks at the end of an invocation when a
tick is due. The canary ramps 25 → 50 → 75 with both containers agreeing through Redis; the
flights service's fault injection is then turned on, the canary drops to 0 in both and stays
there (no container ever shows it higher again); each decision is one JSON line in the log
of the container that took it; `/_gateway/routes` (asked through the handler) and
`routes status --ramps` (reading Redis) show them.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest

from tests.conftest import NO_CACHE, dev_token, gateway_env
from tests.support.processes import ROOT, Service, start_uvicorn, stop_process
from tests.support.redis_server import RedisServer
from tests.test_e2e_ramp import ROUTE, ROUTES, flights_calls

pytestmark = pytest.mark.e2e
EVENT = Path(__file__).parent / "events" / "apigw_http_v2.json"
CONTAINER = Path(__file__).parent / "lambda_container.py"
ANSWER_TIMEOUT_S = 30


def event_for(path: str, token: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENT.read_text())
    event["routeKey"] = event["requestContext"]["routeKey"] = "ANY /api/{proxy+}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = "GET"
    event["headers"] = {"accept": "application/json"}
    if token:
        event["headers"]["authorization"] = f"Bearer {token}"
    return event


class Container:
    """One warm Lambda container: a process invoked over a pipe, its stdout in `log`."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process = subprocess.Popen(
            [sys.executable, str(CONTAINER), str(log)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.percents: list[int] = []  # the canary's percent as this container showed it

    def invoke(self, path: str, token: str | None = None) -> tuple[int, str]:
        """One invocation; the process is stopped (SIGSTOP) from its answer to the next
        event, like a container frozen by Lambda: nothing of it runs in between."""
        stdin, stdout = self._pipes()
        self.process.send_signal(signal.SIGCONT)
        stdin.write(json.dumps(event_for(path, token)) + "\n")
        stdin.flush()
        ready, _, _ = select.select([stdout], [], [], ANSWER_TIMEOUT_S)
        assert ready, f"no answer within {ANSWER_TIMEOUT_S} s"
        line = stdout.readline()
        assert line, f"the container exited with {self.process.wait()}"
        self.process.send_signal(signal.SIGSTOP)
        answer = json.loads(line)
        return answer["status"], answer["body"]

    def canary(self) -> dict[str, Any]:
        """`/_gateway/routes`' view of the ramp, from this container (an invocation too)."""
        status, body = self.invoke("/_gateway/routes")
        assert status == 200, body
        ramp: dict[str, Any] = json.loads(body)["canaries"][ROUTE]
        if ramp["percent"] is not None:
            self.percents.append(ramp["percent"])
        return ramp

    def decisions(self) -> list[dict[str, Any]]:
        """The ramp's JSON lines this container wrote to its log."""
        return [line for line in self._lines() if line.get("message") == "ramp"]

    def targets(self) -> set[str]:
        """The backends its request lines say answered the ramped route."""
        return {
            line["target"]
            for line in self._lines()
            if line.get("message") == "request" and line.get("route") == ROUTE
        }

    def _lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line[:1] == "{"]

    def stop(self) -> None:
        stdin, _ = self._pipes()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop_process(self.process)  # type: ignore[arg-type]
        assert self.process.stdout is not None
        self.process.stdout.close()

    def _pipes(self) -> tuple[IO[str], IO[str]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        return self.process.stdin, self.process.stdout


def drive(containers: list[Container], until: Callable[[], bool], timeout_s: float = 30) -> int:
    """Flight GETs through each container in turn, each followed by a look at its canary
    view, until `until()`; the number of flight GETs sent."""
    token = dev_token("qa-1", "agent")
    deadline, sent = time.monotonic() + timeout_s, 0
    while time.monotonic() < deadline:
        for container in containers:
            status, body = container.invoke("/api/flights/fl-1", token)
            assert status in (200, 502, 503), body  # the canary's fault, before the rollback
            container.canary()
            sent += 1
        if until():
            return sent
        time.sleep(0.01)
    raise AssertionError(f"timed out; percents seen: {[c.percents[-5:] for c in containers]}")


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[tuple[list[Container], Service, RedisServer]]:
    routes = tmp_path / "routes.yaml"
    routes.write_text(ROUTES, encoding="utf-8")
    with RedisServer() as redis_server:
        legacy = start_uvicorn("legacy_stub.app:app")
        flights = start_uvicorn("services.flights.app:app")
        env = {
            **os.environ,
            **gateway_env(legacy.url, routes, FLIGHTS_URL=flights.url, **NO_CACHE),
            "REDIS_URL": redis_server.url,
            "AWS_LAMBDA_FUNCTION_NAME": "gateway",
        }
        containers: list[Container] = []
        try:
            for name in ("a", "b"):
                containers.append(Container(env, tmp_path / f"container-{name}.log"))
            yield containers, flights, redis_server
        finally:
            for container in containers:
                container.stop()
            for service in (flights, legacy):
                service.stop()


def test_the_canary_ramps_across_lambda_containers_then_rolls_back_for_good(
    fleet: tuple[list[Container], Service, RedisServer],
) -> None:
    containers, flights, redis_server = fleet
    a, b = containers

    drive(containers, lambda: min(a.canary()["percent"] or 0, b.canary()["percent"] or 0) >= 75)
    assert flights_calls(flights) > 0
    fault = {"path_prefix": "/api/flights", "error_rate": 1.0, "status": 503}
    httpx.post(f"{flights.url}/_stub/faults", json=fault).raise_for_status()
    drive(containers, lambda: all(c.canary()["rolled_back"] for c in containers))

    before, started = flights_calls(flights), time.monotonic()
    sent = drive(containers, lambda: time.monotonic() - started > 3.5)  # 3.5 `every`s
    assert sent > 20
    assert flights_calls(flights) == before  # nobody moved back

    assert [c.targets() for c in containers] == [{"legacy", "flights"}] * 2
    for container in containers:  # up by steps, then 0 for good: never back and forth
        shown = container.percents
        ramp, after = shown[: shown.index(0)], shown[shown.index(0) :]
        assert ramp == sorted(ramp) and ramp[0] >= 25 and ramp[-1] >= 75, shown
        assert set(after) == {0}, shown
    views = [c.canary() for c in containers]
    assert views[0]["history"] == views[1]["history"]  # one shared state, through Redis
    assert [view["store"] for view in views] == ["redis", "redis"]
    history = views[0]["history"]
    actions = [line.split()[2] for line in history]
    assert actions[0] == "armed" and actions[-1] == "rollback"
    assert set(actions[1:-1]) == {"raise"} and len(actions) >= 4
    assert "max_error_rate" in views[0]["reason"]
    deciders = {line.split()[1].rsplit(":", 1)[1] for line in history}
    assert deciders <= {str(c.process.pid) for c in containers}

    # Each decision once, as a JSON line, in the log of the container that took it.
    logged = sorted(
        (line["rev"], line["action"], line["percent"], str(c.process.pid) in line["gateway"])
        for c in containers
        for line in c.decisions()
    )
    assert logged == [
        (rev, action, _to_percent(line), True)
        for rev, (action, line) in enumerate(zip(actions, history, strict=True), 1)
    ]
    with redis_server.client() as r:
        assert len(r.keys("gateway:ramp:*")) == 1

    # On AWS /_gateway/routes is not routed: `routes status --ramps` reads the shared state.
    status = subprocess.run(
        [sys.executable, "-m", "gateway", "routes", "status", "--ramps"],
        cwd=ROOT,
        env=a.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    print(status)  # shown by -s, or when the test fails
    lines = status.splitlines()
    head = f"redis {ROUTE}: canary → flights at 0%, ROLLED BACK ({views[0]['reason']})"
    at = next(i for i, line in enumerate(lines) if line.startswith(head))
    assert lines[at + 1 : at + 1 + len(history)] == [f"  {line}" for line in history]


def _to_percent(history_line: str) -> int:
    """ "<time> <gateway> armed at 25%" → 25; "<time> <gateway> raise 25% → 50%: ..." → 50."""
    words = history_line.split()
    return int((words[4] if words[2] == "armed" else words[5]).rstrip("%:"))
