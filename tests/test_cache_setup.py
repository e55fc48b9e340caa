from __future__ import annotations

import pytest

from gateway.cache.policy import CachePolicy
from gateway.cache.setup import DEFAULT_TTLS, CacheConfig


def test_defaults_and_overrides_from_the_environment() -> None:
    config = CacheConfig.from_env(
        {"CACHE_TTL_FLIGHT": "5", "CACHE_L1_ENTRIES": "100", "REDIS_URL": "redis://r:6379/0"}
    )
    assert config.ttl("flight") == 5 and config.ttl("fx") == DEFAULT_TTLS["fx"]
    assert config.l1_entries == 100 and config.l1_bytes == 64 * 2**20
    assert (config.redis_url, config.redis_cluster) == ("redis://r:6379/0", False)
    assert config.ttl("unknown-kind") == 0
    assert config.lease_wait_s == 0.5
    assert CacheConfig.from_env({"CACHE_LEASE_WAIT_MS": "2500"}).lease_wait_s == 2.5


def test_public_answers_get_a_cdn_policy_unless_answers_are_not_cached() -> None:
    policy = CacheConfig.from_env({}).answer_policy()
    assert policy == CachePolicy(public=True, max_age=60, s_maxage=60, swr=60, sie=600)
    assert CacheConfig.from_env({"CACHE_TTL_ANSWER": "0"}).answer_policy().public is False


@pytest.mark.parametrize("bad", ["-1", "soon"])
def test_a_bad_ttl_is_refused_at_start_up(bad: str) -> None:
    with pytest.raises(ValueError, match="CACHE_TTL_TRIP"):
        CacheConfig.from_env({"CACHE_TTL_TRIP": bad})
