"""`make run`'s start-up failures name the service, its address and the variable that moves
it, exit non-zero and leave nothing running. Run as `python -m gateway.devstack`, as make does."""

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.devstack import DEFAULT_PORTS
from tests.support.processes import ROOT, free_port

pytestmark = pytest.mark.e2e

NAMES = {"GATEWAY": "the gateway", "LEGACY": "the monolith stub", "FLIGHTS": "the flights service"}


@pytest.fixture
def ports() -> dict[str, int]:
    return {key: free_port() for key in DEFAULT_PORTS}


@pytest.fixture
def occupied() -> Iterator[socket.socket]:
    """A listening socket on a free port, as another program holding it would be."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock


def make_run(ports: dict[str, int], **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{f"{key}_PORT": str(port) for key, port in ports.items()}, **extra}
    with subprocess.Popen(
        [sys.executable, "-m", "gateway.devstack"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: what it started, and nothing else
    ) as run:
        try:
            stdout, stderr = run.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGINT)  # make run's Ctrl-C: it stops what it started
            run.communicate(timeout=30)
            raise
    return subprocess.CompletedProcess(run.args, run.returncode, stdout, stderr)


def uvicorns_on(ports: dict[str, int]) -> list[str]:
    """Command lines of processes still serving one of these ports."""
    wanted = {f"--port\0{port}\0" for port in ports.values()}
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_text()
        except OSError:  # the process ended meanwhile
            continue
        if any(port in text for port in wanted):
            found.append(text.replace("\0", " "))
    return found


def can_listen(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.parametrize("key", list(DEFAULT_PORTS))
def test_a_busy_port_names_the_service_the_address_and_the_variable(
    key: str, ports: dict[str, int], occupied: socket.socket
) -> None:
    busy = occupied.getsockname()[1]
    ports[key] = busy
    result = make_run(ports)
    assert result.returncode == 1
    first, rest = result.stderr.split("; ", 1)
    assert first == f"make run: {NAMES[key]} could not listen on 127.0.0.1:{busy} (port in use)"
    assert rest.startswith(f"set {key}_PORT to a free port to move it, e.g. {key}_PORT=")
    assert result.stdout == ""
    assert uvicorns_on(ports) == []


def test_two_services_on_one_port_are_refused(ports: dict[str, int]) -> None:
    ports["FLIGHTS"] = ports["LEGACY"]
    result = make_run(ports)
    assert result.returncode == 1
    assert result.stderr.startswith(
        f"make run: the monolith stub and the flights service are both set to port "
        f"{ports['LEGACY']}; set FLIGHTS_PORT to a free port to move it"
    )


def test_a_port_that_is_not_a_number_is_refused(ports: dict[str, int]) -> None:
    result = make_run(ports, LEGACY_PORT="80o1")
    assert (result.returncode, result.stderr) == (
        1,
        "make run: LEGACY_PORT='80o1' is not a port; use a number from 1 to 65535\n",
    )


def test_a_service_that_dies_at_start_up_stops_the_others(
    ports: dict[str, int], tmp_path: Path
) -> None:
    """The backends are up when the gateway fails (here, on a broken routes file): the
    message names the gateway and its address, and the backends are stopped too."""
    routes = tmp_path / "routes.yaml"
    routes.write_text("version: 1\nbackends: {}\ndefault: nowhere\n", encoding="utf-8")
    result = make_run(ports, ROUTES_FILE=str(routes))
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"make run: the gateway on 127.0.0.1:{ports['GATEWAY']} exited with "
    ) and last.endswith(" before it was ready (its own message is above)")
    assert uvicorns_on(ports) == []
    assert all(can_listen(port) for port in ports.values())
