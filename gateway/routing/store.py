"""The route store: routes.yaml published to S3, one object version per push.

    store = RouteStore(parse_store_uri("s3://ops-routes/gateway/routes.yaml"))
    info = store.publish(text, author="ana@laptop", message="flights back to legacy")
    store.fetch(etag=info.etag)       → None (unchanged: a 304, no body sent)
    store.versions()[0].message       → "flights back to legacy"

Why S3 (docs/routes.md, "Flipping routes on AWS"): an object carries the whole file however
large it grows (SSM standard parameters stop at 4 KB, routes.yaml is ~3 KB), a conditional
GET on the ETag makes an unchanged table a 304, bucket versioning keeps every push for
`versions` and `rollback`, and user metadata carries who/when/why beside each version.

boto3 is imported on first use only: the gateway's poller thread pays its import (~0.3 s),
never the app's import or a request. Every botocore error becomes a `StoreError`, here.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

_SCHEMES = "s3://BUCKET/KEY"


class StoreError(Exception):
    """The store could not be read or written; the message says which object and why."""

    def __init__(self, uri: str, reason: str) -> None:
        super().__init__(f"{uri}: {reason}")
        self.uri = uri
        self.reason = reason


@dataclass(frozen=True)
class StoreLocation:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def parse_store_uri(text: str) -> StoreLocation:
    """ "s3://ops-routes/gw/routes.yaml" → StoreLocation("ops-routes", "gw/routes.yaml");
    ValueError naming the one accepted form otherwise (SSM is not supported: see the doc)."""
    scheme, sep, rest = text.partition("://")
    bucket, _, key = rest.partition("/")
    if scheme != "s3" or not sep or not bucket or not key:
        raise ValueError(f"ROUTES_STORE={text!r} is not {_SCHEMES} (only S3 is supported)")
    return StoreLocation(bucket, key)


@dataclass(frozen=True)
class VersionInfo:
    """Who published one version, when and why; a rollback names the version it undid
    (`rollback_of`) and the one whose text it restored (`restores`)."""

    version_id: str
    etag: str
    author: str
    published_at: str
    message: str
    rollback_of: str | None = None
    restores: str | None = None

    @classmethod
    def from_metadata(cls, version_id: str, etag: str, meta: Mapping[str, str]) -> VersionInfo:
        return cls(
            version_id=version_id,
            etag=etag,
            author=_unquote(meta.get("author", "?")),
            published_at=meta.get("published-at", "?"),
            message=_unquote(meta.get("message", "")),
            rollback_of=meta.get("rollback-of") or None,
            restores=meta.get("restores") or None,
        )

    def metadata(self) -> dict[str, str]:
        """S3 user metadata is ASCII only: free text is percent-encoded."""
        meta = {
            "author": urllib.parse.quote(self.author),
            "published-at": self.published_at,
            "message": urllib.parse.quote(self.message),
        }
        if self.rollback_of:
            meta["rollback-of"] = self.rollback_of
        if self.restores:
            meta["restores"] = self.restores
        return meta


@dataclass(frozen=True)
class Fetched:
    text: str
    info: VersionInfo


def rollback_target(versions: Sequence[VersionInfo]) -> tuple[VersionInfo, VersionInfo]:
    """(the version to restore, the version it undoes), newest first in `versions`.

    [v3, v2, v1] → (v2, v3). After a rollback, the next one goes on from what that one
    restored: [r4 (restores v2), v3, v2, v1] → (v1, r4), so repeated rollbacks walk back
    through history instead of flipping between two versions. ValueError if nothing older.
    """
    if not versions:
        raise ValueError("the store holds no version yet: push one first")
    latest, base = versions[0], 0
    if latest.restores is not None:
        found = [i for i, v in enumerate(versions) if v.version_id == latest.restores]
        if not found:
            raise ValueError(f"{latest.restores} (restored by the latest push) is too old")
        base = found[0]
    if base + 1 >= len(versions):
        raise ValueError(f"no version older than {versions[base].version_id} to restore")
    return versions[base + 1], latest


class S3Client(Protocol):
    """The part of boto3's S3 client the store uses (the seam tests point at moto)."""

    def get_object(self, **kwargs: Any) -> Any: ...
    def put_object(self, **kwargs: Any) -> Any: ...
    def head_object(self, **kwargs: Any) -> Any: ...
    def list_object_versions(self, **kwargs: Any) -> Any: ...


class RouteStore:
    def __init__(self, location: StoreLocation, *, client: S3Client | None = None) -> None:
        self.location = location
        self._client = client

    @property
    def uri(self) -> str:
        return self.location.uri

    def publish(self, text: str, info: VersionInfo) -> VersionInfo:
        """Store `text` as the newest version; `info`'s version id and ETag are ignored."""
        reply = self._call(
            "put_object",
            Body=text.encode(),
            ContentType="application/yaml; charset=utf-8",
            Metadata=info.metadata(),
        )
        return VersionInfo.from_metadata(
            str(reply.get("VersionId") or "null"), str(reply["ETag"]), info.metadata()
        )

    def fetch(self, *, etag: str | None = None, version_id: str | None = None) -> Fetched | None:
        """The newest version (or `version_id`); None when its ETag is still `etag`."""
        args: dict[str, Any] = {"IfNoneMatch": etag} if etag else {}
        if version_id:
            args["VersionId"] = version_id
        reply = self._call("get_object", **args)
        if reply is None:
            return None
        text = reply["Body"].read().decode("utf-8")
        version = str(reply.get("VersionId") or "null")
        return Fetched(text, VersionInfo.from_metadata(version, reply["ETag"], reply["Metadata"]))

    def versions(self, *, limit: int = 20) -> list[VersionInfo]:
        """Newest first, each with its metadata (one HEAD per version: `limit` bounds them)."""
        reply = self._call("list_object_versions", Prefix=self.location.key, MaxKeys=limit)
        listed = [v for v in reply.get("Versions", []) if v["Key"] == self.location.key]
        listed.sort(key=lambda v: v["LastModified"], reverse=True)
        return [self._head(str(v["VersionId"]), str(v["ETag"])) for v in listed[:limit]]

    def _head(self, version_id: str, etag: str) -> VersionInfo:
        reply = self._call("head_object", VersionId=version_id)
        return VersionInfo.from_metadata(version_id, etag, reply["Metadata"])

    def _call(self, operation: str, **args: Any) -> Any:
        """One boto3 call; a 304 answers None; every botocore error becomes a StoreError."""
        import botocore.exceptions  # lazy: see the module docstring

        if operation != "list_object_versions":
            args["Key"] = self.location.key
        try:
            return getattr(self._s3(), operation)(Bucket=self.location.bucket, **args)
        except botocore.exceptions.ClientError as exc:
            error = exc.response.get("Error", {})
            if error.get("Code") in ("304", "NotModified"):
                return None
            raise StoreError(self.uri, f"{error.get('Code')}: {error.get('Message')}") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise StoreError(self.uri, str(exc)) from exc

    def _s3(self) -> S3Client:
        if self._client is None:
            import boto3  # lazy: see the module docstring
            from botocore.config import Config

            # Short deadlines: a slow store must not hold the poller (or a cold start's first
            # request) for botocore's default 60 s and five attempts. AWS_ENDPOINT_URL, read
            # by boto3 itself, points this at moto in the tests.
            config = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2})
            self._client = boto3.client("s3", config=config)
        return self._client


def _unquote(text: str) -> str:
    return urllib.parse.unquote(text)
