"""Start-up configuration from the environment, checked once.

STUB_SEED        data seed (default 42)
STUB_TRAVELERS   number of travelers (default 300)
STUB_TRIPS       number of trips (default 2000)
STUB_LATENCY_MS  fixed latency added to every /api request (default 0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


class SettingsError(ValueError):
    def __init__(self, *, name: str, value: str, minimum: int) -> None:
        super().__init__(f"{name}={value!r}: expected an integer >= {minimum}")
        self.name = name
        self.value = value


@dataclass(frozen=True, slots=True)
class StubSettings:
    seed: int = 42
    travelers: int = 300
    trips: int = 2000
    latency_ms: int = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> StubSettings:
        return cls(
            seed=_int(environ, "STUB_SEED", default=42, minimum=0),
            travelers=_int(environ, "STUB_TRAVELERS", default=300, minimum=1),
            trips=_int(environ, "STUB_TRIPS", default=2000, minimum=0),
            latency_ms=_int(environ, "STUB_LATENCY_MS", default=0, minimum=0),
        )


def _int(environ: Mapping[str, str], name: str, *, default: int, minimum: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name=name, value=raw, minimum=minimum) from None
    if value < minimum:
        raise SettingsError(name=name, value=raw, minimum=minimum)
    return value
