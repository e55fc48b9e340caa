"""Coroutines started eagerly (gateway/eager.py): what finishes in its first step costs no
turn of the event loop, and what waits keeps asyncio's semantics (its own task, timeouts
and cancellation bound to it, results and failures in order)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from gateway import eager

EAGER = sys.version_info >= (3, 12)  # 3.11 starts them as ordinary tasks


async def value(v: int) -> int:
    return v


async def later(v: int, delay: float = 0.001) -> int:
    await asyncio.sleep(delay)
    return v


async def fails(message: str, delay: float | None = None) -> int:
    if delay is not None:
        await asyncio.sleep(delay)
    raise ValueError(message)


@pytest.mark.skipif(not EAGER, reason="eager tasks are Python 3.12's")
async def test_a_coroutine_that_never_waits_is_done_when_started() -> None:
    task = eager.start(value(1))
    assert task.done() and task.result() == 1
    waiting = eager.start(later(2))
    assert not waiting.done()
    assert await waiting == 2


async def test_settle_all_answers_each_result_or_failure_in_order() -> None:
    settled = await eager.settle_all([value(1), later(2), fails("x"), fails("y", 0.001), value(5)])
    assert settled[:2] == [1, 2] and settled[4] == 5
    assert [str(e) for e in settled[2:4]] == ["x", "y"]
    assert await eager.settle_all([value(1), value(2)]) == [1, 2]


async def test_settle_all_answers_a_failure_as_a_value_whatever_its_truth() -> None:
    class Falsy(ValueError):
        def __bool__(self) -> bool:
            return False

    async def falsy() -> int:
        raise Falsy("empty")

    settled = await eager.settle_all([falsy(), value(2)])
    assert isinstance(settled[0], Falsy) and settled[1] == 2


async def test_gather_answers_results_in_order_or_raises_the_first_failure() -> None:
    assert await eager.gather(later(1, 0.002), value(2), later(3)) == [1, 2, 3]
    with pytest.raises(ValueError, match="first"):
        await eager.gather(value(1), fails("first"), fails("second"))
    with pytest.raises(ValueError, match="late"):
        await eager.gather(later(1), fails("late", 0.001))


async def test_a_timeout_entered_in_the_first_step_ends_that_coroutine_not_its_caller() -> None:
    """The first step runs as the new task: `asyncio.timeout` binds to it. (Stepping the
    coroutine by hand in the caller's task got this wrong: the caller was cancelled.)"""

    async def bounded() -> int:
        async with asyncio.timeout(0.01):
            await asyncio.sleep(5)
        return 0

    settled = await eager.settle_all([bounded(), later(7, 0.02)])
    assert isinstance(settled[0], TimeoutError) and settled[1] == 7
    caller = asyncio.current_task()
    assert caller is not None and not caller.cancelling()


async def test_cancelling_the_caller_cancels_what_it_waits_for() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def waits() -> int:
        started.set()
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 0

    caller = asyncio.ensure_future(eager.settle_all([value(1), waits()]))
    await started.wait()
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert cancelled.is_set()
