"""The decision of a self-ramping canary, from one window's numbers: pure, no clock, no I/O.

    next_step(auto, state, window, now=...) → Decision("raise", 35, "gates hold: ...")

- a gate fails (canary error rate, canary p99 against the primary's, shadow match rate):
  "rollback" to 0 at once, whatever the time;
- rolled back: "stay" at 0 for good. Only a changed routes file re-arms the ramp (a new
  table version is a new state key), so a flapping backend cannot move traffic back and
  forth while nobody looks;
- otherwise "hold" (already at 100, too few canary requests, or `every` not yet over since
  the last change) or "raise" by `step`, capped at 100.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from gateway.routing.policies import Auto

Action = Literal["raise", "hold", "rollback", "stay"]
HISTORY = 20  # decisions kept in the shared state, for `routes status`


@dataclass(frozen=True)
class BackendWindow:
    """One backend's calls through the route in the window; p99 None: no latency samples."""

    requests: int = 0
    errors: int = 0
    p99_s: float | None = None


@dataclass(frozen=True)
class Window:
    canary: BackendWindow
    primary: BackendWindow
    shadow_compared: int = 0
    shadow_matched: int = 0


@dataclass(frozen=True)
class RampState:
    """Shared by every gateway of one table version; `rev` counts writes (compare-and-set).
    `changed_at` is wall-clock seconds (gateways on different hosts compare it)."""

    percent: int
    changed_at: float
    rev: int = 0
    rolled_back: bool = False
    reason: str = ""
    history: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    action: Action
    percent: int
    reason: str


def first_state(start_percent: int, now: float) -> RampState:
    return RampState(percent=start_percent, changed_at=now, reason="armed from the routes file")


def next_step(auto: Auto, state: RampState, window: Window, *, now: float) -> Decision:
    if state.rolled_back:
        return Decision("stay", 0, f"rolled back ({state.reason}); edit routes.yaml to re-arm")
    failed = failed_gate(auto, window)
    if failed is not None:
        return Decision("rollback", 0, failed)
    if state.percent >= 100:
        return Decision("hold", state.percent, "at 100%")
    if window.canary.requests < auto.min_requests:
        seen = f"{window.canary.requests} of {auto.min_requests}"
        return Decision("hold", state.percent, f"not enough canary traffic ({seen} requests)")
    if now - state.changed_at < auto.every_s:
        return Decision("hold", state.percent, f"not time yet (every {auto.every_s:g}s)")
    raised = min(100, state.percent + auto.step)
    return Decision("raise", raised, f"gates hold: {gates_summary(window)}")


def failed_gate(auto: Auto, window: Window) -> str | None:
    """Why the canary must go, or None. Errors and shadow mismatches count from the first
    request (each one is a real failure); latency needs `min_requests` on both sides, since
    one slow call is not a p99."""
    canary, primary = window.canary, window.primary
    if canary.requests and canary.errors / canary.requests > auto.max_error_rate:
        rate = canary.errors / canary.requests
        return (
            f"error rate {rate:.1%} ({canary.errors}/{canary.requests}) "
            f"> max_error_rate {auto.max_error_rate:.1%}"
        )
    if (
        canary.p99_s is not None
        and primary.p99_s
        and min(canary.requests, primary.requests) >= auto.min_requests
        and canary.p99_s / primary.p99_s > auto.max_p99_ratio
    ):
        ratio = canary.p99_s / primary.p99_s
        return (
            f"p99 {canary.p99_s * 1000:.0f}ms vs primary {primary.p99_s * 1000:.0f}ms "
            f"(×{ratio:.2f}) > max_p99_ratio {auto.max_p99_ratio:g}"
        )
    if auto.min_shadow_match is not None and window.shadow_compared:
        rate = window.shadow_matched / window.shadow_compared
        if rate < auto.min_shadow_match:
            seen = f"{window.shadow_matched}/{window.shadow_compared}"
            return (
                f"shadow match {rate:.1%} ({seen}) < min_shadow_match {auto.min_shadow_match:.1%}"
            )
    return None


def gates_summary(window: Window) -> str:
    canary = window.canary
    parts = [f"{canary.errors}/{canary.requests} canary errors"]
    if canary.p99_s is not None and window.primary.p99_s:
        parts.append(f"p99 ×{canary.p99_s / window.primary.p99_s:.2f}")
    if window.shadow_compared:
        parts.append(f"shadow {window.shadow_matched}/{window.shadow_compared}")
    return ", ".join(parts)


def apply(state: RampState, decision: Decision, *, now: float, stamp: str) -> RampState:
    """The state after a decision that changes it ("raise" or "rollback"); `stamp` is the
    time and gateway written into the history line."""
    line = f"{stamp} {decision.action} {state.percent}% → {decision.percent}%: {decision.reason}"
    return replace(
        state,
        percent=decision.percent,
        changed_at=now,
        rev=state.rev + 1,
        rolled_back=state.rolled_back or decision.action == "rollback",
        reason=decision.reason,
        history=(*state.history, line)[-HISTORY:],
    )
