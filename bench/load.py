"""HTTP load scenarios: probe once (and count the backend requests it causes), warm up,
then a fixed-duration closed-loop run with wrk at a fixed number of connections.

A scenario sends one request, or a rotation: a list of requests wrk sends in turn (many
travelers, each with their own token and variables), so that concurrent requests ask for
different data. Every request of a rotation is probed once before the run.

Optional checks around the measured run: `X-Cache` of a few plain requests before and
after it, the stub's counter over the whole run divided by the requests wrk sent, and
the run's own Redis staying silent (every answer an L1 hit).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bench.fixtures import reset_stub, stub_stats, wait_until_stub_idle
from bench.redis_server import read_counters, reset_counters
from bench.request import HttpRequest, send_each
from bench.results import Result, Target
from bench.scenario import Options
from bench.services import Stack
from bench.wrk import WrkSummary, run_wrk

X_CACHE_SAMPLES = 3  # plain requests before and after the measured run
PROBE_AT_ONCE = 8  # a rotation's probes in flight at a time


@dataclass(frozen=True)
class LoadScenario:
    """`service` answers `request` (one request, or a rotation sent in turn through wrk's
    cycling script); `counts_backend` reads the stub's counters around it, the first
    request of a rotation alone, then over a burst of the rotation in turn.

    - `count_sent`: wrk sends through the cycling script even a single request; the
      script reports how many requests it sent, and both sides of a ratio that use it pay
      the same per-request Lua call in the client;
    - `backend_over_run`: the stub's counter over the measured run ÷ requests sent;
    - `x_cache`: the `X-Cache` every sampled answer should carry;
    - `redis_quiet`: the run's Redis must see no command during the measured run (any
      answer not served from L1 would read Redis first);
    - `check`: looks at the probe's answer and returns a note for the report (which backend
      answered, whether the bytes are the gateway's, ...).
    """

    name: str
    title: str
    service: str
    request: Callable[[Stack], HttpRequest | Sequence[HttpRequest]]
    needs: tuple[str, ...]
    baseline: str | None = None
    targets: tuple[Target, ...] = ()
    counts_backend: bool = False
    count_sent: bool = False
    backend_over_run: bool = False
    x_cache: str | None = None
    redis_quiet: bool = False
    check: Callable[[Stack, httpx.Response], str] | None = None

    def run(self, stack: Stack, options: Options) -> Result:
        url = stack.url(self.service)
        requests = as_requests(self.request(stack))
        request = requests[0]
        probes = send_each(url, requests, at_once=PROBE_AT_ONCE)
        failed = rotation_problem(requests, probes)
        if failed is not None:
            status = "not available" if failed[0].status_code == 404 else "failed"
            return self._result(status=status, note=failed[1])
        probe = probes[0]
        details: dict[str, Any] = {"response_bytes": len(probe.content)}
        if len(requests) > 1:
            sizes = [len(answer.content) for answer in probes]
            details["rotation"] = {"requests": len(requests), "mean_bytes": sum(sizes) / len(sizes)}
        notes: list[str] = [] if self.check is None else [self.check(stack, probe)]
        backend: float | None = None
        if self.counts_backend:
            reset_stub(stack)
            request.send(url).raise_for_status()
            stats = stub_stats(stack)
            backend = float(stats["total"])
            details["backend_requests"] = stats["requests"]
        before = self._sample_x_cache(url, request)
        run_wrk(url, request, **self._wrk_args(stack, options, options.warmup_s, requests))
        if self.backend_over_run:
            wait_until_stub_idle(stack)
            reset_stub(stack)
        if self.redis_quiet:
            reset_counters(stack.url("redis"))
        summary = run_wrk(
            url, request, **self._wrk_args(stack, options, options.duration_s, requests)
        )
        details["wrk"] = summary_json(summary)
        over_run = self._backend_over_run(stack, summary, details)
        if self.redis_quiet:
            notes.append(self._redis_note(stack, details))
        after = self._sample_x_cache(url, request)
        if self.x_cache is not None:
            details["x_cache"] = {"before": before, "after": after}
            notes.append(x_cache_note(self.x_cache, before, after))
        under_load = self._backend_under_concurrency(stack, url, requests, options, details)
        notes.append(error_note(summary))
        return self._result(
            rps=summary.rps,
            p50_s=summary.p50_s,
            p99_s=summary.p99_s,
            backend_requests=backend,
            backend_per_request_under_load=under_load,
            backend_per_request_over_run=over_run,
            note="; ".join(note for note in notes if note),
            details=details,
        )

    def _sample_x_cache(self, url: str, request: HttpRequest) -> list[str]:
        if self.x_cache is None:
            return []
        return x_cache_of(send_each(url, [request] * X_CACHE_SAMPLES))

    def _backend_over_run(
        self, stack: Stack, summary: WrkSummary, details: dict[str, Any]
    ) -> float | None:
        """The stub's counter over the measured run (once the gateway has finished what
        wrk cut off) divided by the requests wrk sent, cut-off ones included."""
        if not self.backend_over_run or not summary.sent:
            return None
        wait_until_stub_idle(stack)
        backend = stub_stats(stack)
        details["over_run"] = {"sent": summary.sent, "backend": backend}
        return float(backend["total"]) / summary.sent

    def _redis_note(self, stack: Stack, details: dict[str, Any]) -> str:
        counters = read_counters(stack.url("redis"))
        details["redis_during_run"] = counters
        if counters["calls"] == 0:
            return "Redis saw no command during the measured run: every answer came from L1"
        return (
            f"NOT ALL L1 HITS: Redis saw {counters['calls']} commands during the measured "
            f"run ({counters['commands']})"
        )

    def _backend_under_concurrency(
        self,
        stack: Stack,
        url: str,
        requests: Sequence[HttpRequest],
        options: Options,
        details: dict[str, Any],
    ) -> float | None:
        """Backend requests per query over a counted burst at the run's concurrency.

        A timed run abandons the requests in flight when it stops, so the stub's counter
        over it overstates the ratio by up to connections × 6 requests: count a burst of
        exactly `2 × connections` requests instead, the rotation's in turn as wrk sends them.
        """
        if not self.counts_backend:
            return None
        total = 2 * options.connections
        burst = [requests[index % len(requests)] for index in range(total)]
        wait_until_stub_idle(stack)
        reset_stub(stack)
        answers = send_each(url, burst, at_once=options.connections)
        succeeded = sum(answer.is_success for answer in answers)
        backend = stub_stats(stack)
        details["burst"] = {"requests": total, "succeeded": succeeded, "backend": backend}
        return float(backend["total"]) / total

    def _wrk_args(
        self, stack: Stack, options: Options, duration_s: float, requests: Sequence[HttpRequest]
    ) -> dict[str, Any]:
        args: dict[str, Any] = {
            "script_dir": stack.workdir,
            "connections": options.connections,
            "duration_s": duration_s,
            "threads": options.threads,
        }
        if len(requests) > 1 or self.count_sent or self.backend_over_run:
            args["cycle"] = requests
        return args

    def _result(self, **fields: Any) -> Result:
        return Result(
            name=self.name,
            title=self.title,
            baseline=self.baseline,
            targets=self.targets,
            **fields,
        )


def as_requests(sent: HttpRequest | Sequence[HttpRequest]) -> Sequence[HttpRequest]:
    """A scenario's request or rotation as a rotation (of one), never empty."""
    requests = [sent] if isinstance(sent, HttpRequest) else list(sent)
    if not requests:
        raise ValueError("a scenario must send at least one request")
    return requests


