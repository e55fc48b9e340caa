"""AWS Lambda entry points.

`events`: the `cache-events` function's handler (SQS, SNS, EventBridge deliveries of the
monolith's trip events); serverless.yml points at `gateway.events_handler.handle`, the same
function, so that function's cold start doesn't import the app.

`handler`: the ASGI app behind API Gateway (REST v1, HTTP API v2) or an ALB, through Mangum.
Lifespan is off: Mangum would run startup and shutdown on every invocation; clients are
created lazily instead and live as long as the warm container. GraphQL answers travel as text
(`application/graphql-response+json` is not in Mangum's default list, so it would be base64).

Deadline: Mangum puts the Lambda context in the ASGI scope (`scope["aws.context"]`), and
`gateway.deadline.DeadlineMiddleware` bounds each request by the invocation's remaining time
(`get_remaining_time_in_millis()`) less `LAMBDA_MARGIN_S`, or by `GATEWAY_REQUEST_TIMEOUT_MS`
if that is shorter: a slow chain of backend calls ends in a partial answer, never in the
platform's own timeout (a 503 with no answer at all).

Observability: each request writes its JSON log line to stdout (CloudWatch Logs) from
`gateway.observability.middleware`; after each invocation the metrics counted during it are
written as CloudWatch EMF lines. Powertools is not used: see docs/operations.md for why.

After the answer, within a small budget each, before the container may freeze: the shadow
comparisons still running finish or are cut off, and a self-ramping canary's tick runs when
one is due (`RampDriver.settle`; no background task runs here, see ramp_driver.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from gateway.app import create_app
from gateway.events_handler import handle as events
from gateway.observability.hooks import METRICS
from gateway.observability.sinks import emf_lines, write_stdout

# How long an invocation may wait, after its answer, for shadow comparisons to finish before
# the container freezes; the rest are cancelled and counted as cut off.
SHADOW_BUDGET_S = 0.05
# How long an invocation may spend, after its answer, on a due tick of the canary ramp (a
# Redis read, and a compare-and-set when it decides); one cut off runs again next time.
RAMP_BUDGET_S = 0.05

# Built once per container, at its cold start; warm invocations reuse it.
app = create_app()
_mangum = Mangum(
    app,
    lifespan="off",
    text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/graphql-response+json"],
)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    answer: dict[str, Any] = _mangum(event, context)
    # Mangum ran the invocation on this loop: shadows it started finish or are cut off now,
    # and the canary ramp ticks if a tick is due; side by side, so the answer waits for the
    # larger budget, not the sum.
    asyncio.get_event_loop().run_until_complete(after_answer())
    flush_metrics()
    return answer


async def after_answer() -> None:
    await asyncio.gather(
        app.state.runtime.shadows.settle(SHADOW_BUDGET_S), app.state.ramp.settle(RAMP_BUDGET_S)
    )


def flush_metrics() -> None:
    """This invocation's numbers as CloudWatch EMF lines, before the container may freeze;
    the ramp keeps the latencies it judges canaries by."""
    drained = METRICS.drain()
    app.state.ramp.absorb(drained)
    lines = emf_lines(drained)
    if lines:
        write_stdout("\n".join(lines))


__all__ = ["app", "events", "handler"]
