import hashlib

import pytest

from gateway.cache.keys import (
    PREFIX,
    answer_key,
    apq_key,
    canonical_json,
    entity_key,
    lease_key,
    query_hash,
    traveler_generation_key,
    traveler_key,
)

QUERY = "query Trips { trips { id } }"
QHASH = hashlib.sha256(QUERY.encode()).hexdigest()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_prefix_is_namespaced_and_versioned() -> None:
    assert PREFIX == "bff:v1:"


def test_entity_keys_escape_ids() -> None:
    assert entity_key("trip", "T-1") == "bff:v1:e:trip:T-1"
    assert entity_key("trip", "a:b{c}") == "bff:v1:e:trip:a%3Ab%7Bc%7D"
    with pytest.raises(ValueError, match="kind"):
        entity_key("trip:a", "b")
    with pytest.raises(ValueError, match="empty"):
        entity_key("trip", "")


def test_traveler_keys_share_a_hash_tag_and_embed_the_generation() -> None:
    assert traveler_generation_key("U 7") == "bff:v1:{t:U%207}:gen"
    key = traveler_key("U7", generation="g1", kind="trips", params={"first": 20, "after": None})
    assert key == "bff:v1:{t:U7}:g:g1:trips:" + sha('{"after":null,"first":20}')
    assert traveler_key("U7", generation="g1", kind="trips") == "bff:v1:{t:U7}:g:g1:trips:" + sha(
        "{}"
    )
    assert key != traveler_key(
        "U7", generation="g2", kind="trips", params={"first": 20, "after": None}
    )


def test_answer_keys_use_schema_version_query_hash_operation_and_variables() -> None:
    assert query_hash(QUERY) == QHASH
    key = answer_key(schema="web", schema_version="3", query_hash=QHASH, variables={"b": 1, "a": 2})
    assert key == f"bff:v1:q:web:3:{QHASH}:-:" + sha('{"a":2,"b":1}')
    assert key == answer_key(
        schema="web", schema_version="3", query_hash=QHASH, variables={"a": 2, "b": 1}
    )
    assert answer_key(
        schema="web", schema_version="3", query_hash=QHASH, variables=None, operation_name="Trips"
    ) == f"bff:v1:q:web:3:{QHASH}:Trips:" + sha("{}")
    with pytest.raises(ValueError, match="sha256"):
        answer_key(schema="web", schema_version="3", query_hash="nope", variables=None)
    with pytest.raises(ValueError, match="schema"):
        answer_key(schema="we b", schema_version="3", query_hash=QHASH, variables=None)


def test_apq_and_lease_keys() -> None:
    assert apq_key(QHASH) == f"bff:v1:apq:{QHASH}"
    with pytest.raises(ValueError, match="sha256"):
        apq_key(QHASH.upper())
    assert lease_key("bff:v1:{t:U7}:gen") == "bff:v1:{t:U7}:gen#lease"


def test_canonical_json() -> None:
    assert canonical_json({"b": [1, {"d": 1, "c": "é"}], "a": None}) == (
        '{"a":null,"b":[1,{"c":"é","d":1}]}'
    )
