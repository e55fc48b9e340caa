"""RouteTableSource: reload on change, keep the last good table on a bad file, report health."""

import logging
import os
from datetime import datetime
from pathlib import Path

import pytest

from gateway.routing.errors import RoutesError
from gateway.routing.reload import RouteTableSource
from gateway.routing.table import default_table

ENV = {"LEGACY_URL": "http://legacy", "FLIGHTS_URL": "http://flights"}

GOOD = """\
version: 1
backends:
  legacy: {url: "${LEGACY_URL}"}
  flights: {url: "${FLIGHTS_URL}"}
default: legacy
routes:
  - path: /api/flights
    target: TARGET
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class RoutesFile:
    """The routes file; every write gets a new mtime, as a real edit seconds later would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mtime_ns = 1_700_000_000_000_000_000

    def write(self, text: str) -> None:
        self.path.write_text(text, encoding="utf-8")
        self.mtime_ns += 1_000_000_000
        os.utime(self.path, ns=(self.mtime_ns, self.mtime_ns))


@pytest.fixture
def routes_file(tmp_path: Path) -> RoutesFile:
    file = RoutesFile(tmp_path / "routes.yaml")
    file.write(GOOD.replace("TARGET", "legacy"))
    return file


def source_for(file: RoutesFile, clock: FakeClock) -> RouteTableSource:
    return RouteTableSource(str(file.path), env=ENV, check_interval_s=1.0, clock=clock)


def target(source: RouteTableSource) -> str:
    route = source.current().match("GET", "/api/flights")
    assert route is not None
    return route.target


def test_a_change_is_picked_up_after_the_check_interval(routes_file: RoutesFile) -> None:
    clock = FakeClock()
    source = source_for(routes_file, clock)
    first = source.current()
    routes_file.write(GOOD.replace("TARGET", "flights"))
    clock.now += 0.5
    assert source.current() is first  # not looked at yet
    clock.now += 0.5
    assert target(source) == "flights"
    assert source.current().version != first.version
    assert source.health()["error"] is None


def test_an_unchanged_file_is_not_read_again(routes_file: RoutesFile) -> None:
    clock = FakeClock()
    source = source_for(routes_file, clock)
    first = source.current()
    clock.now += 5
    assert source.current() is first


def test_a_bad_file_keeps_the_last_good_table_until_fixed(
    routes_file: RoutesFile, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    source = source_for(routes_file, clock)
    good = source.current()
    routes_file.write(GOOD.replace("TARGET", "flihgts"))
    clock.now += 1
    with caplog.at_level(logging.ERROR, logger="gateway.routing"):
        assert source.current() is good
    problem = (
        f"{routes_file.path}:8: routes[0] (/api/flights): target 'flihgts' is not a backend; "
        "use one of the backends (flights, legacy) or add flihgts under backends"
    )
    health = source.health()
    assert health == {
        "version": good.version,
        "source": str(routes_file.path),
        "loaded_at": health["loaded_at"],
        "error": problem,
        "problems": [problem],
    }
    assert [record.getMessage() for record in caplog.records] == [
        f"routes: {problem} (keeping version {good.version})"
    ]
    # Logged once, not at every check.
    caplog.clear()
    clock.now += 1
    source.current()
    assert caplog.records == []
    # A later good file clears the error.
    routes_file.write(GOOD.replace("TARGET", "flights"))
    clock.now += 1
    assert target(source) == "flights"
    assert (source.health()["error"], source.health()["problems"]) == (None, [])


def test_a_deleted_file_is_reported_and_the_table_kept(routes_file: RoutesFile) -> None:
    clock = FakeClock()
    source = source_for(routes_file, clock)
    good = source.current()
    routes_file.path.unlink()
    clock.now += 1
    assert source.current() is good
    assert source.health()["error"] == (
        f"{routes_file.path}: cannot read the file (No such file or directory); restore it"
    )
    routes_file.write(GOOD.replace("TARGET", "flights"))
    clock.now += 1
    assert target(source) == "flights"
    assert source.health()["error"] is None


def test_a_file_replaced_by_rename_is_picked_up(routes_file: RoutesFile, tmp_path: Path) -> None:
    routes_file.write(GOOD.replace("TARGET", "legacy "))
    clock = FakeClock()
    source = source_for(routes_file, clock)
    replacement = tmp_path / "new.yaml"
    replacement.write_text(GOOD.replace("TARGET", "flights"), encoding="utf-8")
    stat = routes_file.path.stat()
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert replacement.stat().st_size == stat.st_size  # only the inode tells them apart
    replacement.replace(routes_file.path)
    clock.now += 1
    assert target(source) == "flights"


def test_a_bad_file_at_start_up_fails(routes_file: RoutesFile) -> None:
    routes_file.write(GOOD.replace("TARGET", "nowhere"))
    with pytest.raises(RoutesError, match="target 'nowhere' is not a backend"):
        source_for(routes_file, FakeClock())
    with pytest.raises(RoutesError, match=r"\$\{FLIGHTS_URL\}, which is not set"):
        RouteTableSource(str(routes_file.path), env={"LEGACY_URL": "http://l"})


def test_health_of_a_fresh_source(routes_file: RoutesFile) -> None:
    source = source_for(routes_file, FakeClock())
    health = source.health()
    assert health["version"] == source.current().version
    assert (health["error"], health["problems"]) == (None, [])
    assert datetime.fromisoformat(health["loaded_at"]).tzinfo is not None


def test_a_fixed_table_never_reloads() -> None:
    table = default_table(legacy_url="http://legacy", flights_url=None)
    source = RouteTableSource.from_table(table)
    assert source.current() is table
    assert source.health()["source"] == "<built-in default>"
    assert source.health()["error"] is None
