"""Persisted queries and trusted documents, decision by decision (gateway/apq.py,
gateway/persisted.py, and the answer cache's use of the one hash parser)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from gateway import apq
from gateway.answers import public_answer_key
from gateway.cache.keys import apq_key
from gateway.cache.l1 import L1Cache
from gateway.cache.tiered import TieredCache
from gateway.config import Settings, SettingsError
from gateway.graphql_http import GraphQLParams, RequestProblem
from gateway.persisted import committed_schemas, document_problem, load_manifest

VALID = "{ topDestinations(limit: 1) { code } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def ext(sha256_hash: Any) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_hash}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def registry(clock: Clock) -> TieredCache:
    return TieredCache(L1Cache(jitter=0.0, clock=clock), None, clock=clock)


def valid_anywhere(text: str) -> bool:
    return any(document_problem(text, schema) is None for schema in committed_schemas())


def rules(**overrides: Any) -> apq.Rules:
    return apq.Rules(**{"is_valid": valid_anywhere, **overrides})


@pytest.mark.parametrize("bad", ["zz", "", 7, None, "g" * 64, "a" * 63])
def test_one_parser_refuses_a_malformed_hash_and_the_answer_cache_keys_nothing(bad: Any) -> None:
    with pytest.raises(RequestProblem) as refused:
        apq.persisted_hash(ext(bad))
    assert refused.value.status == 400
    params = GraphQLParams(None, extensions=ext(bad))
    assert public_answer_key("web", params) is None  # was a 500 for "zz"
    assert apq.hash_or_none(ext("A" * 64)) == "a" * 64


def test_the_answer_cache_keys_on_the_same_hash_as_the_endpoint() -> None:
    by_hash = GraphQLParams(None, extensions=ext(sha(VALID).upper()))
    by_text = GraphQLParams(VALID)
    assert public_answer_key("web", by_hash) == public_answer_key("web", by_text) is not None


async def test_only_a_valid_document_is_registered_and_for_its_ttl_only() -> None:
    clock = Clock()
    cache = registry(clock)
    valid = GraphQLParams(VALID, extensions=ext(sha(VALID)))
    assert await apq.resolve(valid, cache, rules(ttl_s=60)) == apq.ResolvedQuery(VALID, sha(VALID))
    assert await apq.resolve(GraphQLParams(None, extensions=ext(sha(VALID))), cache, rules())
    clock.now += 61
    with pytest.raises(apq.PersistedQueryNotFound):
        await apq.resolve(GraphQLParams(None, extensions=ext(sha(VALID))), cache, rules())


@pytest.mark.parametrize(
    "text",
    [
        "not graphql at all",
        "{ nope }",
        "{ topDestinations(limit: 1) { code " + " code" * 20 + " } }",
    ],
)
async def test_an_invalid_or_too_large_document_runs_once_and_is_not_registered(text: str) -> None:
    cache = registry(Clock())
    resolved = await apq.resolve(
        GraphQLParams(text, extensions=ext(sha(text))), cache, rules(max_bytes=100)
    )
    assert resolved is not None and resolved.query == text  # execution reports its errors
    assert await cache.get(apq_key(sha(text))) is None


def write_manifest(path: Path, operations: list[dict[str, Any]], **top: Any) -> str:
    document = {"format": "apollo-persisted-query-manifest", "version": 1, **top}
    path.write_text(json.dumps({**document, "operations": operations}))
    return str(path)


def operation(body: str, name: str = "Op") -> dict[str, Any]:
    return {"id": sha(body), "name": name, "type": "query", "body": body}


async def test_trusted_documents_run_by_hash_and_nothing_else(tmp_path: Path) -> None:
    manifest = load_manifest(write_manifest(tmp_path / "m.json", [operation(VALID)]))
    assert manifest is not None
    trusted = rules(trusted=manifest.bodies())
    cache = registry(Clock())
    by_hash = await apq.resolve(GraphQLParams(None, extensions=ext(sha(VALID))), cache, trusted)
    assert by_hash == apq.ResolvedQuery(VALID, sha(VALID))
    assert await apq.resolve(GraphQLParams(VALID), cache, trusted) == by_hash  # listed text
    other = "{ topDestinations(limit: 2) { code } }"
    for params in (GraphQLParams(other), GraphQLParams(other, extensions=ext(sha(other)))):
        with pytest.raises(RequestProblem) as refused:
            await apq.resolve(params, cache, trusted)
        assert refused.value.code == "PERSISTED_QUERY_NOT_IN_LIST"
    assert await cache.get(apq_key(sha(other))) is None  # never registered


@pytest.mark.parametrize(
    ("operations", "top", "problem"),
    [
        ([operation(VALID)], {"format": "other"}, "format"),
        ([operation(VALID)], {"version": 2}, "version 1"),
        ([{**operation(VALID), "id": "0" * 64}], {}, "not the sha256"),
        ([operation("{ nope }", "Broken")], {}, "operations\\[0\\] \\(Broken\\) does not validate"),
        (["x"], {}, "not an object"),
    ],
)
def test_a_bad_manifest_fails_start_up_naming_the_file(
    tmp_path: Path, operations: list[Any], top: dict[str, Any], problem: str
) -> None:
    path = write_manifest(tmp_path / "manifest.json", operations, **top)
    with pytest.raises(SettingsError, match=f"GATEWAY_TRUSTED_DOCUMENTS: {path}: .*{problem}"):
        Settings.from_env({"GATEWAY_TRUSTED_DOCUMENTS": path})


def test_the_registry_settings_come_from_the_environment(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "m.json", [operation(VALID, "Top")])
    env = {"GATEWAY_APQ_TTL_S": "90", "GATEWAY_APQ_MAX_BYTES": "1000"}
    settings = Settings.from_env({**env, "GATEWAY_TRUSTED_DOCUMENTS": path})
    assert (settings.apq_ttl_s, settings.apq_max_bytes) == (90, 1000)
    assert settings.trusted_documents is not None
    assert settings.trusted_documents.bodies() == {sha(VALID): VALID}
    assert (Settings().apq_ttl_s, Settings().trusted_documents) == (24 * 3600, None)
    with pytest.raises(SettingsError, match="GATEWAY_APQ_TTL_S"):
        Settings.from_env({"GATEWAY_APQ_TTL_S": "soon"})
