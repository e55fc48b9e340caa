"""The schemas the code serves are the contract's, and the committed SDL is what the code prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLSchema, build_schema, find_breaking_changes, find_dangerous_changes

from gateway.schemas.export import check_exported, printed

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "contract"
SCHEMAS = Path(__file__).resolve().parents[1] / "gateway" / "schemas"


def _load(path: Path) -> GraphQLSchema:
    return build_schema(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", ["web", "mobile"])
def test_served_schema_is_equivalent_to_the_contract_both_ways(name: str) -> None:
    ours = build_schema(printed()[SCHEMAS / f"{name}.graphql"])
    contract = _load(CONTRACT / f"{name}.graphql")
    changes = [
        *find_breaking_changes(contract, ours),
        *find_dangerous_changes(contract, ours),
        *find_breaking_changes(ours, contract),
        *find_dangerous_changes(ours, contract),
    ]
    assert [f"{c[0].name}: {c[1]}" for c in changes] == []


def test_committed_sdl_matches_the_code() -> None:
    assert check_exported() == [], "run `python -m gateway schema export` and commit the result"


def test_the_contract_is_where_the_tests_expect_it() -> None:
    assert (CONTRACT / "web.graphql").exists() and (CONTRACT / "mobile.graphql").exists()
