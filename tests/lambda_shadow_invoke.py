"""Run in a fresh process: a warm Lambda container answers a shadowed REST route twice, and
prints what the route's shadow counters and the shadow runner hold after each invocation.

    python tests/lambda_shadow_invoke.py <path> <token>
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

EVENT = Path(__file__).parent / "events" / "apigw_http_v2.json"


def event_for(path: str, token: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENT.read_text())
    event["routeKey"] = event["requestContext"]["routeKey"] = "ANY /api/{proxy+}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = "GET"
    event["headers"] = {"accept": "application/json", "authorization": f"Bearer {token}"}
    return event


def main() -> None:
    import gateway.lambda_handler as lambda_handler

    runtime = lambda_handler.app.state.runtime
    invocations = []
    for _ in range(2):
        response = lambda_handler.handler(event_for(sys.argv[1], sys.argv[2]), None)
        routes = runtime.stats.snapshot()["routes"]
        invocations.append(
            {
                "status": response["statusCode"],
                "shadow": {k: n for r in routes.values() for k, n in r["shadow"].items() if n},
                "pending": runtime.shadows.pending,
            }
        )
    print(json.dumps(invocations))


if __name__ == "__main__":
    main()
