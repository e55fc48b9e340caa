"""AWS Lambda entry points.

`handler`: the ASGI app behind API Gateway (REST v1, HTTP API v2) or an ALB, through Mangum.
Lifespan is off: Mangum would run startup and shutdown on every invocation; clients are
created lazily instead and live as long as the warm container.
"""

from __future__ import annotations

from mangum import Mangum

from gateway.app import app

handler = Mangum(app, lifespan="off")
