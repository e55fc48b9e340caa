"""GET /metrics under uvicorn: the Prometheus exposition format."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gateway.observability.hooks import METRICS
from gateway.observability.sinks import prometheus_text

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


async def metrics_endpoint(request: Request) -> Response:
    return Response(prometheus_text(METRICS), media_type=CONTENT_TYPE)
