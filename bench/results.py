"""What a scenario produces: a `Result`, checked against its `Target`s.

Durations are in seconds everywhere; only the report turns them into µs or ms.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from bench.stats import ratio

Status = Literal["ok", "not available", "failed"]
Op = Literal[">=", "<=", "=="]
Metric = Literal["ratio", "backend_requests", "p50_s", "p99_over_p50"]

_OPS: Mapping[Op, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
}
_SYMBOLS: Mapping[Op, str] = {">=": "≥", "<=": "≤", "==": "="}


@dataclass(frozen=True)
class Target:
    """One goal from the issue, e.g. Target("ratio", ">=", 0.35) for "at least 0.35 of".

    A ratio is to the result's baseline, or with `of` to another scenario of the same run:
    Target("ratio", ">=", 0.8, of="rest-proxy"). "p99_over_p50" is the tail: p99 ÷ p50.
    """

    metric: Metric
    op: Op
    value: float
    of: str | None = None

    def __post_init__(self) -> None:
        if self.of is not None and self.metric != "ratio":
            raise ValueError(f"only a ratio is taken of another scenario, not {self.metric}")

    def check(self, result: Result) -> bool | None:
        """True or False, or None when the result has no such figure (not measured)."""
        if self.of is not None:
            measured = result.ratios.get(self.of)
        else:
            measured = getattr(result, self.metric)
        if measured is None:
            return None
        return _OPS[self.op](measured, self.value)

    def short(self) -> str:
        """What a missed target is called in the verdict: "ratio", "ratio to bff-a", ..."""
        return self.metric if self.of is None else f"ratio to {self.of}"

    def label(self) -> str:
        symbol = _SYMBOLS[self.op]
        if self.metric == "ratio" and self.of is not None:
            return f"ratio to {self.of} {symbol} {self.value:g}"
        if self.metric == "ratio":
            return f"ratio {symbol} {self.value:g}"
        if self.metric == "backend_requests":
            return f"backend req/query {symbol} {self.value:g}"
        if self.metric == "p99_over_p50":
            return f"p99 {symbol} {self.value:g} × p50"
        return f"p50 {symbol} {self.value * 1e6:g} µs"


@dataclass(frozen=True)
class Table:
    """Figures that are not one row of the results table (bench/stages.py: a stage per row,
    an operation per column), reported in a block of their own: column heads, rows of text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Result:
    """One row of the report. `ratio` is filled from `baseline`'s req/s unless set already."""

    name: str
    title: str
    status: Status = "ok"
    rps: float | None = None
    p50_s: float | None = None
    p99_s: float | None = None
    baseline: str | None = None
    ratio: float | None = None
    backend_requests: float | None = None
    backend_per_request_under_load: float | None = None
    backend_per_request_over_run: float | None = None
    targets: tuple[Target, ...] = ()
    note: str = ""
    details: Mapping[str, Any] = field(default_factory=dict)
    ratios: Mapping[str, float] = field(default_factory=dict)  # to other scenarios (`of`)
    table: Table | None = None  # the scenario's own block (catalog.OWN_BLOCKS)

    @property
    def p99_over_p50(self) -> float | None:
        return ratio(self.p99_s, self.p50_s)

    def compared_with(self) -> list[str]:
        """The other scenarios its targets take a ratio of, besides the baseline."""
        return list(dict.fromkeys(t.of for t in self.targets if t.of is not None))

    def verdict(self) -> str:
        """ "yes", "no (…)" naming the missed targets, or "n/a" when something is unmeasured."""
        if not self.targets:
            return "—"
        checks = [(target, target.check(self)) for target in self.targets]
        missed = [target.short() for target, met in checks if met is False]
        if missed:
            return f"no ({', '.join(missed)})"
        if any(met is None for _, met in checks):
            return "n/a"
        return "yes"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "rps": self.rps,
            "p50_s": self.p50_s,
            "p99_s": self.p99_s,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "ratios": dict(self.ratios),
            "backend_requests": self.backend_requests,
            "backend_per_request_under_load": self.backend_per_request_under_load,
            "backend_per_request_over_run": self.backend_per_request_over_run,
            "targets": [target.label() for target in self.targets],
            "met": self.verdict(),
            "note": self.note,
            "details": dict(self.details),
            "table": None
            if self.table is None
            else {"columns": list(self.table.columns), "rows": [list(r) for r in self.table.rows]},
        }


def with_ratios(results: Sequence[Result]) -> list[Result]:
    """Fill each ratio from its baseline's req/s when that baseline ran in the same run, and
    the ratios its targets take of other scenarios (`Target.of`) likewise.

    [Result("c", rps=100), Result("a", rps=40, baseline="c")] → a.ratio == 0.4
    """
    rps = {result.name: result.rps for result in results if result.status == "ok"}

    def filled(result: Result) -> Result:
        if result.status != "ok":
            return result
        if result.ratio is None and result.baseline is not None:
            result = replace(result, ratio=ratio(result.rps, rps.get(result.baseline)))
        others = {
            name: value
            for name in result.compared_with()
            if name not in result.ratios and (value := ratio(result.rps, rps.get(name))) is not None
        }
        return replace(result, ratios={**result.ratios, **others}) if others else result

    return [filled(result) for result in results]
