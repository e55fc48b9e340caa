"""Requests counted per method and route template, e.g. `"GET /api/flights/{id}"`."""

from __future__ import annotations

from collections import Counter
from typing import Any


class RequestStats:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def count(self, key: str) -> None:
        self._counts[key] += 1

    def reset(self) -> None:
        self._counts.clear()

    def to_json(self) -> dict[str, Any]:
        """`{"requests": {"GET /api/flights": 3}, "total": 3}`, keys sorted."""
        requests = dict(sorted(self._counts.items()))
        return {"requests": requests, "total": sum(requests.values())}
