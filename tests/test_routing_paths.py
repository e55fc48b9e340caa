"""decide_path: the one path a passthrough request is decided on and forwarded with."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.routing.paths import PathRefused, decide_path, segment, upstream_path


@pytest.mark.parametrize(
    ("raw", "decided"),
    [
        (b"/api/trips/trip-1", "/api/trips/trip-1"),
        (b"/api/%74rips/trip-1", "/api/trips/trip-1"),
        (b"/api/travelers/t-1/trips", "/api/travelers/t-1/trips"),
        (b"/api/trips/", "/api/trips/"),
        (b"/api/destinations/top", "/api/destinations/top"),
        (b"/api/trips/caf%C3%A9", "/api/trips/café"),
        (b"/api/trips/a.b..c", "/api/trips/a.b..c"),
    ],
)
def test_plain_paths_are_decided_decoded(raw: bytes, decided: str) -> None:
    assert decide_path(raw) == decided


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"/api/../_stub/stats", "a dot segment"),
        (b"/api/./travelers/t-1", "a dot segment"),
        (b"/api/trips/..", "a dot segment"),
        (b"/api/trips/.", "a dot segment"),
        (b"/api/%2e%2e/_stub/faults", "a dot segment"),
        (b"/api/%2E%2e/_stub/faults", "a dot segment"),
        (b"/api/.%2E/_stub/reset", "a dot segment"),
        (b"/api/trips/%2e", "a dot segment"),
        (b"/api/trips/../../_stub/stats", "a dot segment"),
        (b"/api/flights%2f..%2f_stub/stats", "an encoded slash or backslash"),
        (b"/api/flights%2Ffl-1", "an encoded slash or backslash"),
        (b"/api/%5c..%5c_stub/stats", "an encoded slash or backslash"),
        (b"/api/%5C", "an encoded slash or backslash"),
        (b"/api/trips\\..\\x", "a backslash"),
        (b"/api/trips/trip-1%00", "a control character"),
        (b"/api/trips/trip-1%0d%0aX-Evil:%201", "a control character"),
        (b"/api/%252e%252e/_stub/stats", "a percent sign left after decoding"),
        (b"/api/trips/%ff", "bytes that are not UTF-8"),
        (b"/api//trips", "an empty segment"),
        (b"//api/trips", "an empty segment"),
        (b"/_stub/stats", "a path outside /api/"),
        (b"/apix/trips", "a path outside /api/"),
        (b"/api", "a path outside /api/"),
    ],
)
def test_anything_a_later_hop_could_read_differently_is_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(PathRefused) as refused:
        decide_path(raw)
    assert refused.value.reason == reason


def test_the_upstream_path_is_the_decided_path_encoded_the_same_way_every_time() -> None:
    assert upstream_path("/api/trips/trip-1") == "/api/trips/trip-1"
    assert upstream_path("/api/trips/café") == "/api/trips/caf%C3%A9"
    assert upstream_path("/api/trips/a b?c#d") == "/api/trips/a%20b%3Fc%23d"
    assert decide_path(upstream_path("/api/trips/café").encode()) == "/api/trips/café"


@given(st.binary(max_size=40).map(lambda tail: b"/api/" + tail))
def test_a_decided_path_never_holds_what_a_later_hop_could_normalise(raw: bytes) -> None:
    try:
        path = decide_path(raw)
    except PathRefused:
        return
    segments = path.split("/")
    assert "." not in segments and ".." not in segments
    assert "%" not in path and "\\" not in path and "\x00" not in path
    assert path.startswith("/api/")
    assert decide_path(upstream_path(path).encode()) == path  # forwarded as decided


@given(st.text(max_size=40))
def test_an_id_is_exactly_one_segment_of_a_path_the_gateway_builds(value: str) -> None:
    built = f"/api/trips/{segment(value)}/cancel"
    parts = built.split("/")
    assert len(parts) == 5 and "?" not in built and "#" not in built
    assert unquote(parts[3]) == value
