"""Where the ramp states live, so that every gateway process (and every warm Lambda) agrees.

    store = ramp_store(settings.redis_url)          # Redis when set, else this process only
    state = await store.get("GET /api/flights", version="3f2a...")
    await store.swap(route_key, version, expected_rev=state.rev, new=...)  → True / False

One key per route and table version (`gateway:ramp:<version>:<route key>`): a changed routes
file is a new version, so editing the file is what re-arms a rolled-back canary. Writes are
compare-and-set on `rev` (a Lua script: read, compare and write in one step on the server),
so two gateways deciding at once cannot both raise, and a raise cannot overwrite a rollback.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Protocol

from gateway.config import Settings
from gateway.routing.ramp import RampState

if TYPE_CHECKING:  # redis-py costs ~60 ms of a Lambda cold start: only when REDIS_URL is set
    import redis.asyncio as aioredis

KEY_PREFIX = "gateway:ramp:"
TTL_S = 30 * 86_400  # old table versions' states fade away on their own

_SWAP = """
local current = redis.call('GET', KEYS[1])
local rev = 0
if current then rev = cjson.decode(current)['rev'] end
if rev ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
"""


class RampStore(Protocol):
    where: str

    async def get(self, route_key: str, *, version: str) -> RampState | None: ...

    async def swap(
        self, route_key: str, *, version: str, expected_rev: int, new: RampState
    ) -> bool: ...


def state_key(route_key: str, version: str) -> str:
    return f"{KEY_PREFIX}{version}:{route_key}"


def encode(state: RampState) -> str:
    return json.dumps(asdict(state), separators=(",", ":"))


def decode(text: str | bytes) -> RampState:
    data: dict[str, Any] = json.loads(text)
    data["history"] = tuple(data.get("history", ()))
    return RampState(**data)


class LocalRampStore:
    """One process's states (no REDIS_URL): right for one uvicorn worker, a dev box, tests."""

    where = "process"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, RampState] = {}

    async def get(self, route_key: str, *, version: str) -> RampState | None:
        return self._states.get(state_key(route_key, version))

    async def swap(
        self, route_key: str, *, version: str, expected_rev: int, new: RampState
    ) -> bool:
        key = state_key(route_key, version)
        with self._lock:
            current = self._states.get(key)
            if (current.rev if current is not None else 0) != expected_rev:
                return False
            self._states[key] = new
            return True


class RedisRampStore:
    """Shared by every gateway on the same Redis. Errors propagate: the driver keeps the
    last state it read and tries again on its next tick."""

    where = "redis"

    def __init__(self, url: str, *, cluster: bool = False, timeout_s: float = 0.5) -> None:
        import redis.asyncio as aioredis

        # One key per script call: the script runs on that key's node in a cluster too.
        self._client: aioredis.Redis | aioredis.RedisCluster = (
            aioredis.RedisCluster.from_url(
                url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
            )
            if cluster
            else aioredis.Redis.from_url(
                url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
            )
        )
        self._swap = self._client.register_script(_SWAP)

    async def get(self, route_key: str, *, version: str) -> RampState | None:
        text = await self._client.get(state_key(route_key, version))
        return None if text is None else decode(text)

    async def swap(
        self, route_key: str, *, version: str, expected_rev: int, new: RampState
    ) -> bool:
        keys = [state_key(route_key, version)]
        done = await self._swap(keys=keys, args=[expected_rev, encode(new), TTL_S])
        return bool(done)

    async def latest(self) -> dict[str, tuple[str, RampState]]:
        """Per route key, the table version and state changed last (`routes status
        --ramps`): an old table version's key stays until its TTL, and only the newest moves."""
        found: dict[str, tuple[str, RampState]] = {}
        async for key in self._client.scan_iter(match=f"{KEY_PREFIX}*", count=100):
            text = await self._client.get(key)
            if text is None:  # expired since the scan saw it
                continue
            name = key.decode() if isinstance(key, bytes) else str(key)
            version, route_key = name.removeprefix(KEY_PREFIX).split(":", 1)
            state = decode(text)
            if route_key not in found or state.changed_at > found[route_key][1].changed_at:
                found[route_key] = (version, state)
        return found

    async def aclose(self) -> None:
        await self._client.aclose()


def ramp_store(settings: Settings) -> RampStore:
    """Redis when REDIS_URL is set (REDIS_CLUSTER as for the cache), else this process."""
    if settings.redis_url:
        return RedisRampStore(settings.redis_url, cluster=settings.redis_cluster)
    return LocalRampStore()