def rotation_problem(
    requests: Sequence[HttpRequest], answers: Sequence[httpx.Response]
) -> tuple[httpx.Response, str] | None:
    """The first answer of a rotation's probes not worth loading, and why (naming which
    request it answered when there are several)."""
    for index, (request, answer) in enumerate(zip(requests, answers, strict=True)):
        problem = probe_problem(answer)
        if problem is not None:
            which = f" (request {index + 1} of {len(requests)})" if len(requests) > 1 else ""
            return answer, f"{request.method} {request.path}{which}: {problem}"
    return None


def probe_problem(response: httpx.Response) -> str | None:
    """Why one answer is not worth loading: an HTTP error or a GraphQL `errors` entry."""
    if response.status_code == 404:
        return "404 (not served yet)"
    if not response.is_success:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        if isinstance(body, dict) and body.get("errors"):
            return f"GraphQL errors: {str(body['errors'])[:200]}"
    return None


def x_cache_of(responses: Iterable[httpx.Response]) -> list[str]:
    return [response.headers.get("x-cache", "none") for response in responses]


def tally(values: Sequence[str]) -> str:
    """tally(["HIT-L1", "MISS", "HIT-L1"]) → "HIT-L1 ×2, MISS ×1" """
    return ", ".join(f"{value} ×{count}" for value, count in Counter(values).most_common())


def x_cache_note(expected: str, before: Sequence[str], after: Sequence[str]) -> str:
    """What the sampled answers said, flagged when any is not `expected`."""
    seen = f"X-Cache of {len(before)} plain requests before the load and {len(after)} after"
    if all(value == expected for value in [*before, *after]):
        return f"{seen}: all {expected}"
    return f"X-CACHE NOT ALWAYS {expected}: {seen}: before {tally(before)}; after {tally(after)}"


def error_note(summary: WrkSummary) -> str:
    """ "" when every request succeeded, else the error counts (non-2xx/3xx are "status")."""
    errors = {kind: count for kind, count in summary.errors.items() if count}
    if not errors:
        return ""
    listed = ", ".join(f"{count} {kind}" for kind, count in errors.items())
    return f"wrk counted errors in {summary.requests} requests: {listed}"


def summary_json(summary: WrkSummary) -> dict[str, Any]:
    return {
        "requests": summary.requests,
        "duration_s": summary.duration_s,
        "bytes": summary.bytes,
        "errors": summary.errors,
        "p50_s": summary.p50_s,
        "p90_s": summary.p90_s,
        "p99_s": summary.p99_s,
        "max_s": summary.max_s,
        "sent": summary.sent,
    }
