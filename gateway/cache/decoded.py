"""Cached JSON decoded once per distinct value, read-only, shared by every request.

L1 keeps bytes (exact sizes, nothing a caller can change); every read of an entity used to
decode its bytes again, a third of a warm trips page's CPU. `decoded(raw)` remembers the
decoding per content (an LRU keyed by the bytes, bounded by their total size: equal bytes,
equal value, so a changed entity is simply another key) and hands out *frozen* containers:
`FrozenDict` and `FrozenList` are a `dict` and a `list` to every reader (isinstance, orjson,
json, graphql-core) but refuse every change with a TypeError, so no request can alter what
another one reads.
A copy (`dict(x)`, `list(x)`, `copy.copy`, `copy.deepcopy`) is an ordinary, mutable one.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any, NoReturn, SupportsIndex

import orjson


def _refuse(what: object) -> NoReturn:
    raise TypeError(f"a cached {type(what).__name__} is read-only: change a copy of it")


class FrozenDict(dict[str, Any]):
    __slots__ = ()

    def __setitem__(self, key: str, value: Any) -> NoReturn:
        _refuse(self)

    def __delitem__(self, key: str) -> NoReturn:
        _refuse(self)

    def __ior__(self, other: Any) -> NoReturn:  # type: ignore[misc]
        _refuse(self)

    def clear(self) -> NoReturn:
        _refuse(self)

    def pop(self, *args: Any) -> NoReturn:
        _refuse(self)

    def popitem(self) -> NoReturn:
        _refuse(self)

    def setdefault(self, *args: Any) -> NoReturn:
        _refuse(self)

    def update(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        return dict, (dict(self),)  # copies and pickles are ordinary dicts


class FrozenList(list[Any]):
    __slots__ = ()

    def __setitem__(self, index: SupportsIndex | slice, value: Any) -> NoReturn:
        _refuse(self)

    def __delitem__(self, index: SupportsIndex | slice) -> NoReturn:
        _refuse(self)

    def __iadd__(self, other: Iterable[Any]) -> NoReturn:  # type: ignore[misc]
        _refuse(self)

    def __imul__(self, times: SupportsIndex) -> NoReturn:
        _refuse(self)

    def append(self, item: Any) -> NoReturn:
        _refuse(self)

    def extend(self, items: Iterable[Any]) -> NoReturn:
        _refuse(self)

    def insert(self, index: SupportsIndex, item: Any) -> NoReturn:
        _refuse(self)

    def remove(self, item: Any) -> NoReturn:
        _refuse(self)

    def pop(self, index: SupportsIndex = -1) -> NoReturn:
        _refuse(self)

    def clear(self) -> NoReturn:
        _refuse(self)

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse(self)

    def reverse(self) -> NoReturn:
        _refuse(self)

    def __reduce__(self) -> tuple[type[list[Any]], tuple[list[Any]]]:
        return list, (list(self),)


def freeze(value: Any) -> Any:
    """`value` (decoded JSON) with every dict and list inside it frozen."""
    if isinstance(value, dict):
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return FrozenList([freeze(item) for item in value])
    return value


class DecodedMemo:
    """Decoded values by their bytes, least recently used out first, bounded by the total
    length of the bytes kept (`max_bytes`; no single value over 1/64 of it is kept, so one
    large answer can't flush the entities). cachetools' LRUCache would do the same through
    several Python frames per read, ~4x the cost; this is read ~80 times per warm page."""

    def __init__(self, max_bytes: int) -> None:
        self._values: OrderedDict[bytes, Any] = OrderedDict()
        self._max_bytes = max_bytes
        self.size_bytes = 0

    def __len__(self) -> int:
        return len(self._values)

    def __call__(self, raw: bytes) -> Any:
        """`orjson.loads(raw)`, frozen, remembered for the next read of the same bytes."""
        found = self._values.get(raw)
        if found is not None:
            self._values.move_to_end(raw)
            return found
        value = freeze(orjson.loads(raw))
        if len(raw) <= self._max_bytes // 64:
            self._values[raw] = value
            self.size_bytes += len(raw)
            while self.size_bytes > self._max_bytes:
                dropped, _ = self._values.popitem(last=False)
                self.size_bytes -= len(dropped)
        return value


# ~8 MiB of JSON (entities are ~250 bytes, a page of 20 trips ~5 KB): ~40 MB decoded at most.
decoded = DecodedMemo(max_bytes=8 * 2**20)
