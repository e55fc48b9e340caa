"""Run in a fresh process: one warm Lambda container, invoked as often as the test likes.

    python tests/lambda_container.py <log file>

Each line on stdin is an event; `gateway.lambda_handler.handler` answers it and the process
writes one JSON line to stdout: {"status": 200, "body": "..."}. What the function itself
writes to stdout (CloudWatch Logs: request lines, EMF documents, ramp decisions) goes to the
log file. Between two events nothing runs on the container's event loop, as in a container
frozen between invocations.
"""

from __future__ import annotations

import json
import sys
from typing import Any


class Context:
    function_name = "gateway"
    aws_request_id = "test-request"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:gateway"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def main() -> None:
    answers = sys.stdout
    with open(sys.argv[1], "a", encoding="utf-8") as log:
        sys.stdout = log  # the function's own output: CloudWatch Logs
        import gateway.lambda_handler as lambda_handler

        for line in sys.stdin:
            event: dict[str, Any] = json.loads(line)
            response = lambda_handler.handler(event, Context())
            answer = {"status": response["statusCode"], "body": response["body"]}
            answers.write(json.dumps(answer) + "\n")
            answers.flush()


if __name__ == "__main__":
    main()
