"""Plans keyed by the persisted-query hash (issue 9): a document sent as text, as an APQ hash
or as a trusted document's id finds one plan by (schema, sha256, operation name), and a
request by hash parses nothing once the plan is warm. The parses are counted by the plan
cache's own stats, as /_gateway/routes shows them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx

from bench.fixtures import WEB_TRIPS
from gateway.execution.planner import PLAN_CACHE_SIZE, Operation, PlanCacheStats, Planner
from gateway.graphql_endpoint import GraphQLEndpoint
from gateway.persisted import load_manifest
from gateway.resolvers.catalog import CATALOGS
from gateway.schemas.common import validation_rules
from gateway.schemas.web import build_web_schema
from legacy_stub.data import build_dataset
from tests.support.inprocess import Gateway, gateway, token

ME = "t-1"
MY_NAME = build_dataset().travelers[ME]["name"]
VARIABLES = {"traveler": ME}
TWO_OPERATIONS = """
query Mine { me { id name } }
query Top { topDestinations(limit: 2) { code } }
"""
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def persisted(text: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(text)}}


async def post(
    gw: Gateway, path: str, body: dict[str, Any], *, accept: str = "application/json"
) -> httpx.Response:
    headers = {"accept": accept, "authorization": f"Bearer {token(ME)}"}
    return await gw.client.post(path, json=body, headers=headers)


async def get_by_hash(gw: Gateway, text: str, variables: dict[str, Any]) -> httpx.Response:
    params = {"extensions": json.dumps(persisted(text)), "variables": json.dumps(variables)}
    headers = {"accept": "application/json", "authorization": f"Bearer {token(ME)}"}
    return await gw.client.get("/graphql/web", params=params, headers=headers)


async def plan_stats(gw: Gateway) -> dict[str, Any]:
    stats: dict[str, Any] = (await gw.client.get("/_gateway/routes")).json()["plans"]
    return stats


def stats(*, documents: int, plans: int, parses: int, hits: int) -> dict[str, int]:
    return {
        "documents": documents,
        "plans": plans,
        "maxsize": PLAN_CACHE_SIZE,
        "parses": parses,
        "hits": hits,
    }


async def test_text_apq_hash_get_and_post_share_one_plan_and_parse_once() -> None:
    gw = gateway()
    by_text = await post(gw, "/graphql/web", {"query": WEB_TRIPS, "variables": VARIABLES})
    registered = await post(
        gw,
        "/graphql/web",
        {"query": WEB_TRIPS, "variables": VARIABLES, "extensions": persisted(WEB_TRIPS)},
    )
    hash_post = await post(
        gw, "/graphql/web", {"variables": VARIABLES, "extensions": persisted(WEB_TRIPS)}
    )
    hash_get = await get_by_hash(gw, WEB_TRIPS, VARIABLES)
    answers = [by_text, registered, hash_post, hash_get]
    assert [a.headers["x-gateway-executor"] for a in answers] == ["planned"] * 4
    assert len({a.content for a in answers}) == 1
    assert "errors" not in by_text.json()
    assert await plan_stats(gw) == {
        "web": stats(documents=1, plans=1, parses=1, hits=3),
        "mobile": stats(documents=0, plans=0, parses=0, hits=0),
    }


def test_a_hash_finds_the_plan_the_text_made_without_reading_the_text() -> None:
    planner = Planner(
        build_web_schema(), CATALOGS["web"], rules=validation_rules(introspection=True)
    )
    warmed = planner.lookup(Operation.of(WEB_TRIPS), VARIABLES)
    by_hash = planner.lookup(Operation("", sha(WEB_TRIPS)), VARIABLES)  # no text at all
    assert warmed is not None and by_hash is not None
    assert by_hash.plan is warmed.plan
    assert planner.stats().parses == 1


async def test_the_operation_name_tells_plans_of_one_document_apart() -> None:
    gw = gateway()
    register = {"query": TWO_OPERATIONS, "extensions": persisted(TWO_OPERATIONS)}
    mine = await post(gw, "/graphql/web", {**register, "operationName": "Mine"})
    by_hash = {"extensions": persisted(TWO_OPERATIONS)}
    top = await post(gw, "/graphql/web", {**by_hash, "operationName": "Top"})
    mine_again = await post(gw, "/graphql/web", {**by_hash, "operationName": "Mine"})
    assert mine.json() == mine_again.json() == {"data": {"me": {"id": ME, "name": MY_NAME}}}
    assert list(top.json()["data"]) == ["topDestinations"]
    assert [r.headers["x-gateway-executor"] for r in (mine, top, mine_again)] == ["planned"] * 3
    assert (await plan_stats(gw))["web"] == stats(documents=2, plans=2, parses=2, hits=1)


async def test_the_plan_cache_keeps_at_most_its_bound() -> None:
    gw = gateway()
    schema = build_web_schema()
    planner = Planner(
        schema, CATALOGS["web"], rules=validation_rules(introspection=True), maxsize=2
    )
    endpoint = GraphQLEndpoint(gw.app.state.runtime, "web", schema, ide=False, planner=planner)
    gw.app.api.add_route("/graphql/bounded", endpoint.handle, methods=["GET", "POST"])
    documents = [f"{{ topDestinations(limit: {n}) {{ code }} }}" for n in (1, 2, 3)]
    for text in [*documents, documents[0]]:  # the first was dropped when the third came
        answer = await post(gw, "/graphql/bounded", {"query": text})
        assert answer.headers["x-gateway-executor"] == "planned"
    assert planner.stats() == PlanCacheStats(documents=2, plans=2, maxsize=2, parses=4, hits=0)


async def test_an_unknown_hash_is_still_persisted_query_not_found() -> None:
    gw = gateway()
    unknown = "{ me { id } }"
    by_post = await post(gw, "/graphql/web", {"extensions": persisted(unknown)})
    by_get = await get_by_hash(gw, unknown, {})
    strict = await post(
        gw,
        "/graphql/web",
        {"extensions": persisted(unknown)},
        accept="application/graphql-response+json",
    )
    assert (by_post.status_code, by_get.status_code, strict.status_code) == (200, 200, 404)
    assert by_post.json() == by_get.json() == strict.json() == NOT_FOUND
    assert (await plan_stats(gw))["web"] == stats(documents=0, plans=0, parses=0, hits=0)


async def test_a_trusted_document_by_id_shares_the_plan_of_its_text(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    operation = {"id": sha(WEB_TRIPS), "name": "WebTrips", "type": "query", "body": WEB_TRIPS}
    manifest.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [operation]}
        )
    )
    gw = gateway(trusted_documents=load_manifest(str(manifest)))
    by_id = await post(
        gw, "/graphql/web", {"variables": VARIABLES, "extensions": persisted(WEB_TRIPS)}
    )
    by_text = await post(gw, "/graphql/web", {"query": WEB_TRIPS, "variables": VARIABLES})
    assert [a.headers["x-gateway-executor"] for a in (by_id, by_text)] == ["planned"] * 2
    assert by_id.content == by_text.content
    assert (await plan_stats(gw))["web"] == stats(documents=1, plans=1, parses=1, hits=1)
