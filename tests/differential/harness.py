"""Two gateways over one stub: the planned one (`executor="auto"`) and the reference one
(strawberry answers everything), each with its own cache, both driven in process.

`Pair.compare(case)` sends the same request to both and asserts the same status, headers
(all but `x-gateway-executor` and `x-request-id`) and body bytes; it counts which executor answered.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.auth import issue_dev_token
from gateway.cache.setup import DEFAULT_TTLS, CacheConfig
from gateway.config import Executor, Settings
from legacy_stub.app import create_app as create_stub
from tests.differential.domain import UNKNOWN_TRAVELER, bent_dataset, fixed_clock
from tests.differential.strategies import Case

SECRET = "differential-secret-0123456789abcdef0123456789"
EXECUTOR_HEADER = "x-gateway-executor"
# Headers that differ between any two requests by design: which executor answered, and the
# correlation id each request is given (gateway.observability).
UNCOMPARED = frozenset({EXECUTOR_HEADER, "x-request-id"})
LEGACY_URL = "http://legacy.test"
COLD = CacheConfig.from_env({f"CACHE_TTL_{kind.upper()}": "0" for kind in DEFAULT_TTLS})
WARM = CacheConfig.from_env({f"CACHE_TTL_{kind.upper()}": "3600" for kind in DEFAULT_TTLS})


def settings(routes_file: Path | None = None) -> Settings:
    return Settings.from_env(
        {
            "GATEWAY_STAGE": "dev",
            "LEGACY_URL": LEGACY_URL,
            "GATEWAY_JWT_SECRET": SECRET,
            "ROUTES_FILE": str(routes_file or "/nonexistent/routes.yaml"),
            # The generator's operations must run to be compared: big pages of duplicated
            # fields can pass the cost budgets, the web one too with enough examples drawn
            # (refusals are tested in test_limits).
            "GATEWAY_MAX_COST_WEB": "1000000",
            "GATEWAY_MAX_COST_MOBILE": "100000",
            # Each app has its own per-backend breakers, opened by its own history of the
            # fault cases: the two would drift apart (the breaker is tested in test_breaker).
            "GATEWAY_BREAKER_FAILURES": "1000000",
        }
    )


def write_routes(path: Path, *, timeout_ms: int) -> Path:
    """A routes file sending everything to the stub with a short deadline (for hangs)."""
    path.write_text(
        f'version: 1\nbackends:\n  legacy: {{url: "{LEGACY_URL}", timeout_ms: {timeout_ms}}}\n'
        "default: legacy\nroutes: []\n"
    )
    return path


def authorization(caller: str) -> str | None:
    """The Authorization header of one of `domain.CALLERS`."""
    if caller == "anonymous":
        return None
    if caller == "bad-token":
        return "Bearer not.a.token"
    if caller == "expired":
        return "Bearer " + issue_dev_token(UNKNOWN_TRAVELER, secret=SECRET, ttl_s=-60, now=0)
    if caller == "agent":
        return "Bearer " + issue_dev_token("t-1", role="agent", secret=SECRET)
    traveler = caller.removeprefix("traveler:")
    return "Bearer " + issue_dev_token(traveler, secret=SECRET)


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes
    executor: str | None

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        headers = {k: v for k, v in response.headers.items() if k not in UNCOMPARED}
        return cls(
            response.status_code, headers, response.content, response.headers.get(EXECUTOR_HEADER)
        )

    @property
    def http(self) -> tuple[int, Mapping[str, str], bytes]:
        """What a client sees (the executor header aside)."""
        return self.status, self.headers, self.body

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass
class Tally:
    """Which executor answered the planned gateway's generated cases, overall and among the
    answers without errors (an error sends a request to the reference executor). Answers
    no executor made (`none`: the whole-answer cache, refused requests) are not shared."""

    all: Counter[str] = field(default_factory=Counter)
    clean: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)  # error codes, or "ok"

    def count(self, answer: Answer) -> None:
        executor = answer.executor or "none"
        self.all[executor] += 1
        body = answer.json()
        errors = body.get("errors", []) if isinstance(body, dict) else []
        if not errors:
            self.clean[executor] += 1
        codes = sorted({str(e.get("extensions", {}).get("code")) for e in errors})
        self.outcomes[",".join(codes) or "ok"] += 1

    @staticmethod
    def share(counts: Counter[str]) -> float:
        total = counts["planned"] + counts["reference"]
        return counts["planned"] / total if total else 0.0

    def __str__(self) -> str:
        return (
            f"planned {self.share(self.all):.0%} of {sum(self.all.values())} answers "
            f"({dict(self.all)}); {self.share(self.clean):.0%} of the "
            f"{sum(self.clean.values())} without errors; outcomes {dict(self.outcomes)}"
        )


class Pair:
    """The planned and the reference gateway over one stub."""

    def __init__(
        self,
        *,
        cache: CacheConfig,
        routes_file: Path | None = None,
        separate_stubs: bool = False,
    ) -> None:
        """`separate_stubs`: each gateway gets its own fresh stub (for mutations); faults
        and resets then apply to the planned gateway's stub only."""
        self.stub = new_stub()
        other = new_stub() if separate_stubs else self.stub
        self.planned = self._client(_app(self.stub, "auto", cache, routes_file))
        self.reference = self._client(_app(other, "reference", cache, routes_file))
        self.admin = self._client(self.stub)

    @staticmethod
    def _client(app: Any) -> httpx.AsyncClient:
        """An app that raises answers 500 here, so a crash is compared like any answer."""
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        return httpx.AsyncClient(transport=transport, base_url="http://gw.test")

    async def aclose(self) -> None:
        for client in (self.planned, self.reference, self.admin):
            await client.aclose()

    async def fault(self, fault: Mapping[str, Any]) -> None:
        (await self.admin.post("/_stub/faults", json=dict(fault))).raise_for_status()

    async def reset(self) -> None:
        (await self.admin.post("/_stub/reset")).raise_for_status()

    async def compare(self, case: Case, *, note: str = "", tally: Tally | None = None) -> Answer:
        """Both answers to `case`, asserted identical; the planned gateway's is returned
        (and counted in `tally`)."""
        planned = Answer.of(await send(self.planned, case))
        reference = Answer.of(await send(self.reference, case))
        if tally is not None:
            tally.count(planned)
        if planned.http != reference.http or reference.executor not in ("reference", None):
            raise AssertionError(mismatch(case, planned, reference, note))
        return planned


