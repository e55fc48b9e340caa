"""Per-request batching of keyed loads, lighter than a dataloader.

Keys asked for in the same turns of the event loop are fetched as one batch (the window
is aiodataloader's: the batch is taken two loop iterations after its first key, so
strawberry's resolvers for every item of a list land in one batch). What each key came to,
a value or an error, is kept for the rest of the request: asking again costs a dict
lookup, not a future per key, and a failure is not retried by a second executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from typing import Any, Generic, TypeVar

V = TypeVar("V")
Fetch = Callable[[list[str]], Awaitable[Sequence[V]]]
# Values for all of the keys when each is at hand without any I/O (a fresh L1 hit), else
# None; like the fetch, it records what it read in the request's cache trace.
Peek = Callable[[list[str]], Sequence[V] | None]


class Level:
    """One level of a planned run (gateway.execution.run) while its loads run. There, keys
    whose values are all at hand are answered at once, with no batch window, future or
    task -- the planner loads a whole level in one call per relation, so there is nothing
    left to batch them with -- and the level's loads may share what they work out from the
    same parents (`shared`: the twenty trips' flights, read by `flights` and by `totalCost`
    alike), for as long as the level runs. Strawberry's resolvers (the reference executor)
    run outside any level and keep the window: the order in which its fields complete, and
    so its errors' order, stays what it always was."""

    __slots__ = ("shared",)

    def __init__(self) -> None:
        self.shared: dict[Any, Any] = {}


planned_level: ContextVar[Level | None] = ContextVar("gateway_planned_level", default=None)


class Batches(Generic[V]):
    def __init__(self, fetch: Fetch[V], peek: Peek[V] | None = None) -> None:
        self._fetch = fetch
        self._peek = peek
        self._done: dict[str, V] = {}
        self._failed: dict[str, Exception] = {}
        self._waiting: dict[str, asyncio.Future[None]] = {}  # key → its batch
        self._queue: list[str] = []
        self._batch: asyncio.Future[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._replay: set[str] = set()

    async def load_all(self, keys: Sequence[str]) -> list[V]:
        """A value per key, in order; raises the error of the first failed key."""
        done, replay = self._done, self._replay
        if not replay:
            try:  # the common case once a level has loaded: every key known
                return [done[key] for key in keys]
            except KeyError:
                pass
        missing = [key for key in keys if key not in done or key in replay]
        if (
            missing
            and self._peek is not None
            and planned_level.get() is not None
            and not replay
            and not any(key in self._failed for key in missing)  # a failure stays one
        ):
            missing = list(dict.fromkeys(missing))  # twenty trips, one traveler: one read
            known = self._peek(missing)
            if known is not None:
                done.update(zip(missing, known, strict=True))
                return [done[key] for key in keys]
        if missing:
            for batch in self._batches_of(missing):
                # Shielded: a cancelled waiter (a sibling field's error ended its resolver)
                # must not cancel the batch the other waiters share.
                await asyncio.shield(batch)
            for key in missing:
                failed = self._failed.get(key)
                if failed is not None:
                    raise failed
        return [done[key] for key in keys]

    def replay(self) -> None:
        """From now on, what is already known (loaded or failed) is answered once more as
        late as a fresh batch would answer it, without a fetch: a second executor running
        the same request then sees results and errors arrive in about the order a first
        one would, not all at once."""
        self._replay = {*self._done, *self._failed}

    def prime(self, key: str, value: V) -> None:
        """Known without a fetch (a trip that came with a page); a known key stays."""
        if key not in self._failed:
            self._done.setdefault(key, value)

    def replace(self, key: str, value: V) -> None:
        self._failed.pop(key, None)
        self._done[key] = value

    def _batches_of(self, keys: list[str]) -> list[asyncio.Future[None]]:
        batches: list[asyncio.Future[None]] = []
        for key in keys:
            failed = self._failed.get(key)
            if failed is not None and key not in self._replay:
                raise failed
            batch = self._waiting.get(key) or self._enqueue(key)
            if batch not in batches:
                batches.append(batch)
        return batches

    def _enqueue(self, key: str) -> asyncio.Future[None]:
        if self._batch is None:
            loop = asyncio.get_running_loop()
            self._batch = loop.create_future()
            loop.call_soon(loop.call_soon, self._dispatch)
        self._queue.append(key)
        self._waiting[key] = self._batch
        return self._batch

    def _dispatch(self) -> None:
        batch, keys = self._batch, self._queue
        self._batch, self._queue = None, []
        if batch is None:
            return
        task = asyncio.ensure_future(self._run(batch, keys))
        self._tasks.add(task)  # a running task must be referenced until it ends
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: asyncio.Future[None], keys: list[str]) -> None:
        """Fetch what is not known; waiters read their keys' values or errors afterwards."""
        wanted = [key for key in keys if key not in self._done and key not in self._failed]
        try:
            if wanted:
                self._done.update(zip(wanted, await self._fetch(wanted), strict=True))
        except Exception as error:
            for key in wanted:
                self._failed[key] = error
        except BaseException:
            for key in keys:
                del self._waiting[key]
            batch.cancel()
            raise
        for key in keys:
            del self._waiting[key]
            self._replay.discard(key)
        if not batch.done():
            batch.set_result(None)
