"""Decoded cache values are shared between requests, so they are read-only
(gateway/cache/decoded.py): every reader sees a dict and a list, no reader can change one,
and a copy is the reader's own."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.cache.decoded import DecodedMemo, FrozenDict, FrozenList, decoded, freeze

ENTITY = b'{"id":"fl-1","price":{"amount":12345,"currency":"EUR"},"tags":["a","b"],"n":null}'

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)


@given(JSON)
def test_a_decoded_value_reads_and_serialises_as_the_plain_one(value: Any) -> None:
    raw = orjson.dumps(value)
    frozen = decoded(raw)
    assert frozen == value
    assert orjson.dumps(frozen) == raw
    assert json.dumps(frozen) == json.dumps(value)


def test_the_same_bytes_decode_once_and_every_container_is_frozen() -> None:
    entity = decoded(ENTITY)
    assert decoded(bytes(ENTITY)) is entity  # equal bytes, however they arrived
    assert isinstance(entity, dict) and isinstance(entity["price"], FrozenDict)
    assert isinstance(entity["tags"], list) and isinstance(entity["tags"], FrozenList)
    assert entity["price"]["amount"] == 12345 and entity.get("n") is None


CHANGES: list[Callable[[Any], Any]] = [
    lambda e: e.__setitem__("id", "x"),
    lambda e: e.__delitem__("id"),
    lambda e: e.pop("id"),
    lambda e: e.popitem(),
    lambda e: e.setdefault("z", 1),
    lambda e: e.update(z=1),
    lambda e: e.clear(),
    lambda e: e["price"].__setitem__("amount", 0),
    lambda e: e["tags"].append("c"),
    lambda e: e["tags"].extend(["c"]),
    lambda e: e["tags"].insert(0, "c"),
    lambda e: e["tags"].remove("a"),
    lambda e: e["tags"].pop(),
    lambda e: e["tags"].clear(),
    lambda e: e["tags"].sort(),
    lambda e: e["tags"].reverse(),
    lambda e: e["tags"].__setitem__(0, "c"),
    lambda e: e["tags"].__delitem__(0),
]


@pytest.mark.parametrize("change", CHANGES)
def test_no_reader_can_change_what_another_reads(change: Callable[[Any], Any]) -> None:
    entity = decoded(ENTITY)
    with pytest.raises(TypeError, match="read-only"):
        change(entity)
    assert entity == orjson.loads(ENTITY)


def test_in_place_operators_are_refused_too() -> None:
    entity = decoded(ENTITY)
    tags, price = entity["tags"], entity["price"]
    with pytest.raises(TypeError):
        tags += ["c"]
    with pytest.raises(TypeError):
        tags *= 2
    with pytest.raises(TypeError):
        price |= {"amount": 0}
    assert decoded(ENTITY) == orjson.loads(ENTITY)


def test_a_copy_is_an_ordinary_one() -> None:
    entity = decoded(ENTITY)
    for mine in (
        dict(entity),
        copy.copy(entity),
        copy.deepcopy(entity),
        pickle.loads(pickle.dumps(entity)),
    ):
        assert type(mine) is dict and mine == entity
        mine["id"] = "changed"
    deep = copy.deepcopy(entity)
    deep["price"]["amount"] = 0
    deep["tags"].append("c")
    assert entity == orjson.loads(ENTITY)
    assert type(list(entity["tags"])) is list and entity | {"id": "x"} == {**entity, "id": "x"}
    assert freeze([{"a": [1]}]) == [{"a": [1]}]


def test_the_memo_is_bounded_by_the_bytes_it_keeps_least_recently_used_out_first() -> None:
    values = [orjson.dumps({"id": f"e-{i:03}"}) for i in range(66)]
    size = len(values[0])
    memo = DecodedMemo(max_bytes=64 * size)  # 64 such values; none larger than one
    decodings = [memo(raw) for raw in values[:64]]
    assert len(memo) == 64 and memo.size_bytes == 64 * size
    assert memo(values[0]) is decodings[0]  # kept, and now the most recently used
    memo(values[64])  # one over: the least recently used goes, e-001 (e-000 was just read)
    assert len(memo) == 64 and memo.size_bytes == 64 * size
    assert memo(bytes(values[0])) is decodings[0]  # equal bytes, however they arrived
    again = memo(values[1])
    assert again == decodings[1] and again is not decodings[1]  # decoded anew
    memo(orjson.dumps({"id": "e-big", "pad": "x" * size}))  # over 1/64 of the budget
    assert len(memo) == 64 and memo.size_bytes == 64 * size  # answered, not kept
