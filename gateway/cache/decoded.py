"""Cached JSON decoded once per distinct value, read-only, shared by every request.

L1 keeps bytes (exact sizes, nothing a caller can change); every read of an entity used to
decode its bytes again, a third of a warm trips page's CPU. `decoded(raw)` remembers the
decoding per content (a bounded LRU keyed by the bytes: equal bytes, equal value, so a
changed entity is simply another key), and hands out *frozen* containers: `FrozenDict` and
`FrozenList` are a `dict` and a `list` to every reader (isinstance, orjson, json, graphql-core)
but refuse every change with a TypeError, so no request can alter what another one reads.
A copy (`dict(x)`, `list(x)`, `copy.copy`, `copy.deepcopy`) is an ordinary, mutable one.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, NoReturn, SupportsIndex

import orjson

DECODED_ENTRIES = 4096  # a few MB of entities; a page reads ~80


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


@functools.lru_cache(maxsize=DECODED_ENTRIES)
def decoded(raw: bytes) -> Any:
    """`orjson.loads(raw)`, frozen, remembered for the next read of the same bytes."""
    return freeze(orjson.loads(raw))
