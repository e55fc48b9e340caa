"""Keeping the route table in step with its file, without restarts and without bad tables.

`current()` is called per request and is cheap: at most every `check_interval_s` it stats
the file, and only when (mtime, size, inode) changed does it read and check it. A good file
replaces the table in one assignment; a bad one is logged and reported by `health()` while
the last good table stays in use, until a later good file clears the error.
"""

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from gateway.routing.errors import Problem, RoutesError
from gateway.routing.table import RouteTable, parse_table

logger = logging.getLogger("gateway.routing")

# What identifies one version of the file: (mtime_ns, size, inode).
_Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class _State:
    table: RouteTable
    stamp: _Stamp | None
    loaded_at: str
    problems: tuple[Problem, ...] = ()

    @property
    def error(self) -> str | None:
        return str(RoutesError(self.problems)) if self.problems else None


class RouteTableSource:
    """The live route table of one file. Construction fails (RoutesError, OSError) if the
    file is bad at start-up."""

    def __init__(
        self,
        path: str,
        *,
        env: Mapping[str, str] | None = None,
        check_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path: str | None = path
        self._env = env
        self._check_interval_s = check_interval_s
        self._clock = clock
        self._lock = threading.Lock()
        text, stamp = _read(path)
        table = parse_table(text, source=path, env=_environment(env))
        self._state = _State(table, stamp, _now())
        self._checked_at = clock()

    @classmethod
    def from_table(cls, table: RouteTable) -> "RouteTableSource":
        """A source that always returns `table` (packaged tables, tests)."""
        source = cls.__new__(cls)
        source._path = None
        source._env = None
        source._check_interval_s = math.inf
        source._clock = time.monotonic
        source._lock = threading.Lock()
        source._state = _State(table, None, _now())
        source._checked_at = 0.0
        return source

    def current(self) -> RouteTable:
        if self._path is not None and self._clock() - self._checked_at >= self._check_interval_s:
            self._check(self._path)
        return self._state.table

    def health(self) -> dict[str, Any]:
        state = self._state
        return {
            "version": state.table.version,
            "source": state.table.source,
            "loaded_at": state.loaded_at,
            "error": state.error,
            "problems": [str(problem) for problem in state.problems],
        }

    def _check(self, path: str) -> None:
        if not self._lock.acquire(blocking=False):
            return  # another thread is checking; this request keeps the current table
        try:
            self._checked_at = self._clock()
            self._reload_if_changed(path)
        finally:
            self._lock.release()

    def _reload_if_changed(self, path: str) -> None:
        try:
            if _stamp(os.stat(path)) == self._state.stamp:
                return
            text, stamp = _read(path)
        except OSError as exc:
            problem = Problem(path, 0, "", f"cannot read the file ({exc.strerror})", "restore it")
            self._keep((problem,), None)
            return
        try:
            table = parse_table(text, source=path, env=_environment(self._env))
        except RoutesError as exc:
            self._keep(exc.problems, stamp)
            return
        self._swap(table, stamp)

    def _swap(self, table: RouteTable, stamp: _Stamp) -> None:
        old = self._state.table.version
        self._state = _State(table, stamp, _now())
        logger.info("routes: loaded %s version %s (was %s)", table.source, table.version, old)

    def _keep(self, problems: tuple[Problem, ...], stamp: _Stamp | None) -> None:
        """Record a bad file and go on with the last good table; log each new error once."""
        state = self._state
        self._state = replace(state, stamp=stamp, problems=problems)
        if problems != state.problems:
            version = state.table.version
            for problem in problems:
                logger.error("routes: %s (keeping version %s)", problem, version)


def _read(path: str) -> tuple[str, _Stamp]:
    """The file's text, and the stamp of the very file that was read."""
    with open(path, encoding="utf-8") as file:
        stamp = _stamp(os.fstat(file.fileno()))
        return file.read(), stamp


def _environment(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _stamp(stat: os.stat_result) -> _Stamp:
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
