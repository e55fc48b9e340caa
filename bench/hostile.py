"""Issue 10: a hostile 200 KB GraphQL body is refused in well under 50 ms, before parsing.

Sent one at a time (the time of one refusal, not of a queue), over HTTP to a real gateway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from bench.results import Result, Target
from bench.scenario import Options
from bench.services import Stack
from bench.stats import median

FRAGMENT = "... on Query { __typename }"
FRAGMENTS = 200_000 // (len(FRAGMENT) + 1)  # about 7,100 inline fragments: 200 KB of text
ROUNDS = 50


def hostile_body() -> dict[str, str]:
    return {"query": "{ " + " ".join(FRAGMENT for _ in range(FRAGMENTS)) + " }"}


@dataclass(frozen=True)
class HostileBodyScenario:
    name: str = "hostile-body"
    title: str = "a hostile 200 KB query (7,100 inline fragments) refused, one at a time"
    needs: tuple[str, ...] = ("stub", "gateway-aiohttp")

    def run(self, stack: Stack, options: Options) -> Result:
        url = stack.url("gateway-aiohttp") + "/graphql/web"
        body = hostile_body()
        spent: list[float] = []
        with httpx.Client(timeout=10) as client:
            for _ in range(ROUNDS + 5):
                started = time.perf_counter()
                answer = client.post(url, json=body, headers={"accept": "application/json"})
                spent.append(time.perf_counter() - started)
                code = answer.json()["errors"][0]["extensions"]["code"]
                assert answer.status_code == 400 and code == "QUERY_TOO_COMPLEX", answer.text
        measured = sorted(spent[5:])  # the first few warm the connection
        typical = median(measured)
        return Result(
            name=self.name,
            title=self.title,
            rps=1 / typical,
            p50_s=typical,
            p99_s=measured[int(len(measured) * 0.99) - 1],
            targets=(Target("p50_s", "<=", 0.05),),
            note=(
                f"{ROUNDS} sequential POSTs of {len(body['query']) // 1000} KB, each answered "
                "400 QUERY_TOO_COMPLEX before parsing; p50 and p99 of the round trip"
            ),
        )
