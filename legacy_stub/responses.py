"""JSON responses with the contract's content type, and the one place errors become JSON."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from legacy_stub.errors import InvalidError, StubError


class JsonResponse(JSONResponse):
    media_type = "application/json; charset=utf-8"


async def read_json(request: Request) -> Any:
    """The parsed body, or `InvalidError` for a body that is not JSON."""
    try:
        return await request.json()
    except ValueError as error:
        raise InvalidError(f"the body is not valid JSON: {error}") from error


async def stub_error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StubError)
    return JsonResponse(exc.payload(), status_code=exc.status)


async def no_route_response(request: Request, exc: Exception) -> Response:
    """Unknown paths and unsupported methods alike answer 404 `not_found` (the contract's
    error codes have no 405)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code not in (404, 405):
        return JsonResponse({"error": "invalid", "message": exc.detail}, status_code=422)
    message = f"no route for {request.method} {request.url.path}"
    return JsonResponse({"error": "not_found", "message": message}, status_code=404)
