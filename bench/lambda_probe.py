"""Run in a fresh process by coldstart.py: import the Lambda handler, invoke it twice with an
API Gateway HTTP API (v2) event, print the timings as one JSON line.

    LEGACY_URL=… ROUTES_FILE=… GATEWAY_JWT_SECRET=… BENCH_TOKEN=… python -m bench.lambda_probe
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # not at run time: the probe times the handler's imports from nothing
    from mangum.types import LambdaCognitoIdentity, LambdaMobileClientContext

EVENT_FILE = Path(__file__).resolve().parents[1] / "tests" / "events" / "apigw_http_v2.json"
QUERY = "{ topDestinations { code } }"


@dataclass
class ProbeContext:
    """The attributes of the context object Lambda passes to a handler."""

    function_name: str = "bench-probe"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:bench-probe"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "bench-probe-request"
    log_group_name: str = "/aws/lambda/bench-probe"
    log_stream_name: str = "bench"
    identity: LambdaCognitoIdentity | None = None
    client_context: LambdaMobileClientContext | None = None

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def build_event(token: str | None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENT_FILE.read_text(encoding="utf-8"))
    event["body"] = json.dumps({"query": QUERY})
    if token:
        event["headers"]["authorization"] = f"Bearer {token}"
    return event


def main() -> None:
    event = build_event(os.environ.get("BENCH_TOKEN"))
    started = time.perf_counter()
    from gateway.lambda_handler import handler

    imported = time.perf_counter()
    first = handler(event, ProbeContext())
    invoked = time.perf_counter()
    second = handler(event, ProbeContext())
    again = time.perf_counter()
    print(
        json.dumps(
            {
                "import_s": imported - started,
                "first_s": invoked - imported,
                "second_s": again - invoked,
                "status": first["statusCode"],
                "second_status": second["statusCode"],
                "body": first["body"][:300],
            }
        )
    )


if __name__ == "__main__":
    main()
