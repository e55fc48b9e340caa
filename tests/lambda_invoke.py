"""Run in a fresh process: invoke `gateway.lambda_handler.handler` with a real event payload
twice, as a warm Lambda container would, and print what came back as JSON.

    python tests/lambda_invoke.py <event.json> <graphql query> [token]
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from pathlib import Path
from typing import Any


def event_for(template: dict[str, Any], query: str, token: str | None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(json.dumps(template))
    headers = event["headers"]
    if token:
        headers["authorization"] = f"Bearer {token}"
        if "multiValueHeaders" in event:
            event["multiValueHeaders"]["Authorization"] = [f"Bearer {token}"]
    if (
        event.get("httpMethod") == "GET"
        and "requestContext" in event
        and "elb" in event["requestContext"]
    ):
        event["queryStringParameters"] = {"query": urllib.parse.quote(query)}
    else:
        event["body"] = json.dumps({"query": query})
    return event


class Context:
    function_name = "gateway"
    aws_request_id = "test-request"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:gateway"


def main() -> None:
    template = json.loads(Path(sys.argv[1]).read_text())
    query, token = sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
    from gateway.lambda_handler import app, handler

    runtime = app.state.runtime
    answers = []
    for _ in range(2):
        response = handler(event_for(template, query, token), Context())
        assert not response.get("isBase64Encoded"), "a JSON answer must travel as text"
        answers.append({"status": response["statusCode"], "body": json.loads(response["body"])})
    l2 = runtime.cache.l2
    redis_builds = l2.client_builds if l2 is not None else None
    print(
        json.dumps(
            {
                "answers": answers,
                "client_builds": runtime.client.builds,
                "redis_builds": redis_builds,
            }
        )
    )


if __name__ == "__main__":
    main()
