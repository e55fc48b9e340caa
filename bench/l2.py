"""answer-l2: whole public answers served from Redis (L2), not from the in-process L1.

A hit in Redis is copied into L1, so repeating one query measures L1 after the first
request, and the L1's bounds are not settable from the environment. What this does instead:

1. `count` variants of the public query that differ only by operation name
   (`query Top00042 { topDestinations(limit: 10) { ... } }`): each has its own whole-answer
   key, and all have the same answer bytes. `count` exceeds the L1's entry bound
   (`CacheConfig.l1_entries`, 20,000) by 5 % plus 4 × connections.
2. The first 2 × connections variants are asked of the gateway, which executes them and
   writes their answers to Redis itself. The harness then reads those entries back and
   checks that each key is where the gateway's own `public_answer_key` says and each value
   is the answer, byte for byte.
3. The other variants are written to Redis with that same key function, wire format
   (`gateway.cache.entry.encode`) and answer, fresh for `SEED_TTL_S` (executing 21,000
   queries through the gateway first would add about a minute to every run).
4. wrk sends the variants strictly in turn, each run continuing where the last stopped.
   The L1 is LRU with fewer entries than there are variants, so the variant asked next is
   always the one the L1 dropped longest ago: every request misses L1, reads Redis and
   copies the entry into L1 (evicting the oldest), i.e. pays exactly an L2 hit.
5. Proof, from Redis's own counters over the measured run: one `MGET` and one keyspace
   hit per request sent, no keyspace miss, no other command (an execution would miss
   and `SET`). Plus `X-Cache` of 2 × connections plain requests before and after the load.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import redis

from bench.fixtures import public_request, public_variant_bodies
from bench.load import summary_json, x_cache_note, x_cache_of
from bench.redis_server import read_counters, reset_counters
from bench.request import HttpRequest, send_each
from bench.results import Result, Target
from bench.scenario import Options
from bench.services import Stack
from bench.wrk import run_wrk
from gateway.answers import public_answer_key
from gateway.cache.entry import Entry, decode, encode
from gateway.cache.l1 import ENTRY_OVERHEAD_BYTES
from gateway.cache.setup import CacheConfig
from gateway.graphql_http import JSON, params_from_post

SEED_TTL_S = 900  # fresh for longer than the longest run `--duration` allows
WRITE_WAIT_S = 10  # how long the gateway's write-behind may take to land in Redis


def l1_capacity(answer_bytes: int, config: CacheConfig | None = None) -> int:
    """How many answers of this size the gateway's L1 holds at most (its two bounds).

    l1_capacity(1375) → 20000 (the entry bound; the 64 MiB byte bound would allow 41,000)
    """
    config = config or CacheConfig()
    by_bytes = config.l1_bytes // (answer_bytes + ENTRY_OVERHEAD_BYTES)
    return min(config.l1_entries, by_bytes)


def variant_count(capacity: int, connections: int) -> int:
    """More variants than the L1 holds, with room for the requests in flight.

    variant_count(20000, 32) → 21128
    """
    return capacity + capacity // 20 + 4 * connections


def answer_key_of(body: bytes) -> str:
    """The whole-answer key the gateway computes for this POST body on /graphql/web."""
    key = public_answer_key("web", params_from_post(body, JSON))
    if key is None:
        raise LookupError(f"no whole-answer key for {body[:100]!r}")
    return key


@dataclass(frozen=True)
class AnswerL2Scenario:
    name: str = "answer-l2"
    title: str = "whole public answer, L2 (Redis) hit on every request"
    service: str = "gateway-redis"
    needs: tuple[str, ...] = ("stub", "redis", "gateway-redis")
    baseline: str | None = "answer-l1"
    targets: tuple[Target, ...] = field(default_factory=lambda: (Target("ratio", ">=", 0.7),))

    def run(self, stack: Stack, options: Options) -> Result:
        url = stack.url(self.service)
        redis_url = stack.url("redis")
        template = public_request()
        answer = template.send(url)
        answer.raise_for_status()
        capacity = l1_capacity(len(answer.content))
        bodies = public_variant_bodies(variant_count(capacity, options.connections))
        checked = 2 * options.connections
        problem = self._gateway_writes(url, redis_url, template, bodies[:checked], answer.content)
        if problem is not None:
            return self._result(status="failed", note=problem)
        self._seed(redis_url, bodies[checked:], answer.content)
        position = checked
        samples = 2 * options.connections

        def sample() -> list[str]:
            nonlocal position
            chosen = [bodies[(position + i) % len(bodies)] for i in range(samples)]
            position += samples
            return x_cache_of(send_each(url, [template.with_body(body) for body in chosen]))

        before = sample()
        args: dict[str, Any] = {
            "script_dir": stack.workdir,
            "connections": options.connections,
            "threads": options.threads,
            "cycle": [template.with_body(body) for body in bodies],
        }
        warm = run_wrk(url, template, duration_s=options.warmup_s, start=position, **args)
        position += warm.sent or 0
        reset_counters(redis_url)
        summary = run_wrk(url, template, duration_s=options.duration_s, start=position, **args)
        position += summary.sent or 0
        counters = read_counters(redis_url)
        after = sample()
        details: dict[str, Any] = {
            "response_bytes": len(answer.content),
            "variants": len(bodies),
            "l1_capacity": capacity,
            "checked_against_gateway_writes": checked,
            "wrk": summary_json(summary),
            "redis_during_run": counters,
            "x_cache": {"before": before, "after": after},
        }
        notes = [
            f"{len(bodies):,} distinct keys (L1 holds {capacity:,}), sent in strict rotation",
            redis_note(counters, summary.sent or 0),
            x_cache_note("HIT-L2", before, after),
        ]
        return self._result(
            rps=summary.rps,
            p50_s=summary.p50_s,
            p99_s=summary.p99_s,
            note="; ".join(notes),
            details=details,
        )

    def _gateway_writes(
        self,
        url: str,
        redis_url: str,
        template: HttpRequest,
        bodies: Sequence[bytes],
        answer: bytes,
    ) -> str | None:
        """Have the gateway execute and store `bodies`; None when Redis then holds exactly
        `answer` under each key the harness computes, else what is wrong."""
        responses = send_each(url, [template.with_body(body) for body in bodies], at_once=8)
        if any(response.content != answer for response in responses):
            return "a variant of the public query answered something else than the query"
        keys = [answer_key_of(body) for body in bodies]
        deadline = time.monotonic() + WRITE_WAIT_S
        with redis.Redis.from_url(redis_url, socket_timeout=10) as client:
            while True:
                raw = client.mget(keys)
                entries = [decode(value) if isinstance(value, bytes) else None for value in raw]
                if all(entry is not None for entry in entries):
                    break
                if time.monotonic() > deadline:
                    missing = sum(entry is None for entry in entries)
                    return f"{missing} of {len(keys)} answers the gateway stored are not in Redis"
                time.sleep(0.1)
        if any(entry is None or entry.value != answer for entry in entries):
            return "Redis holds something else than the answer under a whole-answer key"
        return None

    def _seed(self, redis_url: str, bodies: Sequence[bytes], answer: bytes) -> None:
        stale_s = CacheConfig().stale_s
        with redis.Redis.from_url(redis_url, socket_timeout=30) as client:
            pipe = client.pipeline(transaction=False)
            for body in bodies:
                entry = Entry.create(answer, now=time.time(), ttl_s=SEED_TTL_S, stale_s=stale_s)
                pipe.set(answer_key_of(body), encode(entry), px=(SEED_TTL_S + stale_s) * 1000)
            pipe.execute()

    def _result(self, **fields: Any) -> Result:
        return Result(
            name=self.name,
            title=self.title,
            baseline=self.baseline,
            targets=self.targets,
            **fields,
        )


def redis_note(counters: dict[str, Any], sent: int) -> str:
    """Per request sent: MGETs and keyspace hits, misses, others. Every request an L2 hit
    means one keyspace hit per request, no miss and nothing but MGETs; the gateway
    coalesces the reads of concurrent requests, so one MGET may answer several."""
    if not sent:
        return "wrk sent nothing"
    mget = counters["commands"].get("mget", 0)
    others = counters["calls"] - mget
    per = f"{mget / sent:.3f} MGET and {counters['keyspace_hits'] / sent:.3f} keyspace hits"
    verdict = "every request an L2 hit" if _all_l2(counters, sent) else "NOT ALL L2 HITS"
    return (
        f"Redis during the measured run: {per} per request sent ({sent:,}), "
        f"{counters['keyspace_misses']} misses, {others} other commands: {verdict}"
    )


def _all_l2(counters: dict[str, Any], sent: int) -> bool:
    mget = counters["commands"].get("mget", 0)
    return bool(
        counters["keyspace_misses"] == 0
        and counters["calls"] == mget
        and 0 < mget <= counters["keyspace_hits"]
        and abs(counters["keyspace_hits"] - sent) <= 0.01 * sent
    )
