"""HTTP load scenarios: probe once (and count the backend requests it causes), warm up,
then a fixed-duration closed-loop run with wrk at a fixed number of connections.

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
from bench.request import HttpRequest, send_each, send_many
from bench.results import Result, Target
from bench.scenario import Options
from bench.services import Stack
from bench.wrk import WrkSummary, run_wrk

X_CACHE_SAMPLES = 3  # plain requests before and after the measured run


@dataclass(frozen=True)
class LoadScenario:
    """`service` answers `request`; `counts_backend` reads the stub's counters around it.

    - `count_sent`: wrk sends through the cycling script (with this one body), which
      reports how many requests it sent; the new scenarios use it on both sides of each
      ratio, so both sides pay the same per-request Lua call in the client;
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
    request: Callable[[Stack], HttpRequest]
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
        request = self.request(stack)
        probe = request.send(url)
        problem = probe_problem(probe)
        if problem is not None:
            status = "not available" if probe.status_code == 404 else "failed"
            return self._result(status=status, note=f"{request.method} {request.path}: {problem}")
        details: dict[str, Any] = {"response_bytes": len(probe.content)}
        notes: list[str] = [] if self.check is None else [self.check(stack, probe)]
        backend: float | None = None
        if self.counts_backend:
            reset_stub(stack)
            request.send(url).raise_for_status()
            stats = stub_stats(stack)
            backend = float(stats["total"])
            details["backend_requests"] = stats["requests"]
        before = self._sample_x_cache(url, request)
        run_wrk(url, request, **self._wrk_args(stack, options, options.warmup_s, request))
        if self.backend_over_run:
            wait_until_stub_idle(stack)
            reset_stub(stack)
        if self.redis_quiet:
            reset_counters(stack.url("redis"))
        summary = run_wrk(
            url, request, **self._wrk_args(stack, options, options.duration_s, request)
        )
        details["wrk"] = summary_json(summary)
        over_run = self._backend_over_run(stack, summary, details)
        if self.redis_quiet:
            notes.append(self._redis_note(stack, details))
        after = self._sample_x_cache(url, request)
        if self.x_cache is not None:
            details["x_cache"] = {"before": before, "after": after}
            notes.append(x_cache_note(self.x_cache, before, after))
        under_load = self._backend_under_concurrency(stack, url, request, options, details)
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
        request: HttpRequest,
        options: Options,
        details: dict[str, Any],
    ) -> float | None:
        """Backend requests per query over a counted burst at the run's concurrency.

        A timed run abandons the requests in flight when it stops, so the stub's counter
        over it overstates the ratio by up to connections × 6 requests: count a burst of
        exactly `2 × connections` requests instead.
        """
        if not self.counts_backend:
            return None
        total = 2 * options.connections
        wait_until_stub_idle(stack)
        reset_stub(stack)
        succeeded = send_many(url, request, total=total, at_once=options.connections)
        backend = stub_stats(stack)
        details["burst"] = {"requests": total, "succeeded": succeeded, "backend": backend}
        return float(backend["total"]) / total

    def _wrk_args(
        self, stack: Stack, options: Options, duration_s: float, request: HttpRequest
    ) -> dict[str, Any]:
        args: dict[str, Any] = {
            "script_dir": stack.workdir,
            "connections": options.connections,
            "duration_s": duration_s,
            "threads": options.threads,
        }
        if self.count_sent or self.backend_over_run:
            if request.body is None:
                raise ValueError(f"{self.name}: counting what wrk sent needs a request body")
            args["bodies"] = [request.body]
        return args

    def _result(self, **fields: Any) -> Result:
        return Result(
            name=self.name,
            title=self.title,
            baseline=self.baseline,
            targets=self.targets,
            **fields,
        )


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
