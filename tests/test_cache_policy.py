import pytest

from gateway.cache.policy import (
    PRIVATE,
    CachePolicy,
    combine_all,
    etag_for,
    if_none_match,
    response_policy,
)

PUBLIC = CachePolicy(public=True, max_age=30, s_maxage=300, swr=60, sie=600)


@pytest.mark.parametrize(
    ("policy", "header"),
    [
        (PUBLIC, "public, max-age=30, s-maxage=300, stale-while-revalidate=60, stale-if-error=600"),
        (CachePolicy(public=True, max_age=5, s_maxage=60), "public, max-age=5, s-maxage=60"),
        (CachePolicy(public=True), "public, max-age=0, s-maxage=0"),
        (PRIVATE, "private, no-store"),
        (CachePolicy.PRIVATE, "private, no-store"),
    ],
)
def test_header(policy: CachePolicy, header: str) -> None:
    assert policy.header() == header


@pytest.mark.parametrize(
    ("a", "b", "combined"),
    [
        (PUBLIC, PUBLIC, PUBLIC),
        (PUBLIC, PRIVATE, PRIVATE),
        (PRIVATE, PUBLIC, PRIVATE),
        (
            PUBLIC,
            CachePolicy(public=True, max_age=60, s_maxage=30, swr=0, sie=900),
            CachePolicy(public=True, max_age=30, s_maxage=30, swr=0, sie=600),
        ),
    ],
)
def test_combine_keeps_the_most_restrictive(
    a: CachePolicy, b: CachePolicy, combined: CachePolicy
) -> None:
    assert CachePolicy.combine(a, b) == combined


def test_combine_all() -> None:
    short = CachePolicy(public=True, max_age=1, s_maxage=2)
    assert combine_all([PUBLIC, short, PUBLIC]) == CachePolicy(public=True, max_age=1, s_maxage=2)
    assert combine_all([PUBLIC, PRIVATE]) == PRIVATE
    assert combine_all([]) == PRIVATE


@pytest.mark.parametrize(
    ("is_mutation", "has_errors", "pq_miss", "expected"),
    [
        (False, False, False, PUBLIC),
        (True, False, False, PRIVATE),
        (False, True, False, PRIVATE),
        (False, False, True, PRIVATE),
    ],
)
def test_response_policy(
    is_mutation: bool, has_errors: bool, pq_miss: bool, expected: CachePolicy
) -> None:
    policy = response_policy(
        PUBLIC, is_mutation=is_mutation, has_errors=has_errors, persisted_query_miss=pq_miss
    )
    assert policy == expected


def test_invalid_policies_fail_at_construction() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        CachePolicy(public=True, max_age=-1)
    with pytest.raises(ValueError, match="private policy"):
        CachePolicy(public=False, max_age=10)


def test_etag_is_strong_and_follows_the_body() -> None:
    etag = etag_for(b'{"data":{}}')
    assert etag == '"' + etag.strip('"') + '"' and not etag.startswith("W/")
    assert len(etag) == 45  # 43 base64url characters of a sha256, quoted
    assert etag == etag_for(b'{"data":{}}')
    assert etag != etag_for(b'{"data":{"a":1}}')


ETAG = '"abc"'


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        ('"abc"', True),
        ('"abd"', False),
        ('W/"abc"', True),
        ('"x", "abc"', True),
        ('"x",W/"abc"', True),
        ('"x", "y"', False),
        ('"x", , "abc"', True),
        ("*", True),
        (" * ", True),
        ('"a,b", "abc"', True),
        ("abc", False),
        ('"abc', False),
        ('"abc" garbage', False),
    ],
)
def test_if_none_match(header: str | None, matches: bool) -> None:
    assert if_none_match(header, ETAG) is matches


def test_if_none_match_compares_weakly_on_our_side_too() -> None:
    assert if_none_match('"abc"', 'W/"abc"')
    assert if_none_match('"a,b"', '"a,b"')
