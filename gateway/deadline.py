"""One deadline per request, carried in a context variable and set at the request's edge.

Every backend call of a request takes the smaller of its backend's timeout and the time the
request has left, so a chain of calls that each answer just inside their own timeout still
ends within the request's budget: the late calls fail as `BackendTimeout` and the rest of the
answer is sent. A call asked for once the deadline has passed is not made at all.

The deadline is a `ContextVar`, so it follows the request into every task it spawns
(graphql-core's gathers, aiodataloader's batch dispatch) and nothing has to pass it along.

    request_budget_s(8.0, lambda_remaining_ms=None)  → 8.0   (uvicorn: the setting)
    request_budget_s(8.0, lambda_remaining_ms=6_000) → 5.5   (Lambda: what is left, less a margin)
    call_budget(3.0, deadline_at=10.0, now=9.0)      → CallBudget(timeout_s=1.0, cut=True)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from gateway.asgi import ASGIApp, Receive, Scope, Send
from gateway.errors import BackendTimeout

# Time kept back on Lambda to send the partial answer before the platform cuts the invocation.
LAMBDA_MARGIN_S = 0.5
DEADLINE_PATHS = ("/graphql/", "/api/")

_deadline_at: ContextVar[float | None] = ContextVar("gateway_deadline_at", default=None)


@dataclass(frozen=True, slots=True)
class CallBudget:
    """How long one backend call may take, and whether the request's deadline (not the
    backend's own timeout) set that: a call the deadline cut short says nothing about the
    backend's health."""

    timeout_s: float
    cut: bool

    @property
    def spent(self) -> bool:
        return self.timeout_s <= 0


def call_budget(backend_timeout_s: float, *, deadline_at: float | None, now: float) -> CallBudget:
    if deadline_at is None or deadline_at - now >= backend_timeout_s:
        return CallBudget(timeout_s=backend_timeout_s, cut=False)
    return CallBudget(timeout_s=max(deadline_at - now, 0.0), cut=True)


def request_budget_s(
    configured_s: float, *, lambda_remaining_ms: int | None, margin_s: float = LAMBDA_MARGIN_S
) -> float:
    """The request's whole budget: the setting, or less when the Lambda invocation has less
    left (its remaining time less a margin to answer in)."""
    if lambda_remaining_ms is None:
        return configured_s
    return max(min(configured_s, lambda_remaining_ms / 1000 - margin_s), 0.0)


def current_budget(
    backend_timeout_s: float, *, clock: Callable[[], float] = time.monotonic
) -> CallBudget:
    """The budget of a call made now, under the running request's deadline (if any)."""
    return call_budget(backend_timeout_s, deadline_at=_deadline_at.get(), now=clock())


def budget_for(
    backend: str, timeout_s: float, *, clock: Callable[[], float] = time.monotonic
) -> CallBudget:
    """`current_budget`, or `BackendTimeout` before anything is sent once the time is up."""
    budget = current_budget(timeout_s, clock=clock)
    if budget.spent:
        raise BackendTimeout(backend=backend, timeout_s=0)
    return budget


@contextmanager
def deadline_in(budget_s: float, *, clock: Callable[[], float] = time.monotonic) -> Iterator[None]:
    """Everything run inside (and every task started inside) shares one deadline; a nested
    deadline never extends the one already set."""
    at = clock() + budget_s
    outer = _deadline_at.get()
    token = _deadline_at.set(at if outer is None else min(at, outer))
    try:
        yield
    finally:
        _deadline_at.reset(token)


def lambda_remaining_ms(scope: Scope) -> int | None:
    """The invocation's remaining time, from the Lambda context Mangum puts in the scope."""
    context: Any = scope.get("aws.context")
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    value = remaining()
    return value if isinstance(value, int) else None


class DeadlineMiddleware:
    """Sets the deadline for `/graphql/*` and `/api/*` requests; everything else runs as is."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        timeout_s: float,
        paths: Sequence[str] = DEADLINE_PATHS,
        margin_s: float = LAMBDA_MARGIN_S,
    ) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.paths = tuple(paths)
        self.margin_s = margin_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.paths):
            await self.app(scope, receive, send)
            return
        budget = request_budget_s(
            self.timeout_s, lambda_remaining_ms=lambda_remaining_ms(scope), margin_s=self.margin_s
        )
        with deadline_in(budget):
            await self.app(scope, receive, send)
