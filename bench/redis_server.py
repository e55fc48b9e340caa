"""A redis-server of the run's own (for the L2 scenarios): a free 127.0.0.1 port, no
persistence (`--save "" --appendonly no`), a temporary directory, stopped with the run.
And the counters a scenario reads from it around a load run.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from tests.support.processes import free_port, stop_process

INSTALL_HINT = "apt-get install -y redis-server   (Debian's package; the L2 scenarios need it)"
# Commands the harness itself sends while counting (a new connection says HELLO first);
# everything else came from the gateway.
OWN_COMMANDS = frozenset(
    {"info", "config", "config|resetstat", "ping", "hello", "client", "client|setinfo"}
)


@dataclass
class RedisProcess:
    url: str
    port: int
    process: subprocess.Popen[bytes]

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)

    def stop(self) -> None:
        stop_process(self.process)


def start_redis(workdir: Path, *, timeout_s: float = 10) -> RedisProcess:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(f"redis-server is not installed: {INSTALL_HINT}")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--loglevel", "warning",
    ]  # fmt: skip
    with (workdir / "redis.log").open("ab") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
    server = RedisProcess(f"redis://127.0.0.1:{port}/0", port, process)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}: see {log.name}")
        try:
            with server.client() as client:
                client.ping()
            return server
        except redis.ConnectionError:
            time.sleep(0.05)
    server.stop()
    raise RuntimeError(f"redis-server not ready within {timeout_s} s")


def reset_counters(url: str) -> None:
    with redis.Redis.from_url(url, socket_timeout=10) as client:
        client.config_resetstat()


def read_counters(url: str) -> dict[str, Any]:
    """Calls per command (the harness's own left out), keyspace hits and misses.

    {"commands": {"mget": 2400}, "calls": 2400, "keyspace_hits": 2400, "keyspace_misses": 0}
    """
    with redis.Redis.from_url(url, socket_timeout=10) as client:
        commands = client.info("commandstats")
        stats = client.info("stats")
    calls = {
        name.removeprefix("cmdstat_"): int(values["calls"])
        for name, values in commands.items()
        if name.removeprefix("cmdstat_") not in OWN_COMMANDS
    }
    return {
        "commands": calls,
        "calls": sum(calls.values()),
        "keyspace_hits": int(stats["keyspace_hits"]),
        "keyspace_misses": int(stats["keyspace_misses"]),
    }
