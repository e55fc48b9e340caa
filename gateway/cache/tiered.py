"""The read path: L1, then one Redis round trip, then the loader, once.

`get_or_load(key, load)`:

1. a fresh L1 entry answers at once;
2. otherwise the caller joins this process's flight for the key, or starts one
   (single flight: concurrent misses in one process make one backend request);
3. the flight reads Redis; a fresh entry there is copied into L1 and returned;
4. otherwise it takes a short Redis lease (SET NX PX) so other processes don't all load a
   cold key; if another process holds it, the flight polls Redis briefly for the value
   (retaking the lease if it is freed) and then loads anyway rather than fail;
5. the loaded value goes into L1 at once and into Redis after (in the background when
   `write_behind`), then the lease is released;
6. if the loader raises and a stale entry is still in its stale window, the stale value
   is served (stale-if-error).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.cache.coalesce import Coalescer
from gateway.cache.entry import Entry
from gateway.cache.keys import lease_key
from gateway.cache.l1 import L1Cache

if TYPE_CHECKING:  # redis-py costs ~60 ms to import: only when REDIS_URL is set
    from gateway.cache.redis_store import RedisStore

Tier = Literal["L1", "L2"]
Source = Literal["L1", "L2", "load", "stale"]
Loader = Callable[[], Awaitable[bytes]]
BatchLoader = Callable[[list[str]], Awaitable[dict[str, bytes | None]]]


@dataclass(frozen=True, slots=True)
class Hit:
    value: bytes
    tier: Tier
    fresh: bool


class TieredCache:
    def __init__(
        self,
        l1: L1Cache,
        l2: RedisStore | None,
        *,
        write_behind: bool = True,
        lease_ttl_ms: int = 2_000,
        lease_wait_s: float = 0.5,
        lease_poll_s: float = 0.02,
        generation_ttl_s: float = 86_400,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.l1 = l1
        self.l2 = l2
        self._write_behind = write_behind
        self._lease_ttl_ms = lease_ttl_ms
        self._lease_wait_s = lease_wait_s
        self._lease_poll_s = lease_poll_s
        self._generation_ttl_s = generation_ttl_s
        self._clock = clock
        self._flights: dict[str, asyncio.Future[tuple[bytes, Source]]] = {}
        self._l2_reads = Coalescer(l2.get_many) if l2 is not None else None
        self._tasks: set[asyncio.Task[None]] = set()

    # -- plain reads and writes ------------------------------------------------------------

    async def get_many(self, keys: Iterable[str]) -> dict[str, Hit]:
        """Fresh L1 hits, then ONE Redis round trip for the rest (copied into L1).
        Stale hits are returned too, with `fresh=False`, the freshest copy winning."""
        keys = list(dict.fromkeys(keys))
        now = self._clock()
        local = self.l1.get_many(keys)
        hits = {k: Hit(e.value, "L1", True) for k, e in local.items() if e.fresh(now)}
        missing = [k for k in keys if k not in hits]
        remote = await self._l2_reads.get_many(missing) if self._l2_reads and missing else {}
        for key in missing:
            best = _best(local.get(key), remote.get(key), now)
            if best is None:
                continue
            entry, tier = best
            if tier == "L2":
                self.l1.put(key, entry)
            hits[key] = Hit(entry.value, tier, entry.fresh(now))
        return hits

    async def get(self, key: str) -> Hit | None:
        return (await self.get_many([key])).get(key)

    async def set_many(self, items: Mapping[str, bytes], *, ttl_s: float, stale_s: float) -> None:
        """Into L1 now; into Redis now or, with `write_behind`, in a background task."""
        now = self._clock()
        for key, value in items.items():
            self.l1.set(key, value, ttl_s=ttl_s, stale_s=stale_s)
        if self.l2 is not None and items:
            entries = {
                k: Entry.create(v, now=now, ttl_s=ttl_s, stale_s=stale_s) for k, v in items.items()
            }
            await self._write(self.l2.put_many(entries))

    async def invalidate(self, keys: Sequence[str], *, generations: Sequence[str] = ()) -> bool:
        """Drop `keys` and replace the traveler `generations`, in L1 and in Redis (awaited).
        False if Redis could not confirm, so an event handler can ask for a redelivery."""
        self.l1.delete_many([*keys, *generations])
        if self.l2 is None:
            return True
        deleted = await self.l2.delete_many(keys)
        bumped = await self.l2.bump_generations(generations, ttl_s=self._generation_ttl_s)
        return deleted and bumped

    # -- traveler generations --------------------------------------------------------------

    async def generation(self, key: str) -> str | None:
        """The generation token to build a traveler's keys with. With Redis, always read
        from Redis (so every container sees an invalidation at once) and None when Redis is
        unavailable: then don't cache that traveler's data at all. Without Redis, L1 holds it."""
        if self.l2 is not None:
            return await self.l2.generation(key, ttl_s=self._generation_ttl_s)
        entry = self.l1.get(key)
        if entry is None:
            token = uuid.uuid4().hex[:16].encode()
            entry = Entry.create(token, now=self._clock(), ttl_s=self._generation_ttl_s)
            self.l1.put(key, entry)
        return entry.value.decode()

    # -- single flight -----------------------------------------------------------------------

    async def get_or_load(
        self,
        key: str,
        load: Loader,
        *,
        ttl_s: float,
        stale_s: float = 0.0,
        serve_stale_on: tuple[type[Exception], ...] = (Exception,),
    ) -> tuple[bytes, Source]:
        """The value for `key` and where it came from ("L1", "L2", "load" or "stale")."""
        entry = self.l1.get(key)
        if entry is not None and entry.fresh(self._clock()):
            return entry.value, "L1"
        flight = self._flights.get(key)
        if flight is None:  # no await since the L1 check: at most one flight per key
            flight = asyncio.ensure_future(self._fly(key, load, ttl_s, stale_s, serve_stale_on))
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._land(key, done))
        return await asyncio.shield(flight)

    async def _fly(
        self,
        key: str,
        load: Loader,
        ttl_s: float,
        stale_s: float,
        serve_stale_on: tuple[type[Exception], ...],
    ) -> tuple[bytes, Source]:
        hit = await self.get(key)
        if hit is not None and hit.fresh:
            return hit.value, hit.tier
        leased = await self._await_turn(key)
        if not isinstance(leased, bool):
            return leased.value, leased.tier
        try:
            value = await load()
        except Exception as exc:
            if leased and self.l2 is not None:  # let a waiting process take over now
                await self.l2.release_lease(lease_key(key))
            if hit is not None and isinstance(exc, serve_stale_on):
                return hit.value, "stale"
            raise
        await self._store(key, value, ttl_s=ttl_s, stale_s=stale_s, release=leased)
        return value, "load"

    async def _await_turn(self, key: str) -> bool | Hit:
        """True: load holding the lease. False: load without it. A Hit: someone else's load
        landed in Redis while we waited."""
        if self.l2 is None:
            return False
        lease = lease_key(key)
        if await self.l2.acquire_lease(lease, ttl_ms=self._lease_ttl_ms):
            return await self._landed_meanwhile(key) or True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lease_wait_s
        while loop.time() < deadline:
            await asyncio.sleep(self._lease_poll_s)
            hit = (await self.get_many([key])).get(key)
            if hit is not None and hit.fresh:
                return hit
            if await self.l2.acquire_lease(lease, ttl_ms=self._lease_ttl_ms):
                return await self._landed_meanwhile(key) or True
        return False

    async def _landed_meanwhile(self, key: str) -> Hit | None:
        """Just after taking the lease: another process may have loaded, stored and released
        between our miss and our lease. Its value is in Redis then (stored before the
        release), so look once more before loading the same key again."""
        assert self.l2 is not None
        hit = (await self.get_many([key])).get(key)
        if hit is None or not hit.fresh:
            return None
        await self.l2.release_lease(lease_key(key))
        return hit

    async def _store(
        self, key: str, value: bytes, *, ttl_s: float, stale_s: float, release: bool
    ) -> None:
        self.l1.set(key, value, ttl_s=ttl_s, stale_s=stale_s)
        if self.l2 is None:
            return
        entry = Entry.create(value, now=self._clock(), ttl_s=ttl_s, stale_s=stale_s)
        await self._write(self._put_and_release(self.l2, key, entry, release))

    @staticmethod
    async def _put_and_release(l2: RedisStore, key: str, entry: Entry, release: bool) -> bool:
        written = await l2.put_many({key: entry})
        if release:
            await l2.release_lease(lease_key(key))
        return written

    def _land(self, key: str, flight: asyncio.Future[tuple[bytes, Source]]) -> None:
        if self._flights.get(key) is flight:
            del self._flights[key]
        if not flight.cancelled():
            flight.exception()  # mark it retrieved even if every waiter went away

    # -- batches, across processes ------------------------------------------------------

    async def load_many(
        self,
        keys: Sequence[str],
        load: BatchLoader,
        *,
        ttl_s: float,
        stale_s: float,
    ) -> dict[str, bytes | None]:
        """Values for `keys` (None: the backend doesn't know it), loaded once across processes.

        The caller has already missed both tiers and holds this process's flight for every
        key. With Redis, it takes the keys' leases in one round trip; keys whose lease another
        process holds are awaited in Redis (briefly), the rest are loaded here, stored (L1 at
        once, Redis then), and their leases released.
        """
        if self.l2 is None:
            values = await load(list(keys))
            self._remember(values, ttl_s, stale_s)
            return values
        leases = {lease_key(key): key for key in keys}
        mine = await self.l2.acquire_leases(list(leases), ttl_ms=self._lease_ttl_ms)
        theirs = [key for lease, key in leases.items() if lease not in mine]
        # As in _landed_meanwhile: what another process stored (and released) between our
        # miss and our leases is in Redis now; take it rather than load it again.
        hits = await self.get_many([leases[lease] for lease in mine]) if mine else {}
        found: dict[str, bytes | None] = {k: hit.value for k, hit in hits.items() if hit.fresh}
        if found:
            landed = {lease_key(key) for key in found}
            await self.l2.release_leases(list(landed))
            mine = mine - landed
        if theirs:
            found.update(await self._await_others(theirs))
        rest = [key for key in keys if key not in found]
        try:
            values = await load(rest) if rest else {}
        except BaseException:
            await self.l2.release_leases(list(mine))
            raise
        self._remember(values, ttl_s, stale_s)
        await self._write(self._put_and_release_many(values, ttl_s, stale_s, list(mine)))
        return {**found, **values}

    def _remember(self, values: Mapping[str, bytes | None], ttl_s: float, stale_s: float) -> None:
        for key, value in values.items():
            if value is not None:
                self.l1.set(key, value, ttl_s=ttl_s, stale_s=stale_s)

    async def _await_others(self, keys: list[str]) -> dict[str, bytes | None]:
        """Fresh values another process is loading, as they land in Redis (within the wait)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._lease_wait_s
        found: dict[str, bytes | None] = {}
        waiting = list(keys)
        while waiting and loop.time() < deadline:
            await asyncio.sleep(self._lease_poll_s)
            hits = await self.get_many(waiting)
            found.update({key: hit.value for key, hit in hits.items() if hit.fresh})
            waiting = [key for key in waiting if key not in found]
            if waiting and self.l2 is not None:  # a released lease with no value: unknown id
                held = await self.l2.held_leases([lease_key(key) for key in waiting])
                released = [key for key in waiting if lease_key(key) not in held]
                if released:
                    # Its holder stores the value before releasing the lease, so a value
                    # that landed between the read above and this check is there now:
                    # read once more before calling the id unknown and loading it again.
                    hits = await self.get_many(released)
                    found.update({key: hit.value for key, hit in hits.items() if hit.fresh})
                waiting = [key for key in waiting if lease_key(key) in held]
        return found

    async def _put_and_release_many(
        self, values: Mapping[str, bytes | None], ttl_s: float, stale_s: float, leases: list[str]
    ) -> None:
        assert self.l2 is not None
        now = self._clock()
        entries = {
            key: Entry.create(value, now=now, ttl_s=ttl_s, stale_s=stale_s)
            for key, value in values.items()
            if value is not None
        }
        if entries:
            await self.l2.put_many(entries)
        await self.l2.release_leases(leases)

    # -- background writes ---------------------------------------------------------------

    async def _write(self, write: Awaitable[object]) -> None:
        if not self._write_behind:
            await write
            return
        task = asyncio.ensure_future(_discard(write))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for background Redis writes (tests; the end of a Lambda invocation)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)


async def _discard(write: Awaitable[object]) -> None:
    await write


def _best(local: Entry | None, remote: Entry | None, now: float) -> tuple[Entry, Tier] | None:
    """The fresher usable copy; L1 wins a tie (no promotion needed)."""
    newer = remote is not None and (local is None or remote.fresh_until > local.fresh_until)
    if remote is not None and newer and remote.usable(now):
        return remote, "L2"
    if local is not None and local.usable(now):
        return local, "L1"
    return None
