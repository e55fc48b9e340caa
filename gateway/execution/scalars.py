"""Leaf values exactly as the reference executor serialises them.

The values are the declarations' (see `gateway.resolvers.fields`): the reference converts
a read of a Date or DateTime, a backend ISO string, with `fromisoformat`
(`gateway.schemas.declared`), so the same is done here before the schema's own scalar
serialises it. Common cases take a fast path (a `str` for a String is itself); everything
else goes through the scalar's `serialize`, which raises when the reference would have
failed too.
"""

from __future__ import annotations

import functools
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


def fast_kind(named: GraphQLNamedType) -> str | None:
    """The Python type a writer may copy as it is ("str" for String and ID, "enum" for a
    backend value found in `enum_names`, "iso" for a backend date string, see
    `iso_formatter`); None: always through the serializer."""
    if isinstance(named, GraphQLEnumType):
        return "enum"
    if named.name in _PARSERS:
        return "iso"
    return {"String": "str", "ID": "str", "Int": "int", "Boolean": "bool"}.get(named.name)


def iso_formatter(named: GraphQLScalarType) -> Callable[[str], Any]:
    """Backend date string → the reference's output, remembered: the same few thousand
    timestamps come back on every page, and parsing one costs more than the rest of its
    field. A pure function of the string, bounded, one per scalar (every plan shares it);
    a string the parser refuses raises."""
    key = (named.name, named.serialize)
    formatter = _FORMATTERS.get(key)
    if formatter is None:
        parse, serialize = _PARSERS[named.name], named.serialize
        formatter = functools.lru_cache(maxsize=8192)(lambda text: serialize(parse(text)))
        _FORMATTERS[key] = formatter
    return formatter


_FORMATTERS: dict[tuple[str, Serialize], Callable[[str], Any]] = {}


def iso_parser(named: GraphQLScalarType) -> Callable[[str], Any]:
    """`fromisoformat` of the scalar's Python type, remembered (see `iso_formatter`): what
    the reference does to every date read of an entity, asked for or not."""
    return _PARSE_MEMOS[named.name]


_PARSE_MEMOS: dict[str, Callable[[str], Any]] = {
    name: functools.lru_cache(maxsize=8192)(parse) for name, parse in _PARSERS.items()
}


def enum_names(enum: GraphQLEnumType) -> dict[Any, str]:
    """Backend values ("economy") and strawberry's members (SegmentKind.FLIGHT) → names."""
    names: dict[Any, str] = {}
    for name, value in enum.values.items():
        names[value.value] = name
    wrapped = getattr(enum, "wrapped_cls", None)
    if wrapped is not None:
        for member in wrapped:
            names.setdefault(member, enum.serialize(member))
    return names


def _enum(enum: GraphQLEnumType) -> Serialize:
    names = enum_names(enum)

    def serialize(value: Any) -> Any:
        try:
            return names[value]
        except (KeyError, TypeError):
            return enum.serialize(value)

    return serialize
