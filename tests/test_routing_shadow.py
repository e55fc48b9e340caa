"""diff_paths: the JSON paths where a primary and a shadow answer differ."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.routing.shadow import body_differences, diff_paths, format_path, parse_json_path

FLIGHTS_PAGE: dict[str, Any] = {
    "items": [
        {"id": "fl-1", "seat": "3A", "updated_at": "2026-01-01T00:00:00+00:00"},
        {"id": "fl-2", "seat": None, "updated_at": "2026-01-01T00:00:00+00:00"},
    ],
    "updated_at": "2026-01-01T00:00:00+00:00",
}


def changed(**changes: Any) -> dict[str, Any]:
    """FLIGHTS_PAGE with the second item's fields and every updated_at changed."""
    second = {**FLIGHTS_PAGE["items"][1], **changes, "updated_at": "later"}
    first = {**FLIGHTS_PAGE["items"][0], "updated_at": "later"}
    return {"items": [first, second], "updated_at": "later"}


def test_equal_bodies_have_no_differences() -> None:
    assert diff_paths(FLIGHTS_PAGE, FLIGHTS_PAGE, ignore=[]) == []


def test_every_differing_leaf_is_named() -> None:
    assert diff_paths(FLIGHTS_PAGE, changed(seat="3C"), ignore=[]) == [
        "$.items[0].updated_at",
        "$.items[1].seat",
        "$.items[1].updated_at",
        "$.updated_at",
    ]


@pytest.mark.parametrize(
    ("ignore", "left"),
    [
        (["$.updated_at"], ["$.items[0].updated_at", "$.items[1].seat", "$.items[1].updated_at"]),
        (["$.items[*].updated_at"], ["$.items[1].seat", "$.updated_at"]),
        (["$.items.*.updated_at", "$.updated_at"], ["$.items[1].seat"]),
        (["$..updated_at"], ["$.items[1].seat"]),
        (["$..updated_at", "$.items[1].seat"], []),
        (["$..updated_at", "$.items[1]"], []),  # a whole subtree
        (["$..updated_at", "$['items'][1]['seat']"], []),
        (["$"], []),
    ],
)
def test_ignore_forms(ignore: list[str], left: list[str]) -> None:
    assert diff_paths(FLIGHTS_PAGE, changed(seat="3C"), ignore=ignore) == left


def test_nested_lists_and_lengths() -> None:
    primary = {"grid": [[1, 2], [3, 4]], "tags": ["a"]}
    shadow = {"grid": [[1, 2], [3, 5, 6]], "tags": []}
    assert diff_paths(primary, shadow, ignore=[]) == [
        "$.grid[1][1]",
        "$.grid[1][2]",
        "$.tags[0]",
    ]
    assert diff_paths(primary, shadow, ignore=["$.grid[*][*]", "$.tags"]) == []
    assert diff_paths(primary, shadow, ignore=["$.grid[1]"]) == ["$.tags[0]"]


def test_missing_keys_and_changed_types() -> None:
    primary = {"a": 1, "b": True, "c": 1, "d": None, "e": {"x": 1}, "odd key": 1}
    shadow = {"a": 1.0, "b": 1, "c": "1", "e": [1], "f": 0, "odd key": 2}
    assert diff_paths(primary, shadow, ignore=[]) == [
        "$.b",  # true is not 1
        "$.c",
        "$.d",  # missing in the shadow
        "$.e",
        '$["odd key"]',
        "$.f",  # only in the shadow
    ]


def test_deep_ignore_matches_at_any_depth_including_the_top() -> None:
    primary = {"etag": "a", "x": {"y": [{"etag": "b", "v": 1}]}}
    shadow = {"etag": "z", "x": {"y": [{"etag": "z", "v": 2}]}}
    assert diff_paths(primary, shadow, ignore=["$..etag"]) == ["$.x.y[0].v"]
    assert diff_paths(primary, shadow, ignore=["$.x..v"]) == ["$.etag", "$.x.y[0].etag"]


def test_ignore_paths_are_parsed_once_and_checked() -> None:
    assert parse_json_path("$.items[*].updated_at") == (
        ("key", "items"),
        ("any", None),
        ("key", "updated_at"),
    )
    assert parse_json_path("$..seat") == (("deep", None), ("key", "seat"))
    assert parse_json_path("$[3]") == (("index", 3),)
    for bad in ("updated_at", "$.", "$.items[", "$.a b"):
        with pytest.raises(ValueError, match="ignore path"):
            parse_json_path(bad)
    with pytest.raises(ValueError, match="must start with"):
        diff_paths({}, {}, ignore=["x"])


def test_format_path() -> None:
    assert format_path(("items", 3, "seat")) == "$.items[3].seat"
    assert format_path(()) == "$"
    assert format_path(("a-b",)) == '$["a-b"]'


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
IGNORES = st.lists(st.sampled_from(["$.a", "$..b", "$[*]", "$.x[0].y", "$.*"]), max_size=2)


@given(value=JSON, ignore=IGNORES, indent=st.sampled_from([None, 1]))
def test_the_same_bytes_are_what_diff_paths_finds_equal(
    value: Any, ignore: list[str], indent: int | None
) -> None:
    """The fast path (the same bytes: no differences, nothing decoded) against the reference
    walk of the decoded bodies, on any JSON without NaN (json.loads reads NaN, no JSON has it,
    and it is the one value unequal to itself)."""
    raw = json.dumps(value, indent=indent).encode()
    assert body_differences(raw, raw, ignore=ignore) == []
    assert diff_paths(json.loads(raw), json.loads(raw), ignore=ignore) == []


@given(left=JSON, right=JSON, ignore=IGNORES)
def test_different_bytes_are_compared_as_diff_paths_compares_them(
    left: Any, right: Any, ignore: list[str]
) -> None:
    a, b = json.dumps(left).encode(), json.dumps(right, indent=1).encode()
    assert body_differences(a, b, ignore=ignore) == diff_paths(
        json.loads(a), json.loads(b), ignore=ignore
    )


def test_a_body_that_is_not_json_is_an_error_unless_both_are_the_same_bytes() -> None:
    assert body_differences(b"<html>", b"<html>", ignore=[]) == []
    with pytest.raises(ValueError):
        body_differences(b"<html>", b"{}", ignore=[])
