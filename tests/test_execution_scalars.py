"""Leaves serialised exactly as the schema's own scalars do (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from graphql import GraphQLError

from gateway.execution.scalars import enum_names, fast_kind, iso_formatter, serializer
from gateway.schemas.mobile import build_mobile_schema
from gateway.schemas.web import build_web_schema
from gateway.segments import SegmentKind

WEB = build_web_schema()._schema
MOBILE = build_mobile_schema()._schema


@pytest.mark.parametrize(
    ("type_name", "value", "expected"),
    [
        ("String", "x", "x"),
        ("String", 7, "7"),
        ("ID", 12, "12"),
        ("Int", 5, 5),
        ("Float", 5, 5.0),
        ("Float", 0.5, 0.5),
        ("Boolean", True, True),
        ("Cabin", "economy", "ECONOMY"),
        ("DateTime", "2026-12-01T08:00:00Z", "2026-12-01T08:00:00+00:00"),
        ("Date", "2026-12-01", "2026-12-01"),
    ],
)
def test_values_come_out_as_the_reference_writes_them(
    type_name: str, value: Any, expected: Any
) -> None:
    out = serializer(WEB.type_map[type_name])(value)
    assert out == expected and type(out) is type(expected)


@pytest.mark.parametrize(
    ("type_name", "value"),
    [("Int", 2**31), ("Int", "x"), ("Float", float("nan")), ("Cabin", "ECONOMY")],
)
def test_values_the_reference_refuses_raise(type_name: str, value: Any) -> None:
    with pytest.raises((GraphQLError, TypeError, ValueError)):
        serializer(WEB.type_map[type_name])(value)


def test_enum_names_cover_backend_values_and_strawberry_members() -> None:
    names = enum_names(MOBILE.type_map["SegmentKind"])  # type: ignore[arg-type]
    assert names[SegmentKind.STAY] == "STAY" and names["CAR"] == "CAR"
    assert serializer(MOBILE.type_map["SegmentKind"])(SegmentKind.FLIGHT) == "FLIGHT"


def test_dates_are_formatted_by_one_shared_memo_per_scalar() -> None:
    datetime_type = WEB.type_map["DateTime"]
    assert fast_kind(datetime_type) == "iso" and fast_kind(WEB.type_map["ID"]) == "str"
    formatter = iso_formatter(datetime_type)  # type: ignore[arg-type]
    assert formatter is iso_formatter(MOBILE.type_map["DateTime"])  # type: ignore[arg-type]
    assert formatter("2026-12-01T08:00:00.5+01:00") == "2026-12-01T08:00:00.500000+01:00"
    assert serializer(datetime_type)(datetime(2026, 1, 2, tzinfo=UTC)) == (
        "2026-01-02T00:00:00+00:00"
    )
