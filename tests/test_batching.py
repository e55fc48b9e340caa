"""Per-request batching: one fetch per loop-turn window, results and failures kept."""

from __future__ import annotations

import asyncio

import pytest

from gateway.batching import Batches, Level, planned_level


class Backend:
    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    async def fetch(self, keys: list[str]) -> list[str]:
        self.calls.append(keys)
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("backend down")
        return [key.upper() for key in keys]


async def test_keys_asked_together_are_one_fetch_and_asked_again_none() -> None:
    backend = Backend()
    batches = Batches(backend.fetch)
    first, second = await asyncio.gather(batches.load_all(["a", "b"]), batches.load_all(["b", "c"]))
    assert (first, second) == (["A", "B"], ["B", "C"])
    assert await batches.load_all(["c", "a"]) == ["C", "A"]
    assert backend.calls == [["a", "b", "c"]]


async def test_a_failure_is_kept_for_the_rest_of_the_request() -> None:
    backend = Backend(fail=True)
    batches = Batches(backend.fetch)
    with pytest.raises(RuntimeError, match="backend down"):
        await batches.load_all(["a"])
    with pytest.raises(RuntimeError, match="backend down"):
        await batches.load_all(["a"])
    assert backend.calls == [["a"]]


async def test_a_cancelled_waiter_does_not_cancel_the_others() -> None:
    backend = Backend()
    batches = Batches(backend.fetch)
    doomed = asyncio.ensure_future(batches.load_all(["a"]))
    survivor = asyncio.ensure_future(batches.load_all(["a"]))
    await asyncio.sleep(0)
    doomed.cancel()
    assert await survivor == ["A"]


async def test_primed_values_need_no_fetch_and_replace_wins() -> None:
    backend = Backend()
    batches = Batches(backend.fetch)
    batches.prime("a", "primed")
    batches.prime("a", "ignored")
    assert await batches.load_all(["a"]) == ["primed"]
    batches.replace("a", "changed")
    assert await batches.load_all(["a"]) == ["changed"]
    assert backend.calls == []


async def test_replayed_keys_arrive_no_sooner_than_a_fresh_batch_without_a_fetch() -> None:
    backend = Backend()
    batches = Batches(backend.fetch)
    assert await batches.load_all(["a"]) == ["A"]
    batches.replay()
    arrived: list[str] = []

    async def ask(key: str) -> None:
        await batches.load_all([key])
        arrived.append(key)

    async def fresh_elsewhere() -> None:  # a load that needs no batch settles first
        arrived.append("now")

    await asyncio.gather(ask("a"), fresh_elsewhere())
    assert arrived == ["now", "a"]
    assert backend.calls == [["a"]]  # replayed, not fetched again
    assert await batches.load_all(["a"]) == ["A"]  # replayed once, then known as usual


async def test_a_replayed_failure_is_raised_again_later() -> None:
    backend = Backend(fail=True)
    batches = Batches(backend.fetch)
    with pytest.raises(RuntimeError):
        await batches.load_all(["a"])
    batches.replay()
    with pytest.raises(RuntimeError):
        await batches.load_all(["a"])
    assert backend.calls == [["a"]]


class Held:
    """What a fetcher's `peek` sees: values at hand with no I/O (the L1 hits)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.asked: list[list[str]] = []

    def peek(self, keys: list[str]) -> list[str] | None:
        self.asked.append(keys)
        if all(key in self.values for key in keys):
            return [self.values[key] for key in keys]
        return None


async def test_while_a_plan_runs_keys_at_hand_are_answered_at_once() -> None:
    backend, held = Backend(), Held({"a": "A*", "b": "B*"})
    batches = Batches(backend.fetch, held.peek)
    token = planned_level.set(Level())
    try:
        loading = batches.load_all(["a", "b"])
        assert await loading == ["A*", "B*"] and backend.calls == []
        assert await batches.load_all(["b", "c"]) == ["B*", "C"]  # c is not at hand: fetched
    finally:
        planned_level.reset(token)
    assert backend.calls == [["c"]]


async def test_outside_a_plan_or_for_a_failed_key_nothing_is_peeked() -> None:
    held = Held({"a": "A*", "x": "X*"})
    batches = Batches(Backend().fetch, held.peek)
    assert await batches.load_all(["a"]) == ["A"]  # strawberry's resolvers: the window
    failing = Batches(Backend(fail=True).fetch, held.peek)
    with pytest.raises(RuntimeError):
        await failing.load_all(["x"])
    token = planned_level.set(Level())
    try:
        with pytest.raises(RuntimeError):  # a failure stays one for the rest of the request
            await failing.load_all(["x"])
    finally:
        planned_level.reset(token)
    assert held.asked == []


async def test_in_a_plan_a_key_asked_for_many_times_is_read_once() -> None:
    held = Held({"t-1": "T*"})
    batches = Batches(Backend().fetch, held.peek)
    token = planned_level.set(Level())
    try:  # twenty trips, one traveler
        assert await batches.load_all(["t-1"] * 20) == ["T*"] * 20
    finally:
        planned_level.reset(token)
    assert held.asked == [["t-1"]]
