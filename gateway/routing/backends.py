"""Backends: where a route can send requests, read from the file's `backends:` mapping.

backends:
  legacy:  {url: "${LEGACY_URL}", timeout_ms: 3000}
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import yaml

from gateway.routing.document import Reader

DEFAULT_TIMEOUT_MS = 3000
# The HTTP API in front of the gateway gives up after 30 s; a backend must answer before.
MAX_TIMEOUT_MS = 28999
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Backend:
    """`url` has no trailing slash: the request path is appended as it is."""

    name: str
    url: str
    timeout_s: float


def read_backends(reader: Reader, node: yaml.Node) -> tuple[dict[str, Backend], frozenset[str]]:
    """The valid backends, and the names of all backends (valid or not).

    Names of broken backends still count as known, so a route that names one is not reported
    a second time.
    """
    if not isinstance(node, yaml.MappingNode) or not node.value:
        fix = 'add backends like legacy: {url: "${LEGACY_URL}", timeout_ms: 3000}'
        reader.report(node, "", "backends must be a mapping with at least one backend", fix)
        return {}, frozenset()
    backends: dict[str, Backend] = {}
    names: set[str] = set()
    for key_node, value_node in node.value:
        name = _name(reader, key_node, names)
        if name is None:
            continue
        names.add(name)
        backend = _backend(reader, value_node, name)
        if backend is not None:
            backends[name] = backend
    return backends, frozenset(names)


def _name(reader: Reader, node: yaml.Node, seen: set[str]) -> str | None:
    name = node.value if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        fix = "name it with letters, digits, - and _, starting with a letter (e.g. flights)"
        reader.report(node, "", f"backend name {name!r} is not a plain name", fix)
        return None
    if name in seen:
        reader.report(node, f"backends.{name}", "this backend is defined twice", "keep one")
        return None
    return name


def _backend(reader: Reader, node: yaml.Node, name: str) -> Backend | None:
    entry = f"backends.{name}"
    fields = reader.fields(node, entry, what="a backend", allowed=("url", "timeout_ms"))
    if fields is None:
        return None
    url_node = reader.require(fields, node, entry, key="url", hint='url: "${SERVICE_URL}"')
    url = None if url_node is None else _url(reader, url_node, entry)
    timeout_node = fields.get("timeout_ms")
    timeout_ms = (
        DEFAULT_TIMEOUT_MS if timeout_node is None else _timeout_ms(reader, timeout_node, entry)
    )
    if url is None or timeout_ms is None:
        return None
    return Backend(name=name, url=url, timeout_s=timeout_ms / 1000)


def _url(reader: Reader, node: yaml.Node, entry: str) -> str | None:
    fix = "use an http:// or https:// address like http://flights.internal:8080"
    url = reader.text(node, entry, "url", fix=fix)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        reader.report(node, entry, f"url {url!r} is not an http(s) address", fix)
        return None
    return url.rstrip("/")


def _timeout_ms(reader: Reader, node: yaml.Node, entry: str) -> int | None:
    fix = f"use whole milliseconds from 1 to {MAX_TIMEOUT_MS} (the HTTP API gives up at 30 s)"
    return reader.whole_number(node, entry, "timeout_ms", low=1, high=MAX_TIMEOUT_MS, fix=fix)
