"""The request's deadline: the arithmetic of each call's budget, how the deadline is set at the
edge (uvicorn and Lambda), and that the backend client keeps to it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mangum import Mangum
from mangum.types import LambdaCognitoIdentity, LambdaMobileClientContext

from gateway.asgi import Receive, Scope, Send
from gateway.backend import BackendClient
from gateway.deadline import (
    CallBudget,
    DeadlineMiddleware,
    budget_for,
    call_budget,
    current_budget,
    deadline_in,
    lambda_remaining_ms,
    request_budget_s,
)
from gateway.errors import BackendTimeout


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("timeout_s", "deadline_at", "now", "budget"),
    [
        (3.0, None, 9.0, CallBudget(3.0, cut=False)),  # no deadline: the backend's timeout
        (3.0, 20.0, 9.0, CallBudget(3.0, cut=False)),  # plenty left
        (3.0, 12.0, 9.0, CallBudget(3.0, cut=False)),  # exactly enough
        (3.0, 10.0, 9.0, CallBudget(1.0, cut=True)),  # the deadline comes first
        (3.0, 10.0, 10.5, CallBudget(0.0, cut=True)),  # past it: nothing left
    ],
)
def test_a_call_takes_the_smaller_of_its_timeout_and_the_time_left(
    timeout_s: float, deadline_at: float | None, now: float, budget: CallBudget
) -> None:
    assert call_budget(timeout_s, deadline_at=deadline_at, now=now) == budget


@pytest.mark.parametrize(
    ("configured_s", "remaining_ms", "budget_s"),
    [
        (8.0, None, 8.0),  # not on Lambda
        (8.0, 30_000, 8.0),  # the invocation has more time than the setting
        (8.0, 6_000, 5.5),  # less: what is left, less the margin to answer in
        (8.0, 300, 0.0),  # not even the margin left
    ],
)
def test_the_request_budget_on_lambda_is_what_the_invocation_has_left(
    configured_s: float, remaining_ms: int | None, budget_s: float
) -> None:
    assert request_budget_s(configured_s, lambda_remaining_ms=remaining_ms) == budget_s


def test_a_nested_deadline_never_extends_the_outer_one() -> None:
    clock = Clock()
    with deadline_in(2.0, clock=clock):
        with deadline_in(5.0, clock=clock):
            assert current_budget(3.0, clock=clock) == CallBudget(2.0, cut=True)
        with deadline_in(1.0, clock=clock):
            assert current_budget(3.0, clock=clock) == CallBudget(1.0, cut=True)
    assert current_budget(3.0, clock=clock) == CallBudget(3.0, cut=False)


def test_once_the_deadline_has_passed_a_call_is_refused_before_it_is_sent() -> None:
    clock = Clock()
    with deadline_in(1.0, clock=clock):
        clock.now += 1.0
        with pytest.raises(BackendTimeout) as late:
            budget_for("legacy", 3.0, clock=clock)
    assert late.value.extensions == {"code": "BACKEND_TIMEOUT"}
    assert late.value.backend == "legacy"


async def test_the_deadline_follows_the_request_into_the_tasks_it_starts() -> None:
    clock = Clock()

    async def budget_in_a_task() -> CallBudget:
        return current_budget(3.0, clock=clock)

    with deadline_in(1.5, clock=clock):
        task = asyncio.ensure_future(budget_in_a_task())
    assert await task == CallBudget(1.5, cut=True)


@dataclass
class LambdaContext:
    """What the Lambda runtime passes a handler (mangum.types.LambdaContext)."""

    remaining_ms: int
    function_name: str = "gateway"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:gateway"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "test-request"
    log_group_name: str = "/aws/lambda/gateway"
    log_stream_name: str = "test"
    identity: LambdaCognitoIdentity | None = None
    client_context: LambdaMobileClientContext | None = None

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Recorder:
    """An ASGI app that notes the budget a 3 s backend call would get under it."""

    def __init__(self) -> None:
        self.seen: list[CallBudget] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append(current_budget(3.0))


async def call(app: DeadlineMiddleware, path: str, **scope: Any) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        pass

    await app({"type": "http", "path": path, **scope}, receive, send)


async def test_the_middleware_sets_the_deadline_for_graphql_and_api_only() -> None:
    recorder = Recorder()
    app = DeadlineMiddleware(recorder, timeout_s=1.0)
    for path in ("/graphql/web", "/api/trips", "/healthz", "/_gateway/routes"):
        await call(app, path)
    cut = [budget.cut for budget in recorder.seen]
    assert cut == [True, True, False, False]
    assert all(budget.timeout_s <= 1.0 for budget in recorder.seen[:2])


async def test_on_lambda_the_invocation_s_remaining_time_bounds_the_request() -> None:
    """Mangum hands the Lambda context over as scope["aws.context"]."""
    recorder = Recorder()
    app = DeadlineMiddleware(recorder, timeout_s=8.0, margin_s=0.5)
    await call(app, "/graphql/web", **{"aws.context": LambdaContext(remaining_ms=2_000)})
    await call(app, "/api/fx", **{"aws.context": LambdaContext(remaining_ms=400)})
    first, second = recorder.seen
    assert first.cut and 1.4 < first.timeout_s <= 1.5
    assert second == CallBudget(0.0, cut=True)


@pytest.mark.parametrize("event", ["apigw_http_v2.json", "apigw_rest_v1.json", "alb.json"])
def test_mangum_hands_the_lambda_context_to_the_middleware(event: str) -> None:
    """The assumption the Lambda deadline rests on, checked against the pinned Mangum."""
    recorder = Answering()
    payload = json.loads((Path(__file__).parent / "events" / event).read_text())

    loop = asyncio.new_event_loop()  # Mangum runs the invocation on the current loop
    asyncio.set_event_loop(loop)
    try:
        handler = Mangum(DeadlineMiddleware(recorder, timeout_s=8.0), lifespan="off")
        answer = handler(payload, LambdaContext(remaining_ms=3_000))
    finally:
        asyncio.set_event_loop(None)
        loop.close()

    assert answer["statusCode"] == 204
    [budget] = recorder.seen
    assert budget.cut and 2.4 < budget.timeout_s <= 2.5


class Answering(Recorder):
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_a_context_without_remaining_time_means_not_on_lambda() -> None:
    assert lambda_remaining_ms({"aws.context": object()}) is None
    assert lambda_remaining_ms({}) is None
    assert lambda_remaining_ms({"aws.context": LambdaContext(1234)}) == 1234


@dataclass(frozen=True)
class Target:
    name: str = "legacy"
    url: str = "http://legacy.test"
    timeout_s: float = 5.0


class SlowBackend:
    """A backend that takes 2 s for /slow and answers at once otherwise; counts requests."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        if scope["path"] == "/slow":
            await asyncio.sleep(2)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def test_the_client_cuts_a_call_at_the_deadline_without_blaming_the_backend() -> None:
    backend = SlowBackend()
    client = BackendClient(transport=lambda limits: httpx.ASGITransport(app=backend))
    try:
        with deadline_in(0.1):
            with pytest.raises(BackendTimeout) as cut:
                await client.call_raw(Target(), "GET", "/slow")
            with deadline_in(0), pytest.raises(BackendTimeout):  # time is up: nothing sent
                await client.call_raw(Target(), "GET", "/fast")
        assert await client.call_raw(Target(), "GET", "/fast") == b"{}"  # no deadline
    finally:
        await client.aclose()
    assert cut.value.timeout_s <= 0.1
    assert backend.paths == ["/slow", "/fast"]
    # a deadline-cut call says nothing about the backend's health
    assert client.breakers.snapshot() == {"legacy": {"state": "closed", "consecutive_failures": 0}}
