"""One passthrough request as the gateway decided it: `Incoming`, read once from the ASGI
scope, and the raw path its decision starts from."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from starlette.requests import cookie_parser

from gateway.asgi import Scope
from gateway.auth import Identity
from gateway.observability.hooks import current_notes
from gateway.observability.request_id import new_request_id, safe_id
from gateway.routing.paths import upstream_path
from gateway.routing.select import Caller


@dataclass(frozen=True, slots=True)
class Incoming:
    """One passthrough request as the gateway decided it; `caller` is who is asking (the
    same value a GraphQL request's context and route decisions use), identified once the
    token is verified."""

    method: str
    path: str
    query_string: str
    headers: dict[str, str]
    header_list: list[tuple[str, str]]
    scheme: str
    request_id: str
    caller: Caller

    @classmethod
    def from_scope(cls, scope: Scope, path: str) -> Incoming:
        header_list = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        headers = dict(header_list)
        client = scope.get("client")
        return cls(
            method=scope["method"].upper(),
            path=path,
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            header_list=header_list,
            scheme=scope.get("scheme", "http"),
            request_id=_request_id(headers),
            caller=Caller(
                authorization=headers.get("authorization"),
                client_addr=client[0] if client else None,
                headers=headers,
                cookies=cookie_parser(headers.get("cookie", "")),
            ),
        )

    def identified(self, identity: Identity) -> Incoming:
        caller = self.caller.identified(identity.traveler_id, identity.role)
        return Incoming(  # not dataclasses.replace: half the cost, on every passthrough request
            self.method,
            self.path,
            self.query_string,
            self.headers,
            self.header_list,
            self.scheme,
            self.request_id,
            caller,
        )

    @property
    def target(self) -> str:
        query = f"?{self.query_string}" if self.query_string else ""
        return upstream_path(self.path) + query


def _request_id(headers: dict[str, str]) -> str:
    """The id the observability layer gave the request (its notes); without that layer, the
    caller's if it is safe to pass on, else a new one."""
    notes = current_notes()
    if notes is not None:
        return notes.request_id
    return safe_id(headers.get("x-request-id")) or new_request_id()


def raw_path(scope: Scope) -> bytes:
    """The path as sent; servers that hand over only the decoded path get it re-encoded, so
    that the dot segments and separators in it are still seen."""
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw).partition(b"?")[0]
    return quote(scope["path"], safe="/").encode("ascii")
