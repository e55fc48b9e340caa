"""The live route table of a route store (store.py), as reload.py keeps one of a file.

A daemon thread, started by the first `current()` (never at import), asks the store every
`poll_s` seconds, jittered so that a fleet of gateways does not ask in step, with the ETag
it last saw: an unchanged table is a 304 with no body. A good new version replaces the
table in one assignment; a bad one is logged and reported by `health()` while the last
good table stays in use, until a later good version clears the error. Requests never wait
on the store, except the very first, which waits (at most `first_wait_s`) for the first
answer so that a cold gateway does not serve the packaged table after a flip.

On Lambda the thread is frozen with the container between invocations and polls again
when it thaws: a warm container catches up within one poll of its next request.
"""

from __future__ import annotations

import logging
import os
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from gateway.config import SettingsError
from gateway.routing.errors import RoutesError
from gateway.routing.store import Fetched, RouteStore, StoreError, VersionInfo, parse_store_uri
from gateway.routing.table import RouteTable, parse_table

logger = logging.getLogger("gateway.routing")

DEFAULT_POLL_S = 5.0


def next_delay(poll_s: float, draw: float) -> float:
    """±20 % around `poll_s`, `draw` in [0, 1): (5.0, 0.5) → 5.0, (5.0, 0.0) → 4.0."""
    return poll_s * (0.8 + 0.4 * draw)


def poll_interval(env: Mapping[str, str]) -> float:
    """ROUTES_POLL_S (default 5), a positive number of seconds; ValueError otherwise."""
    raw = env.get("ROUTES_POLL_S") or str(DEFAULT_POLL_S)
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 3600:
        raise ValueError(f"ROUTES_POLL_S={raw!r} must be a number of seconds in (0, 3600]")
    return seconds


def remote_source(
    env: Mapping[str, str] | None, *, fallback: RouteTable
) -> RemoteRouteSource | None:
    """The store's live table when ROUTES_STORE is set, else None; SettingsError at start-up
    for a malformed ROUTES_STORE or ROUTES_POLL_S. Builds no client: nothing connects yet."""
    given = os.environ if env is None else env
    if not given.get("ROUTES_STORE"):
        return None
    try:
        location = parse_store_uri(given["ROUTES_STORE"])
        poll_s = poll_interval(given)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return RemoteRouteSource(RouteStore(location), fallback=fallback, env=env, poll_s=poll_s)


@dataclass(frozen=True)
class _State:
    table: RouteTable
    served: VersionInfo | None  # None: still the fallback table, no good version yet
    seen_etag: str | None  # the newest version looked at, good or bad
    loaded_at: str
    problems: tuple[str, ...] = ()  # why the newest version was refused
    fetch_error: str | None = None  # why the store could not be asked last time

    @property
    def error(self) -> str | None:
        if self.fetch_error:
            return self.fetch_error
        return "\n".join(self.problems) if self.problems else None


class RemoteRouteSource:
    """Same face as `RouteTableSource`: `current()` per request, `health()` for /healthz."""

    def __init__(
        self,
        store: RouteStore,
        *,
        fallback: RouteTable,
        env: Mapping[str, str] | None = None,
        poll_s: float = DEFAULT_POLL_S,
        first_wait_s: float = 3.0,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self._env = env
        self._poll_s = poll_s
        self._first_wait_s = first_wait_s
        self._draw = draw
        self._state = _State(fallback, None, None, _now())
        self._started = threading.Lock()
        self._thread: threading.Thread | None = None
        self._first = threading.Event()
        self._stop = threading.Event()

    def current(self) -> RouteTable:
        if self._thread is None:
            self._start()
        return self._state.table

    def health(self) -> dict[str, Any]:
        state = self._state
        served = state.served
        return {
            "version": state.table.version,
            "source": state.table.source,
            "loaded_at": state.loaded_at,
            "error": state.error,
            "problems": list(state.problems),
            "store": {
                "uri": self.store.uri,
                "version_id": served.version_id if served else None,
                "author": served.author if served else None,
                "published_at": served.published_at if served else None,
                "message": served.message if served else None,
                "rollback_of": served.rollback_of if served else None,
            },
        }

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def poll_once(self) -> None:
        """Ask the store once and swap or keep; the poller's step, also run by the tests."""
        try:
            fetched = self.store.fetch(etag=self._state.seen_etag)
        except StoreError as exc:
            self._failed(str(exc))
            return
        if fetched is None:
            self._state = replace(self._state, fetch_error=None)
            return
        try:
            table = self._parse(fetched)
        except RoutesError as exc:
            self._keep(fetched.info, tuple(str(problem) for problem in exc.problems))
            return
        self._swap(table, fetched.info)

    def _start(self) -> None:
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="routes-poller", daemon=True)
                self._thread.start()
        self._first.wait(self._first_wait_s)

    def _run(self) -> None:
        while True:
            try:
                self.poll_once()
            except Exception:  # the poller must outlive any surprise; the error is logged
                logger.exception("routes: polling %s failed", self.store.uri)
            self._first.set()
            if self._stop.wait(next_delay(self._poll_s, self._draw())):
                return

    def _parse(self, fetched: Fetched) -> RouteTable:
        source = f"{self.store.uri}@{fetched.info.version_id}"
        env = os.environ if self._env is None else self._env
        return parse_table(fetched.text, source=source, env=env)

    def _swap(self, table: RouteTable, info: VersionInfo) -> None:
        old = self._state.table.version
        self._state = _State(table, info, info.etag, _now())
        logger.info(
            "routes: loaded %s version %s (was %s), pushed by %s: %s",
            table.source,
            table.version,
            old,
            info.author,
            info.message,
        )

    def _keep(self, info: VersionInfo, problems: tuple[str, ...]) -> None:
        """Record a bad version and go on with the last good table; log it once."""
        state = self._state
        self._state = replace(state, seen_etag=info.etag, problems=problems, fetch_error=None)
        for problem in problems:
            logger.error(
                "routes: %s@%s: %s (keeping version %s)",
                self.store.uri,
                info.version_id,
                problem,
                state.table.version,
            )

    def _failed(self, reason: str) -> None:
        if reason != self._state.fetch_error:
            logger.error("routes: %s (keeping version %s)", reason, self._state.table.version)
        self._state = replace(self._state, fetch_error=reason)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
