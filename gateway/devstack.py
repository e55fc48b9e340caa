"""`make run`: the whole local stack in the foreground, on embedded defaults (no Redis, no AWS).

Starts the monolith stub, the flights service and the gateway as uvicorn processes, prints
where to point a browser and a dev token, and stops all three cleanly on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping

from gateway.auth import issue_dev_token
from gateway.config import DEV_JWT_SECRET


def _start(
    module: str, port: int, env: Mapping[str, str], *, factory: bool = False
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        module,
        *(["--factory"] if factory else []),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=dict(env))


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited with {process.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout_s:g} s")


def main() -> int:
    ports = {
        name: int(os.environ.get(f"{name}_PORT", default))
        for name, default in (("GATEWAY", 8000), ("LEGACY", 8001), ("FLIGHTS", 8002))
    }
    legacy, flights = f"http://127.0.0.1:{ports['LEGACY']}", f"http://127.0.0.1:{ports['FLIGHTS']}"
    env = {
        **os.environ,
        "LEGACY_URL": legacy,
        "FLIGHTS_URL": flights,
        "GATEWAY_STAGE": os.environ.get("GATEWAY_STAGE", "dev"),
        "EVENTS_FEED_URL": os.environ.get("EVENTS_FEED_URL", f"{legacy}/_stub/events"),
    }
    secret = env.setdefault("GATEWAY_JWT_SECRET", DEV_JWT_SECRET)
    processes = [
        (_start("legacy_stub.app:app", ports["LEGACY"], env), f"{legacy}/_stub/stats"),
        (_start("services.flights.app:app", ports["FLIGHTS"], env), f"{flights}/_stub/stats"),
        (
            _start("gateway.app:create_app", ports["GATEWAY"], env, factory=True),
            f"http://127.0.0.1:{ports['GATEWAY']}/healthz",
        ),
    ]
    try:
        for process, url in processes:
            _wait_ready(url, process)
        _announce(ports["GATEWAY"], legacy, flights, secret)
        while all(process.poll() is None for process, _ in processes):
            time.sleep(0.5)
        print("a process of the stack exited; stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…")
        return 0
    finally:
        _stop([process for process, _ in processes])


def _announce(port: int, legacy: str, flights: str, secret: str) -> None:
    base = f"http://127.0.0.1:{port}"
    traveler = issue_dev_token("t-1", secret=secret)
    agent = issue_dev_token("agent-1", role="agent", secret=secret)
    print(
        f"""
BFF gateway is up.
  web schema     {base}/graphql/web      (open in a browser for GraphiQL)
  mobile schema  {base}/graphql/mobile
  REST clients   {base}/api/...           health {base}/healthz
  monolith stub  {legacy}     flights service {flights}

Dev token for traveler t-1 (GraphiQL → Headers: {{"Authorization": "Bearer <token>"}}):
  {traveler}
Agent token (may read anyone's data):
  {agent}
More: .venv/bin/python -m gateway token t-2 [--role agent]. Ctrl-C stops everything.
""",
        flush=True,
    )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    sys.exit(main())
