"""The route store and its poller, against moto's S3 server on a loopback port, plus the
pure decisions (store URIs, rollback targets, poll delays)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from gateway.config import SettingsError
from gateway.routing.cli import main
from gateway.routing.remote import RemoteRouteSource, next_delay, poll_interval, remote_source
from gateway.routing.store import (
    RouteStore,
    StoreError,
    StoreLocation,
    VersionInfo,
    parse_store_uri,
    rollback_target,
)
from gateway.routing.table import default_table
from tests.support.processes import free_port

BUCKET, KEY = "ops-routes", "gateway/routes.yaml"
ENV = {"LEGACY_URL": "http://legacy:8000", "FLIGHTS_URL": "http://flights:8001"}
HEAD = """version: 1
backends:
  legacy: {url: "${LEGACY_URL}", timeout_ms: 1500}
  flights: {url: "${FLIGHTS_URL}", timeout_ms: 1500}
default: legacy
routes:
"""


def routes_text(target: str) -> str:
    return HEAD + f"  - {{path: /api/flights/**, target: {target}}}\n"


@dataclass(frozen=True)
class S3:
    endpoint: str
    env: dict[str, str]

    def client(self) -> Any:
        return boto3.client("s3", endpoint_url=self.endpoint, **_credentials())

    def store(self) -> RouteStore:
        return RouteStore(StoreLocation(BUCKET, KEY), client=self.client())


def _credentials() -> dict[str, str]:
    return {"region_name": "eu-west-1", "aws_access_key_id": "test", "aws_secret_access_key": "x"}


@contextmanager
def moto_s3() -> Iterator[S3]:
    """moto's S3 on a free loopback port, with a versioned bucket; `env` points boto3 at it."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # Threaded servers share moto's in-process state: start each store empty.
    httpx.post(f"http://127.0.0.1:{port}/moto-api/reset").raise_for_status()
    try:
        s3 = S3(
            f"http://127.0.0.1:{port}",
            {
                "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
                "AWS_ACCESS_KEY_ID": "test",
                "AWS_SECRET_ACCESS_KEY": "x",
                "AWS_DEFAULT_REGION": "eu-west-1",
                "ROUTES_STORE": f"s3://{BUCKET}/{KEY}",
            },
        )
        client = s3.client()
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        yield s3
    finally:
        server.stop()


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3]:
    with moto_s3() as s3:
        for name, value in {**s3.env, **ENV, "ROUTES_AUTHOR": "ana@ops"}.items():
            monkeypatch.setenv(name, value)
        yield s3


def info(message: str, **rollback: str) -> VersionInfo:
    return VersionInfo("", "", "ana@ops", "2026-11-30T05:00:00+00:00", message, **rollback)


def version(vid: str, **rollback: str) -> VersionInfo:
    return VersionInfo(vid, f'"{vid}"', "ana", "t", f"push {vid}", **rollback)


# ---- pure decisions


def test_store_uri_is_s3_bucket_and_key() -> None:
    assert parse_store_uri("s3://ops-routes/gw/routes.yaml") == StoreLocation(
        "ops-routes", "gw/routes.yaml"
    )
    for bad in ("ssm:/gateway/routes", "s3://bucket-only", "s3:///key", "routes.yaml"):
        with pytest.raises(ValueError, match="is not s3://BUCKET/KEY"):
            parse_store_uri(bad)


def test_rollback_restores_the_version_before_and_walks_back_when_repeated() -> None:
    v3, v2, v1 = version("v3"), version("v2"), version("v1")
    assert rollback_target([v3, v2, v1]) == (v2, v3)
    r4 = version("r4", rollback_of="v3", restores="v2")
    assert rollback_target([r4, v3, v2, v1]) == (v1, r4)
    r5 = version("r5", rollback_of="r4", restores="v1")
    with pytest.raises(ValueError, match="no version older than v1"):
        rollback_target([r5, r4, v3, v2, v1])
    with pytest.raises(ValueError, match="push one first"):
        rollback_target([])


def test_metadata_round_trips_free_text_as_ascii() -> None:
    pushed = info("flights → legacy: 5xx on /api/flights", rollback_of="v3", restores="v2")
    meta = pushed.metadata()
    assert all(value.isascii() for value in meta.values())
    assert VersionInfo.from_metadata("v9", '"e"', meta) == VersionInfo(
        "v9", '"e"', "ana@ops", pushed.published_at, pushed.message, "v3", "v2"
    )


def test_poll_delay_is_jittered_within_a_fifth() -> None:
    assert (next_delay(5, 0.0), next_delay(5, 0.5), next_delay(5, 0.999999)) == pytest.approx(
        (4.0, 5.0, 6.0)
    )
    assert poll_interval({}) == 5.0
    assert poll_interval({"ROUTES_POLL_S": "0.5"}) == 0.5
    for bad in ("0", "-1", "soon"):
        with pytest.raises(ValueError, match="ROUTES_POLL_S"):
            poll_interval({"ROUTES_POLL_S": bad})


def test_remote_source_only_with_a_well_formed_store() -> None:
    fallback = default_table(legacy_url="http://legacy:8000", flights_url=None)
    assert remote_source({}, fallback=fallback) is None
    with pytest.raises(SettingsError, match="only S3"):
        remote_source({"ROUTES_STORE": "ssm:/gw/routes"}, fallback=fallback)
    source = remote_source({"ROUTES_STORE": "s3://b/k", "ROUTES_POLL_S": "2"}, fallback=fallback)
    assert source is not None and source.store.uri == "s3://b/k"


