"""AWS Lambda entry points.

`handler`: the ASGI app behind API Gateway (REST v1, HTTP API v2) or an ALB, through Mangum.
Lifespan is off: Mangum would run startup and shutdown on every invocation; clients are
created lazily instead and live as long as the warm container. GraphQL answers travel as text
(`application/graphql-response+json` is not in Mangum's default list, so it would be base64).
"""

from __future__ import annotations

from mangum import Mangum
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

from gateway.app import app

handler = Mangum(
    app,
    lifespan="off",
    text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/graphql-response+json"],
)
