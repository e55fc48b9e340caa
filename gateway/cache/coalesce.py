"""Coalesced Redis reads: every L2 lookup made in one turn of the event loop goes out as one
MGET. Under load many requests reach their L2 lookup together, and redis-py's per-command
cost (~60 µs of CPU here, against ~20 µs for the bytes on the wire) is then paid once per
batch instead of once per request. A lone lookup waits for nothing: the batch flushes at
the end of the same loop turn."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

V = TypeVar("V")
Fetch = Callable[[Sequence[str]], Awaitable[dict[str, V]]]


class Coalescer(Generic[V]):
    def __init__(self, fetch: Fetch[V]) -> None:
        self._fetch = fetch
        self._keys: dict[str, None] = {}
        self._waiting: list[asyncio.Future[dict[str, V]]] = []

    async def get_many(self, keys: Sequence[str]) -> dict[str, V]:
        loop = asyncio.get_running_loop()
        if not self._waiting:
            loop.call_soon(self._flush)
        self._keys.update(dict.fromkeys(keys))
        future: asyncio.Future[dict[str, V]] = loop.create_future()
        self._waiting.append(future)
        found = await future
        return {key: found[key] for key in keys if key in found}

    def _flush(self) -> None:
        keys, waiting = list(self._keys), self._waiting
        self._keys, self._waiting = {}, []
        task = asyncio.ensure_future(self._fetch(keys))
        task.add_done_callback(lambda done: _settle(done, waiting))


def _settle(
    done: asyncio.Future[dict[str, V]], waiting: list[asyncio.Future[dict[str, V]]]
) -> None:
    for future in waiting:
        if future.done():
            continue
        if done.cancelled():
            future.cancel()
        elif done.exception() is not None:
            future.set_exception(done.exception())  # type: ignore[arg-type]
        else:
            future.set_result(done.result())