# ---- the store against moto


def test_publish_fetch_conditionally_and_list_versions(s3: S3) -> None:
    store = s3.store()
    first = store.publish(routes_text("legacy"), info("start on legacy"))
    second = store.publish(routes_text("flights"), info("flights → flights service"))
    fetched = store.fetch()
    assert fetched is not None
    assert (fetched.text, fetched.info) == (routes_text("flights"), second)
    assert store.fetch(etag=second.etag) is None  # 304: nothing sent
    older = store.fetch(version_id=first.version_id)
    assert older is not None and older.text == routes_text("legacy")
    assert store.versions() == [second, first]


def test_store_errors_name_the_object_and_the_reason(s3: S3) -> None:
    missing = RouteStore(StoreLocation("no-such-bucket", KEY), client=s3.client())
    with pytest.raises(StoreError, match=r"s3://no-such-bucket/gateway/routes.yaml: NoSuchBucket"):
        missing.fetch()


# ---- the poller's step


def test_poller_swaps_good_versions_and_keeps_the_last_good_one(s3: S3) -> None:
    store = s3.store()
    fallback = default_table(legacy_url="http://legacy:8000", flights_url=None)
    source = RemoteRouteSource(store, fallback=fallback, env=ENV)
    source.poll_once()  # nothing published yet
    assert source.health()["error"].startswith(f"s3://{BUCKET}/{KEY}: NoSuchKey")
    assert source.health()["source"] == "<built-in default>"

    good = store.publish(routes_text("flights"), info("flights out"))
    source.poll_once()
    health = source.health()
    assert (health["error"], health["store"]["version_id"]) == (None, good.version_id)
    assert health["store"]["message"] == "flights out"
    assert health["source"] == f"s3://{BUCKET}/{KEY}@{good.version_id}"
    served = health["version"]

    store.publish(HEAD + "  - {path: /api/flights/**, target: nowhere}\n", info("typo"))
    source.poll_once()
    source.poll_once()  # the bad version's ETag is remembered: a 304, the error stays
    health = source.health()
    assert (health["version"], health["store"]["version_id"]) == (served, good.version_id)
    assert "'nowhere' is not a backend" in health["error"]

    fixed = store.publish(routes_text("legacy"), info("back to legacy"))
    source.poll_once()
    assert (source.health()["error"], source.health()["store"]["version_id"]) == (
        None,
        fixed.version_id,
    )


def test_an_unreachable_store_is_an_error_and_the_table_stays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nobody there
    for name, value in {"AWS_ACCESS_KEY_ID": "t", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    fallback = default_table(legacy_url="http://legacy:8000", flights_url=None)
    source = RemoteRouteSource(RouteStore(StoreLocation(BUCKET, KEY)), fallback=fallback)
    source.poll_once()
    health = source.health()
    assert health["error"].startswith(f"s3://{BUCKET}/{KEY}: Could not connect")
    assert (health["version"], health["store"]["version_id"]) == (fallback.version, None)


# ---- the CLI


def test_push_refuses_a_bad_file_and_publishes_nothing(
    s3: S3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "routes.yaml"
    bad.write_text(HEAD + "  - {path: /api/flights/**, target: nowhere}\n", encoding="utf-8")
    assert main(["push", str(bad), "--message", "oops"]) == 1
    assert "target 'nowhere' is not a backend" in capsys.readouterr().err
    assert s3.client().list_object_versions(Bucket=BUCKET).get("Versions") is None
    bad.write_text(routes_text("flights"), encoding="utf-8")
    assert main(["push", str(bad)]) == 2  # no --message: nothing published either
    assert "--message WHY" in capsys.readouterr().err


def test_push_versions_and_rollback(
    s3: S3, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "routes.yaml"
    for target in ("flights", "legacy"):
        path.write_text(routes_text(target), encoding="utf-8")
        assert main(["push", str(path), "-m", f"flights to {target}"]) == 0
    capsys.readouterr()
    assert main(["push", "--rollback"]) == 0
    assert capsys.readouterr().out.startswith("rolled back ")
    store = s3.store()
    latest, undone, restored = store.versions()
    assert latest.rollback_of == undone.version_id
    assert latest.restores == restored.version_id
    assert latest.message == f"rollback of {undone.version_id}"
    fetched = store.fetch()
    assert fetched is not None and fetched.text == routes_text("flights")
    assert main(["versions"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("  ")[0] for line in lines] == [
        latest.version_id,
        undone.version_id,
        restored.version_id,
    ]
    assert lines[0].endswith(
        f"ana@ops: rollback of {undone.version_id} (rollback of {undone.version_id})"
    )
    assert lines[2].endswith("ana@ops: flights to flights")
    assert main(["push", "--rollback"]) == 1  # nothing older than the first version
    assert "cannot roll back" in capsys.readouterr().err


def test_cli_without_a_store_says_how_to_name_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ROUTES_STORE", raising=False)
    assert main(["versions"]) == 2
    assert "--store s3://BUCKET/KEY" in capsys.readouterr().err
    assert "ROUTES_STORE" not in os.environ
