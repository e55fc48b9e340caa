"""`routes push` and `routes versions`: the route table published to the store the gateways
poll (gateway/routing/store.py), versioned with who, when and why."""

import argparse
import getpass
import os
import socket
import sys
from datetime import UTC, datetime

from gateway.routing.cli_files import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_USAGE,
    environment,
    routes_path,
    too_loose,
)
from gateway.routing.store import (
    Fetched,
    RouteStore,
    StoreError,
    VersionInfo,
    parse_store_uri,
    rollback_target,
)
from gateway.routing.table import parse_table


def push(args: argparse.Namespace) -> int:
    """Check exactly as `check` does, then publish; a refused file publishes nothing."""
    store = _store(args.store)
    if args.rollback:
        return _rollback(store, args.message)
    if not args.message:
        print("error: say why with --message WHY (kept with the version)", file=sys.stderr)
        return EXIT_USAGE
    path = routes_path(args.file)
    with open(path, encoding="utf-8") as file:
        text = file.read()
    table = parse_table(text, source=path, env=environment(args.env))
    if too_loose(table):
        return EXIT_INVALID
    latest = _latest(store)
    if latest is not None and latest.text == text:
        # Same bytes, same ETag: gateways would not notice a new version, so make none.
        print(f"unchanged: {store.uri} version {latest.info.version_id} has this text already")
        return EXIT_OK
    info = store.publish(text, _who(args.message))
    print(f"pushed {path} to {store.uri} as version {info.version_id}: {info.message}")
    return EXIT_OK


def _latest(store: RouteStore) -> Fetched | None:
    """The newest version, None while the store is empty."""
    try:
        return store.fetch()
    except StoreError as exc:
        if exc.reason.startswith("NoSuchKey"):
            return None
        raise


def _rollback(store: RouteStore, message: str | None) -> int:
    try:
        target, undone = rollback_target(store.versions())
    except ValueError as exc:
        print(f"error: cannot roll back: {exc}", file=sys.stderr)
        return EXIT_INVALID
    fetched = store.fetch(version_id=target.version_id)
    assert fetched is not None  # no ETag given: never a 304
    why = message or f"rollback of {undone.version_id}"
    info = _who(why, rollback_of=undone.version_id, restores=target.version_id)
    info = store.publish(fetched.text, info)
    print(
        f"rolled back {undone.version_id} ({undone.message}): {store.uri} version "
        f"{info.version_id} restores {target.version_id} ({target.message})"
    )
    return EXIT_OK


def versions(args: argparse.Namespace) -> int:
    for info in _store(args.store).versions(limit=args.limit):
        print(_describe(info))
    return EXIT_OK


def _describe(info: VersionInfo) -> str:
    """ "3f2a… 2026-11-30T05:00:00+00:00 ana@laptop: flights back (rollback of 9c1d…)" """
    undid = f" (rollback of {info.rollback_of})" if info.rollback_of else ""
    return f"{info.version_id}  {info.published_at}  {info.author}: {info.message}{undid}"


def _store(uri: str | None) -> RouteStore:
    given = uri or os.environ.get("ROUTES_STORE")
    if not given:
        raise StoreError("ROUTES_STORE", "name the store with --store s3://BUCKET/KEY")
    try:
        return RouteStore(parse_store_uri(given))
    except ValueError as exc:
        raise StoreError(given, str(exc)) from None


def _who(message: str, **rollback: str) -> VersionInfo:
    author = os.environ.get("ROUTES_AUTHOR") or f"{getpass.getuser()}@{socket.gethostname()}"
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return VersionInfo("", "", author=author, published_at=now, message=message, **rollback)
