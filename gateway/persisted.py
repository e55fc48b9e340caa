"""Trusted documents: the persisted-query manifest a frontend build writes, as Apollo's
generator (`generate-persisted-query-manifest`) does, loaded and checked at start-up.

    {"format": "apollo-persisted-query-manifest", "version": 1,
     "operations": [{"id": "<sha256 of body>", "name": "Trips", "type": "query", "body": "..."}]}

With GATEWAY_TRUSTED_DOCUMENTS set the gateway runs only these operations, by hash
(docs/security.md, "Persisted queries and trusted documents").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from graphql import GraphQLError, GraphQLSchema, build_schema, parse, validate

MANIFEST_FORMAT = "apollo-persisted-query-manifest"
SCHEMAS = Path(__file__).parent / "schemas"
NOT_IN_LIST = "PERSISTED_QUERY_NOT_IN_LIST"


@dataclass(frozen=True, slots=True)
class TrustedOperation:
    id: str
    name: str
    body: str


@dataclass(frozen=True, slots=True)
class Manifest:
    path: str
    operations: tuple[TrustedOperation, ...]

    def bodies(self) -> Mapping[str, str]:
        return {operation.id: operation.body for operation in self.operations}


@cache
def committed_schemas() -> tuple[GraphQLSchema, ...]:
    """The SDL the gateway serves (a test keeps the files equal to the code)."""
    return tuple(build_schema(path.read_text()) for path in sorted(SCHEMAS.glob("*.graphql")))


def document_problem(text: str, schema: GraphQLSchema) -> str | None:
    """Why `text` is not a valid document for `schema`, or None."""
    try:
        document = parse(text, no_location=True)
    except GraphQLError as error:
        return error.message
    errors = validate(schema, document)
    return errors[0].message if errors else None


def load_manifest(path: str) -> Manifest | None:
    """The manifest at `path` ("" → None); ValueError names the file and what is wrong."""
    if not path:
        return None
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError, RecursionError) as error:
        raise ValueError(f"{path}: cannot read the manifest ({error})") from None
    if not isinstance(raw, dict) or raw.get("format") != MANIFEST_FORMAT:
        raise ValueError(f'{path}: "format" must be "{MANIFEST_FORMAT}"')
    if raw.get("version") != 1 or not isinstance(raw.get("operations"), list):
        raise ValueError(f'{path}: only version 1 with an "operations" list is supported')
    operations = tuple(
        _operation(path, index, item) for index, item in enumerate(raw["operations"])
    )
    return Manifest(path, operations)


def _operation(path: str, index: int, item: object) -> TrustedOperation:
    where = f"{path}: operations[{index}]"
    if not isinstance(item, dict):
        raise ValueError(f"{where} is not an object")
    op_id, name, body = item.get("id"), item.get("name"), item.get("body")
    if not isinstance(body, str) or not isinstance(op_id, str):
        raise ValueError(f'{where} needs a string "id" and "body"')
    if hashlib.sha256(body.encode()).hexdigest() != op_id.lower():
        raise ValueError(f'{where} ({name}): "id" is not the sha256 of "body"')
    problems = [document_problem(body, schema) for schema in committed_schemas()]
    if all(problems):  # valid against neither schema
        raise ValueError(f"{where} ({name}) does not validate: {problems[0]}")
    return TrustedOperation(op_id.lower(), str(name or ""), body)
