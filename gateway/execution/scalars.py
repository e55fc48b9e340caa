"""Leaf values exactly as the reference executor serialises them.

The values are what strawberry's types would hold (see `gateway.resolvers.fields`), except
that Date and DateTime are still the backend's ISO strings: strawberry's types parse them
with `fromisoformat` (the `from_backend` constructors), so the same is done here before the
schema's own scalar serialises them. Common cases take a fast path (a `str` for a String
is itself); everything else goes through the scalar's `serialize`, which raises when the
reference would have failed too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from graphql import GraphQLEnumType, GraphQLNamedType, GraphQLScalarType

Serialize = Callable[[Any], Any]
INT_RANGE = range(-(2**31), 2**31)
_PARSERS: dict[str, Callable[[str], Any]] = {
    "DateTime": datetime.fromisoformat,
    "Date": date.fromisoformat,
}


def serializer(named: GraphQLNamedType) -> Serialize:
    if isinstance(named, GraphQLEnumType):
        return _enum(named)
    if not isinstance(named, GraphQLScalarType):
        raise TypeError(f"{named.name} is not a leaf type")
    fast = _FAST.get(named.name)
    if fast is not None:
        return fast(named.serialize)
    parse = _PARSERS.get(named.name)
    if parse is not None:
        return _parsed(parse, named.serialize)
    return named.serialize


def _str(slow: Serialize) -> Serialize:
    return lambda v: v if type(v) is str else slow(v)


def _int(slow: Serialize) -> Serialize:
    return lambda v: v if type(v) is int and v in INT_RANGE else slow(v)


def _float(slow: Serialize) -> Serialize:
    return lambda v: v if type(v) is float and math.isfinite(v) else slow(v)


def _bool(slow: Serialize) -> Serialize:
    return lambda v: v if type(v) is bool else slow(v)


_FAST: dict[str, Callable[[Serialize], Serialize]] = {
    "String": _str,
    "ID": _str,
    "Int": _int,
    "Float": _float,
    "Boolean": _bool,
}


def _parsed(parse: Callable[[str], Any], slow: Serialize) -> Serialize:
    def serialize(value: Any) -> Any:
        return slow(parse(value) if type(value) is str else value)

    return serialize


def _enum(enum: GraphQLEnumType) -> Serialize:
    """Backend values ("economy") and strawberry's members (SegmentKind.FLIGHT) by name."""
    names: dict[Any, str] = {}
    for name, value in enum.values.items():
        names[value.value] = name
    wrapped = getattr(enum, "wrapped_cls", None)
    if wrapped is not None:
        for member in wrapped:
            names.setdefault(member, enum.serialize(member))

    def serialize(value: Any) -> Any:
        try:
            return names[value]
        except (KeyError, TypeError):
            return enum.serialize(value)

    return serialize
