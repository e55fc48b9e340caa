"""HTTP load scenarios: probe once (and count the backend requests it causes), warm up,
then a fixed-duration closed-loop run with wrk at a fixed number of connections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bench.fixtures import reset_stub, stub_stats
from bench.request import HttpRequest, send_many
from bench.results import Result, Target
from bench.scenario import Options
from bench.services import Stack
from bench.wrk import WrkSummary, run_wrk


@dataclass(frozen=True)
class LoadScenario:
    """`service` answers `request`; `counts_backend` reads the stub's counters around it."""

    name: str
    title: str
    service: str
    request: Callable[[Stack], HttpRequest]
    needs: tuple[str, ...]
    baseline: str | None = None
    targets: tuple[Target, ...] = ()
    counts_backend: bool = False

    def run(self, stack: Stack, options: Options) -> Result:
        url = stack.url(self.service)
        request = self.request(stack)
        probe = request.send(url)
        problem = probe_problem(probe)
        if problem is not None:
            status = "not available" if probe.status_code == 404 else "failed"
            return self._result(status=status, note=f"{request.method} {request.path}: {problem}")
        details: dict[str, Any] = {"response_bytes": len(probe.content)}
        backend: float | None = None
        if self.counts_backend:
            reset_stub(stack)
            request.send(url).raise_for_status()
            stats = stub_stats(stack)
            backend = float(stats["total"])
            details["backend_requests"] = stats["requests"]
        run_wrk(url, request, **self._wrk_args(stack, options, options.warmup_s))
        summary = run_wrk(url, request, **self._wrk_args(stack, options, options.duration_s))
        details["wrk"] = summary_json(summary)
        under_load = self._backend_under_concurrency(stack, url, request, options, details)
        return self._result(
            rps=summary.rps,
            p50_s=summary.p50_s,
            p99_s=summary.p99_s,
            backend_requests=backend,
            backend_per_request_under_load=under_load,
            note=error_note(summary),
            details=details,
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
        reset_stub(stack)
        succeeded = send_many(url, request, total=total, at_once=options.connections)
        backend = stub_stats(stack)
        details["burst"] = {"requests": total, "succeeded": succeeded, "backend": backend}
        return float(backend["total"]) / total

    def _wrk_args(self, stack: Stack, options: Options, duration_s: float) -> dict[str, Any]:
        return {
            "script_dir": stack.workdir,
            "connections": options.connections,
            "duration_s": duration_s,
            "threads": options.threads,
        }

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
    }
