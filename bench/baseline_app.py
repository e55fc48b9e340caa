"""The baselines (c) and (c-answer): a bare FastAPI app answering a fixed JSON body, to show
what FastAPI and uvicorn alone cost at the size of the gateway's answer.

    BENCH_BASELINE_BODY=/tmp/body.json BENCH_BASELINE_PUBLIC_BODY=/tmp/public.json \
        uvicorn bench.baseline_app:app

`/answer` answers the first file, the gateway's own answer to query (a); `/answer/public`
the second, its answer to the public `topDestinations` query. Each is parsed once and
serialised per request. Without a variable its body is a small placeholder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.responses import JSONResponse


def read_body(path: str | None) -> Any:
    if not path:
        return {"data": {"placeholder": True}}
    return json.loads(Path(path).read_text(encoding="utf-8"))


def create_app(body: Any, public_body: Any = None) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    public = read_body(None) if public_body is None else public_body

    @app.api_route("/answer", methods=["GET", "POST"])
    async def answer() -> JSONResponse:
        return JSONResponse(body)

    @app.api_route("/answer/public", methods=["GET", "POST"])
    async def public_answer() -> JSONResponse:
        return JSONResponse(public)

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app(
    read_body(os.environ.get("BENCH_BASELINE_BODY")),
    read_body(os.environ.get("BENCH_BASELINE_PUBLIC_BODY")),
)
