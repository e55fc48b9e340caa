"""Single flight for batches: concurrent misses for the same keys in one process share one
backend request, even when they come from different requests' dataloaders."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

V = TypeVar("V")


class InFlight(Generic[V]):
    def __init__(self) -> None:
        self._pending: dict[str, asyncio.Future[V]] = {}

    async def run_many(
        self, keys: Sequence[str], fetch: Callable[[list[str]], Awaitable[dict[str, V]]]
    ) -> dict[str, V]:
        """Values for `keys`: joined where a fetch is already under way, fetched otherwise.

        `fetch(keys)` answers a value for every key it was given (None-like values allowed).
        """
        joined = {key: self._pending[key] for key in keys if key in self._pending}
        mine = [key for key in dict.fromkeys(keys) if key not in joined]
        loop = asyncio.get_running_loop()
        futures = {key: loop.create_future() for key in mine}
        self._pending.update(futures)
        try:
            if mine:
                fetched = await fetch(mine)
                for key, future in futures.items():
                    future.set_result(fetched[key])
        except Exception as error:
            for future in futures.values():
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # retrieved: joiners re-raise it themselves
            raise
        except BaseException:  # cancelled: the joiners must not wait forever
            for future in futures.values():
                future.cancel()
            raise
        finally:
            for key, future in futures.items():
                if self._pending.get(key) is future:
                    del self._pending[key]
        results = {key: future.result() for key, future in futures.items()}
        for key, future in joined.items():
            results[key] = await asyncio.shield(future)
        return results
