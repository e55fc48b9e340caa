"""Limits before work: what a request may cost, decided before the gateway spends on it.

Three pure checks, cheapest first (docs/security.md, "Limits before work"):
  - tokens of the query text, counted by a C-speed regex that stops at the cap, so a 200 KB
    document of 3,000 inline fragments is refused after reading its first few kilobytes and
    before graphql-core's (pure Python) lexer and parser ever see it;
  - nesting of the JSON variables, walked without recursion;
  - the static cost of the operation, from the schema (`gateway.cost`), computed once per
    document and operation name (bounded cache), as the plan and validation caches are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache
from graphql import GraphQLError, GraphQLSchema, parse

from gateway.cost import BOUNDS, operation_cost

QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
BAD_USER_INPUT = "BAD_USER_INPUT"
COST_CACHE_SIZE = 1024
# Token counts remembered per query text (a lexer pass costs ~40 µs for a page's query, on
# every request): texts up to TOKEN_MEMO_TEXT characters, TOKEN_MEMO_CHARS of them in all.
TOKEN_MEMO_TEXT = 16 * 1024
TOKEN_MEMO_CHARS = 2 * 2**20
LONG_TOKEN = 64


class LimitRefused(Exception):
    """A request over a limit: answered 400 with `code` and `extensions` (the endpoint turns
    it into a RequestProblem; this module stays free of the HTTP layer, which config imports)."""

    def __init__(self, message: str, *, code: str, extensions: Mapping[str, int]) -> None:
        super().__init__(message)
        self.message, self.code, self.extensions = message, code, dict(extensions)


# One GraphQL token (the spec's lexical grammar, minus ignored tokens: whitespace, commas and
# comments are skipped by `finditer` or matched and not counted). Unknown characters match
# nothing here and are left for the parser to report.
_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'  # block string
    r'|"(?:[^"\\\n]|\\.)*"'  # string
    r"|#[^\n\r]*"  # comment (not counted)
    r"|\.\.\.|[!$&()\[\]{}:=@|]"  # punctuators
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?"  # numbers
    r"|[_A-Za-z][_0-9A-Za-z]*"  # names
)


def count_tokens(text: str, *, cap: int) -> int:
    """The tokens of `text`, counting no further than past `cap` (enough to say "too many").

    A token longer than LONG_TOKEN characters counts once per LONG_TOKEN: graphql-core's lexer
    works per character, so a 200 KB name is as much work as a document of 3,000 tokens."""
    count = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if not token.startswith("#"):
            count += 1 + len(token) // LONG_TOKEN
            if count > cap:
                break
    return count


def json_depth(value: Any, *, cap: int) -> int:
    """How deeply objects and arrays nest in `value` (a scalar is 0), at most `cap + 1`;
    iterative, so no input can exhaust the interpreter's stack."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            depth += 1
            if depth > cap:
                return depth
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth) for child in children)
    return deepest


@dataclass(frozen=True, slots=True)
class Limits:
    max_query_tokens: int = 2000  # GATEWAY_MAX_QUERY_TOKENS
    max_variable_depth: int = 16  # GATEWAY_MAX_VARIABLE_DEPTH
    max_cost_web: int = 100_000  # GATEWAY_MAX_COST_WEB: trips(first: 100), full page: 82,101
    max_cost_mobile: int = 2_000  # GATEWAY_MAX_COST_MOBILE: myTrips(first: 50) costs 301

    def max_cost(self, schema: str) -> int:
        return self.max_cost_mobile if schema == "mobile" else self.max_cost_web


def parse_limits(env: Mapping[str, str]) -> Limits:
    """From the environment; ValueError names the variable."""
    defaults = Limits()
    values: dict[str, int] = {}
    for attribute, variable in (
        ("max_query_tokens", "GATEWAY_MAX_QUERY_TOKENS"),
        ("max_variable_depth", "GATEWAY_MAX_VARIABLE_DEPTH"),
        ("max_cost_web", "GATEWAY_MAX_COST_WEB"),
        ("max_cost_mobile", "GATEWAY_MAX_COST_MOBILE"),
    ):
        raw = env.get(variable) or str(getattr(defaults, attribute))
        if not raw.isdigit() or int(raw) < 1:
            raise ValueError(f"{variable}={raw!r} must be a whole number, at least 1")
        values[attribute] = int(raw)
    return Limits(**values)


class LimitGate:
    """The checks for one schema, with the cost of each document remembered (bounded)."""

    def __init__(self, name: str, schema: GraphQLSchema, limits: Limits) -> None:
        self.schema, self.limits = schema, limits
        self.bounds = BOUNDS.get(name, BOUNDS["web"])
        self.max_cost = limits.max_cost(name)
        self.costs: LRUCache[tuple[str, str | None], int | None] = LRUCache(COST_CACHE_SIZE)
        # query text → (its length, its tokens), sized by the texts' lengths
        self.tokens: LRUCache[str, tuple[int, int]] = LRUCache(
            TOKEN_MEMO_CHARS, getsizeof=lambda known: known[0]
        )

    def check_request(self, query: str | None, variables: Mapping[str, Any] | None) -> None:
        """Before anything is parsed, looked up or registered."""
        cap = self.limits.max_query_tokens
        if query and self._tokens(query, cap) > cap:
            raise LimitRefused(
                f"The query has more than {cap} tokens.",
                code=QUERY_TOO_COMPLEX,
                extensions={"maxTokens": cap},
            )
        depth = self.limits.max_variable_depth
        if variables and json_depth(variables, cap=depth) > depth:
            raise LimitRefused(
                f"The variables nest deeper than {depth} levels.",
                code=BAD_USER_INPUT,
                extensions={"maxDepth": depth},
            )

    def _tokens(self, query: str, cap: int) -> int:
        known = self.tokens.get(query)
        if known is not None:
            return known[1]
        count = count_tokens(query, cap=cap)
        if len(query) <= TOKEN_MEMO_TEXT:  # a long text is counted again: it can't crowd out
            self.tokens[query] = (len(query), count)
        return count

    def check_cost(self, query: str, sha256_hash: str, operation_name: str | None) -> None:
        key = (sha256_hash, operation_name)
        if key not in self.costs:
            self.costs[key] = self._cost(query, operation_name)
        cost = self.costs[key]
        if cost is not None and cost > self.max_cost:
            raise LimitRefused(
                f"The operation costs {cost}, more than the {self.max_cost} allowed.",
                code=QUERY_TOO_COMPLEX,
                extensions={"cost": cost, "maxCost": self.max_cost},
            )

    def _cost(self, query: str, operation_name: str | None) -> int | None:
        try:
            document = parse(query, no_location=True)
        except GraphQLError:
            return None  # execution answers the syntax error as it always has
        return operation_cost(self.schema, document, operation_name, self.bounds)
