"""The token bucket, as pure arithmetic: a state and a clock in, a decision and a state out.

A bucket holds at most `rate.requests` tokens and refills continuously at
`rate.requests / rate.per_s` tokens a second; a request takes one token or is refused.
So `5/60` allows a burst of 5, then one request every 12 s:

    take(None, Rate(5, 60), now=0)          -> Decision(True, remaining=4, retry_after_s=0)
    (five more at now=0)                    -> the sixth: Decision(False, 0, retry_after_s=12)

The Redis script (`redis_store.py`) is this same function in Lua; a test holds them equal.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_SPEC = re.compile(r"(\d+)\s*/\s*(\d+(?:\.\d+)?)")
OFF = ("off", "0", "none", "false", "no")


@dataclass(frozen=True, slots=True)
class Rate:
    """`requests` per `per_s` seconds, also the size of a burst."""

    requests: int
    per_s: float

    def __post_init__(self) -> None:
        if self.requests < 1 or not self.per_s > 0:
            raise ValueError(f"a rate needs requests >= 1 and seconds > 0, got {self}")

    @property
    def per_token_s(self) -> float:
        return self.per_s / self.requests

    @classmethod
    def parse(cls, text: str) -> Rate | None:
        """`"100/1"` → `Rate(100, 1.0)`; `"off"` → None; anything else raises ValueError."""
        text = text.strip().lower()
        if text in OFF:
            return None
        match = _SPEC.fullmatch(text)
        if match is None or int(match[1]) < 1 or float(match[2]) <= 0:
            raise ValueError(f"{text!r} is not <requests>/<seconds> (e.g. 100/1 or 600/60) or off")
        return cls(int(match[1]), float(match[2]))


@dataclass(frozen=True, slots=True)
class BucketState:
    tokens: float
    updated_s: float  # when `tokens` was last computed


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int  # whole tokens left after this request
    retry_after_s: int  # 0 when allowed; else whole seconds until a token is there (>= 1)


def take(state: BucketState | None, rate: Rate, *, now: float) -> tuple[Decision, BucketState]:
    """Refill for the time since the last request (a clock going backwards refills nothing),
    then take one token if there is one."""
    if state is None:
        tokens = float(rate.requests)
    else:
        elapsed = max(0.0, now - state.updated_s)
        tokens = min(float(rate.requests), state.tokens + elapsed / rate.per_token_s)
    if tokens >= 1:
        tokens -= 1
        return Decision(True, math.floor(tokens), 0), BucketState(tokens, now)
    wait = (1 - tokens) * rate.per_token_s
    return Decision(False, 0, retry_after_s(wait)), BucketState(tokens, now)


def retry_after_s(wait_s: float) -> int:
    """Whole seconds for `Retry-After`, never 0 (that would invite an instant retry); a
    hair of float error (12.000000001) does not add a second."""
    return max(1, math.ceil(wait_s - 1e-6))


def idle_s(rate: Rate) -> float:
    """After this long without requests a bucket is full again, so it may be forgotten."""
    return rate.per_s
