"""AWS Lambda entry points.

`events`: the `cache-events` function's handler (SQS, SNS, EventBridge deliveries of the
monolith's trip events); serverless.yml points at `gateway.events_handler.handle`, the same
function, so that function's cold start doesn't import the app.

`handler`: the ASGI app behind API Gateway (REST v1, HTTP API v2) or an ALB, through Mangum.
Lifespan is off: Mangum would run startup and shutdown on every invocation; clients are
created lazily instead and live as long as the warm container. GraphQL answers travel as text
(`application/graphql-response+json` is not in Mangum's default list, so it would be base64).
"""

from __future__ import annotations

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from gateway.app import create_app
from gateway.events_handler import handle as events

# Built once per container, at its cold start; warm invocations reuse it.
app = create_app()
handler = Mangum(
    app,
    lifespan="off",
    text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/graphql-response+json"],
)

__all__ = ["app", "events", "handler"]
