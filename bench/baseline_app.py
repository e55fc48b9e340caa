"""The baseline (c): a bare FastAPI app answering a fixed JSON body, to show what FastAPI and
uvicorn alone cost at the size of the gateway's answer.

    BENCH_BASELINE_BODY=/tmp/body.json uvicorn bench.baseline_app:app

The body file holds the gateway's own answer to query (a); it is parsed once and serialised
per request, as the gateway has to. Without the variable the body is a small placeholder.
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


def create_app(body: Any) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.api_route("/answer", methods=["GET", "POST"])
    async def answer() -> JSONResponse:
        return JSONResponse(body)

    @app.get("/healthz")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


app = create_app(read_body(os.environ.get("BENCH_BASELINE_BODY")))
