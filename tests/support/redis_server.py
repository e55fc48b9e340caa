"""Real redis-server processes for tests: one server on a free 127.0.0.1 port that can be
stopped and restarted on the same port, and a 3-node Redis Cluster.

No system service is used; each process runs with `--save "" --appendonly no` in a
temporary directory and is stopped at the end. A missing redis-server fails the tests
(it is not a reason to skip): `make test` installs it.

Fixtures are imported explicitly by the test modules that use them:

    from tests.support.redis_server import redis_server_fixture, redis_session_server_fixture
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest
import redis

INSTALL_HINT = (
    "redis-server/redis-cli not found on PATH. `make test` installs them "
    "(apt-get update && apt-get install -y redis-server redis-tools)."
)
START_TIMEOUT_S = 10.0


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(INSTALL_HINT, pytrace=False)
    return path


def free_port(*, with_bus: bool = False) -> int:
    """A free 127.0.0.1 port (and, for cluster nodes, a free bus port at port + 10000)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not with_bus:
            return port
        if port + 10_000 < 65_536 and _is_free(port + 10_000):
            return port
    raise RuntimeError("no free port pair found")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class RedisServer:
    """`with RedisServer() as server: ... server.url ...`; `stop()` / `start()` keep the port."""

    def __init__(self, *, port: int | None = None, cluster: bool = False) -> None:
        self.cluster = cluster
        self.port = port if port is not None else free_port(with_bus=cluster)
        self._dir = tempfile.TemporaryDirectory(prefix=f"redis-{self.port}-")
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0" if not self.cluster else self.node_url

    @property
    def node_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        if self.running:
            return
        args = [
            _binary("redis-server"),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            "--dir", self._dir.name,
            "--loglevel", "warning",
        ]  # fmt: skip
        if self.cluster:
            args += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        with Path(self._dir.name, "redis.log").open("ab") as log:
            self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self._wait_for_ping()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self) -> redis.Redis:
        """A plain sync client for assertions; use it in a `with` block."""
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def reset(self) -> None:
        with self.client() as r:
            r.flushall()
        self.reset_stats()

    def reset_stats(self) -> None:
        with self.client() as r:
            r.config_resetstat()

    def command_calls(self, command: str) -> int:
        """How often `command` ran since the last reset (INFO commandstats)."""
        with self.client() as r:
            stats = r.info("commandstats")
        return int(stats.get(f"cmdstat_{command.lower()}", {}).get("calls", 0))

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        self._dir.cleanup()

    def _wait_for_ping(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                break
            try:
                with self.client() as r:
                    if r.ping():
                        return
            except redis.RedisError:
                time.sleep(0.02)
        log = Path(self._dir.name, "redis.log").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not start:\n{log}")


class RedisClusterNodes:
    """Three cluster-enabled redis-server processes joined with `redis-cli --cluster create`
    (no replicas), all 16384 slots covered."""

    def __init__(self, size: int = 3) -> None:
        self.nodes = [RedisServer(cluster=True) for _ in range(size)]

    @property
    def url(self) -> str:
        return self.nodes[0].node_url

    def __enter__(self) -> RedisClusterNodes:
        try:
            for node in self.nodes:
                node.start()
            self._create()
            self._wait_until_ok()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for node in self.nodes:
            node.__exit__(None, None, None)

    def reset(self) -> None:
        for node in self.nodes:
            node.reset()

    def reset_stats(self) -> None:
        for node in self.nodes:
            node.reset_stats()

    def command_calls(self, command: str) -> int:
        return sum(node.command_calls(command) for node in self.nodes)

    def keys_per_node(self) -> list[int]:
        counts = []
        for node in self.nodes:
            with node.client() as r:
                counts.append(int(r.dbsize()))
        return counts

    def _create(self) -> None:
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        result = subprocess.run(
            [
                _binary("redis-cli"),
                *("--cluster", "create", *addresses),
                *("--cluster-replicas", "0", "--cluster-yes"),
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed:\n{result.stdout.decode()}")

    def _wait_until_ok(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if all(self._state(node) == "ok" for node in self.nodes):
                return
            time.sleep(0.05)
        raise RuntimeError("the Redis Cluster did not reach cluster_state:ok")

    @staticmethod
    def _state(node: RedisServer) -> str:
        with node.client() as r:
            info = r.execute_command("CLUSTER INFO")  # redis-py parses it into a dict
        return str(info.get("cluster_state", "unknown")) if isinstance(info, dict) else "unknown"


# Fixtures carry `name=` so a test module can import them (`from ... import
# redis_server_fixture`) and ask for `redis_server` without shadowing the import.


@pytest.fixture(scope="session", name="redis_session_server")
def redis_session_server_fixture() -> Iterator[RedisServer]:
    with RedisServer() as server:
        yield server


@pytest.fixture(name="redis_server")
def redis_server_fixture(redis_session_server: RedisServer) -> RedisServer:
    """A shared redis-server, emptied and with fresh command stats for each test."""
    redis_session_server.start()  # in case a test stopped it
    redis_session_server.reset()
    return redis_session_server


@pytest.fixture(scope="session", name="redis_session_cluster")
def redis_session_cluster_fixture() -> Iterator[RedisClusterNodes]:
    with RedisClusterNodes() as cluster:
        yield cluster


@pytest.fixture(name="redis_cluster")
def redis_cluster_fixture(redis_session_cluster: RedisClusterNodes) -> RedisClusterNodes:
    """A shared 3-node Redis Cluster, emptied for each test."""
    redis_session_cluster.reset()
    return redis_session_cluster
