from typing import Any

import pytest

from gateway.cache.entry import Entry, decode, encode
from gateway.cache.l1 import ENTRY_OVERHEAD_BYTES, L1Cache


class FakeClock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def cache(
    clock: FakeClock, *, max_entries: int = 100, max_bytes: int = 2**20, jitter: float = 0.1
) -> L1Cache:
    return L1Cache(
        max_entries=max_entries, max_bytes=max_bytes, jitter=jitter, clock=clock, rng=lambda: 0.5
    )


def test_get_returns_what_was_set() -> None:
    clock = FakeClock()
    l1 = cache(clock, jitter=0.0)
    l1.set("a", b'{"a":1}', ttl_s=10)
    assert l1.get("a") == Entry(b'{"a":1}', fresh_until=1_010.0, stale_until=1_010.0)
    assert l1.get("missing") is None
    assert l1.get_many(["a", "missing"]) == {"a": l1.get("a")}


def test_entry_bound_evicts_least_recently_used() -> None:
    l1 = cache(FakeClock(), max_entries=3)
    for key in "abc":
        l1.set(key, b"x", ttl_s=60)
    l1.get("a")  # a is now more recent than b
    l1.set("d", b"x", ttl_s=60)
    assert len(l1) == 3
    assert sorted(l1.get_many("abcd")) == ["a", "c", "d"]


def test_byte_bound_counts_value_bytes_plus_overhead() -> None:
    per_entry = 1_000 + ENTRY_OVERHEAD_BYTES
    l1 = cache(FakeClock(), max_bytes=3 * per_entry)
    for key in "abcd":
        l1.set(key, b"x" * 1_000, ttl_s=60)
    assert sorted(l1.get_many("abcd")) == ["b", "c", "d"]
    assert l1.size_bytes == 3 * per_entry


def test_a_value_larger_than_the_cache_is_not_kept_nor_its_older_copy() -> None:
    l1 = cache(FakeClock(), max_bytes=10 * ENTRY_OVERHEAD_BYTES)
    l1.set("a", b"small", ttl_s=60)
    l1.set("a", b"x" * 20 * ENTRY_OVERHEAD_BYTES, ttl_s=60)
    assert l1.get("a") is None


def test_ttl_is_shortened_by_jitter_then_stale_until_the_window_ends() -> None:
    clock = FakeClock()
    l1 = L1Cache(clock=clock, jitter=0.2, rng=lambda: 0.5)  # ttl 100 -> 90
    l1.set("a", b"v", ttl_s=100, stale_s=30)

    clock.now = 1_089.9
    entry = l1.get("a")
    assert entry is not None and entry.fresh(clock.now)

    clock.now = 1_090.0
    entry = l1.get("a")
    assert entry is not None and not entry.fresh(clock.now) and entry.usable(clock.now)

    clock.now = 1_120.0
    assert l1.get("a") is None


@pytest.mark.parametrize(("draw", "fresh_for"), [(0.0, 100.0), (0.999, 90.01), (0.25, 97.5)])
def test_jitter_only_ever_shortens_the_ttl(draw: float, fresh_for: float) -> None:
    clock = FakeClock(0.0)
    l1 = L1Cache(clock=clock, jitter=0.1, rng=lambda: draw)
    entry = l1.set("a", b"v", ttl_s=100)
    assert entry.fresh_until == pytest.approx(fresh_for)


def test_put_keeps_the_times_of_a_promoted_entry_and_ignores_dead_ones() -> None:
    clock = FakeClock()
    l1 = cache(clock)
    l1.put("a", Entry(b"v", fresh_until=1_005.0, stale_until=1_050.0))
    l1.put("gone", Entry(b"v", fresh_until=900.0, stale_until=999.0))
    assert l1.get_many(["a", "gone"]) == {"a": Entry(b"v", 1_005.0, 1_050.0)}


def test_delete_many_and_clear() -> None:
    l1 = cache(FakeClock())
    for key in "abc":
        l1.set(key, b"v", ttl_s=60)
    l1.delete_many(["a", "b", "nope"])
    assert list(l1.get_many("abc")) == ["c"]
    l1.clear()
    assert len(l1) == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_entries": 0}, "max_entries >= 1"),
        ({"max_bytes": 10}, "max_bytes >= 256"),
        ({"jitter": 1.0}, "jitter is a fraction"),
    ],
)
def test_bad_configuration_fails_at_construction(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        L1Cache(**options)


def test_wire_format_round_trips_and_rejects_foreign_bytes() -> None:
    entry = Entry(b'{"a":1}', fresh_until=100.5, stale_until=160.25)
    assert decode(encode(entry)) == entry
    assert decode(b'{"a":1}') is None
    assert decode(b"B1short") is None