def new_stub() -> Starlette:
    return create_stub(bent_dataset(), clock=fixed_clock)


def _app(stub: Starlette, executor: Executor, cache: CacheConfig, routes: Path | None) -> Any:
    transport = httpx.ASGITransport(app=stub)
    return create_app(settings(routes), transport=transport, executor=executor, cache_config=cache)


async def send(client: httpx.AsyncClient, case: Case) -> httpx.Response:
    headers = {"accept": case.accept}
    token = authorization(case.caller)
    if token:
        headers["authorization"] = token
    path = f"/graphql/{case.schema}"
    payload: dict[str, Any] = {"variables": case.variables}
    if case.persisted != "hash":
        payload["query"] = case.document
    if case.persisted != "no":
        sha = hashlib.sha256(case.document.encode()).hexdigest()
        payload["extensions"] = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    if case.operation_name:
        payload["operationName"] = case.operation_name
    if case.method == "POST":
        return await client.post(path, json=payload, headers=headers)
    params = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
    return await client.get(path, params=params, headers=headers)


def mismatch(case: Case, planned: Answer, reference: Answer, note: str) -> str:
    def show(answer: Answer) -> list[str]:
        body = answer.json()
        text = json.dumps(body, indent=1, ensure_ascii=False) if body is not None else ""
        head = [
            f"status {answer.status}",
            *(f"{k}: {v}" for k, v in sorted(answer.headers.items())),
        ]
        return [*head, *text.splitlines()]

    diff = difflib.unified_diff(show(reference), show(planned), "reference", "planned", lineterm="")
    return (
        f"planned ({planned.executor}) and reference answers differ {note}\n{case}\n"
        + "\n".join(diff)
        + f"\nplanned bytes:   {planned.body[:2000]!r}\nreference bytes: {reference.body[:2000]!r}"
    )
