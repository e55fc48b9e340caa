"""The rate limit's decisions: the bucket math, the Lua script against it (on a real Redis),
the in-process store, the fallback when Redis is gone, who a request counts against, and
the settings."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from mangum import Mangum
from mangum.types import LambdaCognitoIdentity, LambdaMobileClientContext

from gateway.asgi import Receive, Scope, Send
from gateway.auth import ANONYMOUS, HS256Verifier, Identity, VerifiedTokens
from gateway.config import Settings, SettingsError
from gateway.ratelimit.bucket import BucketState, Decision, Rate, retry_after_s, take
from gateway.ratelimit.callers import caller_key, client_address
from gateway.ratelimit.limiter import RateLimiter
from gateway.ratelimit.local_store import LocalBuckets
from gateway.ratelimit.middleware import RateLimitMiddleware, is_exempt, refusal_body
from gateway.ratelimit.redis_store import RedisBuckets, bucket_key
from tests.support.redis_server import (
    RedisServer,
    redis_server_fixture,
    redis_session_server_fixture,
)

__all__ = ["redis_server_fixture", "redis_session_server_fixture"]

FIVE_A_MINUTE = Rate(5, 60)


def run(rate: Rate, times: list[float]) -> list[Decision]:
    state, decisions = None, []
    for now in times:
        decision, state = take(state, rate, now=now)
        decisions.append(decision)
    return decisions


# -- the bucket ---------------------------------------------------------------------------


def test_a_full_bucket_allows_a_burst_then_refuses_until_a_token_is_back() -> None:
    decisions = run(FIVE_A_MINUTE, [0, 0, 0, 0, 0, 0])
    assert decisions == [
        Decision(True, 4, 0),
        Decision(True, 3, 0),
        Decision(True, 2, 0),
        Decision(True, 1, 0),
        Decision(True, 0, 0),
        Decision(False, 0, 12),  # one token every 60/5 s
    ]


def test_tokens_come_back_at_the_rate_and_never_above_the_burst() -> None:
    burst = [0.0] * 5
    assert run(FIVE_A_MINUTE, [*burst, 6])[-1] == Decision(False, 0, 6)
    assert run(FIVE_A_MINUTE, [*burst, 12])[-1] == Decision(True, 0, 0)
    # A day of silence refills to 5, not to 7200.
    assert run(FIVE_A_MINUTE, [*burst, 86_400])[-1] == Decision(True, 4, 0)


def test_refused_requests_take_nothing() -> None:
    decisions = run(Rate(1, 10), [0, 1, 2, 3, 10])
    assert [d.allowed for d in decisions] == [True, False, False, False, True]
    assert [d.retry_after_s for d in decisions[1:4]] == [9, 8, 7]


def test_a_clock_going_backwards_refills_nothing() -> None:
    decision, state = take(BucketState(tokens=0.0, updated_s=100.0), Rate(1, 1), now=50.0)
    assert decision == Decision(False, 0, 1)
    assert state.tokens == 0.0


def test_retry_after_is_whole_seconds_and_never_zero() -> None:
    assert [retry_after_s(s) for s in (0.001, 1.0, 1.2, 12.000000001)] == [1, 1, 2, 12]


@pytest.mark.parametrize(
    ("text", "rate"),
    [("100/1", Rate(100, 1)), (" 600 / 60 ", Rate(600, 60)), ("5/0.5", Rate(5, 0.5))],
)
def test_rates_parse(text: str, rate: Rate) -> None:
    assert Rate.parse(text) == rate


@pytest.mark.parametrize("text", ["off", "OFF", "0", "none"])
def test_a_rate_can_be_turned_off(text: str) -> None:
    assert Rate.parse(text) is None


@pytest.mark.parametrize("text", ["100", "100/0", "0/1", "-1/1", "1/x", "100 per second"])
def test_bad_rates_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="<requests>/<seconds>"):
        Rate.parse(text)


# -- settings -------------------------------------------------------------------------------

PROD = {
    "GATEWAY_STAGE": "prod",
    "GATEWAY_JWT_SECRET": "prod-secret-0123456789abcdef0123456789abcdef",
    "GATEWAY_JWT_ISSUER": "https://issuer.example",
    "GATEWAY_JWT_AUDIENCE": "app",
}


def test_the_limit_is_on_in_prod_and_off_in_dev_by_default() -> None:
    assert Settings.from_env(PROD).rate_limit == Rate(100, 1)
    assert Settings.from_env({"GATEWAY_STAGE": "dev"}).rate_limit is None
    assert Settings.from_env({**PROD, "GATEWAY_RATE_LIMIT": "off"}).rate_limit is None
    assert Settings.from_env({"GATEWAY_RATE_LIMIT": "20/10"}).rate_limit == Rate(20, 10)


def test_a_bad_limit_fails_at_start_up_naming_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^GATEWAY_RATE_LIMIT: '100/s' is not"):
        Settings.from_env({"GATEWAY_RATE_LIMIT": "100/s"})


def test_the_client_address_header_is_read_in_lower_case() -> None:
    env = {"GATEWAY_CLIENT_ADDRESS_HEADER": "CloudFront-Viewer-Address"}
    assert Settings.from_env(env).client_address_header == "cloudfront-viewer-address"


# -- who a request counts against --------------------------------------------------------


def test_signed_in_callers_count_as_themselves_others_by_address() -> None:
    assert caller_key(Identity("t-1", "traveler"), "203.0.113.9") == "sub:t-1"
    assert caller_key(Identity("a-1", "agent"), None) == "sub:a-1"
    assert caller_key(ANONYMOUS, "203.0.113.9") == "addr:203.0.113.9"
    refused = Identity(None, None, refusal="expired")
    assert caller_key(refused, "203.0.113.9") == "addr:203.0.113.9"
    assert caller_key(ANONYMOUS, None) == "addr:unknown"


def test_the_address_is_the_trusted_hop_not_what_the_client_wrote() -> None:
    forged = [(b"x-forwarded-for", b"1.1.1.1")]
    # uvicorn or API Gateway through Mangum: the peer.
    assert client_address({"client": ("198.51.100.7", 0), "headers": forged}) == "198.51.100.7"
    # ALB through Mangum: the whole X-Forwarded-For; only the ALB's own last entry counts.
    alb = {"client": ("1.1.1.1, 198.51.100.7", 0), "headers": forged}
    assert client_address(alb) == "198.51.100.7"
    assert client_address({"client": None, "headers": []}) is None


def test_behind_cloudfront_the_viewer_address_header_is_used_when_configured() -> None:
    header = "cloudfront-viewer-address"
    for value, address in [
        (b"203.0.113.9:46532", "203.0.113.9"),
        (b"2001:db8::7:443", "2001:db8::7"),
    ]:
        scope = {"client": ("130.176.0.1", 0), "headers": [(header.encode(), value)]}
        assert client_address(scope, header=header) == address
        assert client_address(scope) == "130.176.0.1"  # not configured: not trusted
    missing = {"client": ("130.176.0.1", 0), "headers": []}
    assert client_address(missing, header=header) == "130.176.0.1"


def test_health_and_the_gateways_own_pages_are_exempt() -> None:
    assert is_exempt("/healthz") and is_exempt("/_gateway/routes")
    assert not is_exempt("/graphql/web") and not is_exempt("/api/trips")
    assert not is_exempt("/healthz/x") and not is_exempt("/_gatewayx")


def test_refusals_speak_each_doors_language() -> None:
    refused = Decision(False, 0, 7)
    message = "Too many requests; retry in 7 s."
    assert refusal_body("/api/trips", refused) == {"error": "rate_limited", "message": message}
    assert refusal_body("/graphql/mobile", refused) == {
        "errors": [{"message": message, "extensions": {"code": "RATE_LIMITED"}}]
    }


# -- the stores ------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_local_buckets_are_per_caller() -> None:
    clock = Clock()
    buckets = LocalBuckets(clock=clock)
    rate = Rate(2, 10)
    assert [buckets.take("a", rate).allowed for _ in range(3)] == [True, True, False]
    assert buckets.take("b", rate).allowed
    clock.now += 5
    assert buckets.take("a", rate).allowed


def test_local_buckets_forget_the_least_recent_caller_and_idle_full_buckets() -> None:
    clock = Clock()
    buckets = LocalBuckets(maxsize=2, clock=clock)
    rate = Rate(1, 10)
    for caller in ("a", "b", "c"):
        buckets.take(caller, rate)
    assert len(buckets) == 2
    assert buckets.take("a", rate).allowed  # forgotten, so full again: lenient, never strict
    idle = LocalBuckets(clock=clock)
    idle.take("a", rate)
    clock.now += 11  # "a" is full again by now: dropped as the next caller comes
    idle.take("b", rate)
    assert len(idle) == 1


def test_bucket_keys_cannot_forge_a_hash_tag() -> None:
    assert bucket_key("sub:u 7}{x") == "bff:v1:rl:{sub:u%207%7D%7Bx}"


@pytest.mark.redis
async def test_the_lua_script_decides_as_the_python_does(redis_server: RedisServer) -> None:
    store = RedisBuckets(redis_server.url)
    rate = Rate(3, 1.5)
    times = [0.0, 0.0, 0.1, 0.2, 0.4, 0.5, 1.0, 1.05, 3.0, 3.0, 3.0, 3.0, 2.0]
    expected = run(rate, times)
    got = [await store.take("sub:t-1", rate, now_ms=1_700_000_000_000 + t * 1000) for t in times]
    assert got == expected
    with redis_server.client() as r:
        assert r.pttl(bucket_key("sub:t-1")) == pytest.approx(1500, abs=100)
    await store.aclose()


@pytest.mark.redis
async def test_redis_time_is_used_when_no_time_is_passed(redis_server: RedisServer) -> None:
    store = RedisBuckets(redis_server.url)
    decisions = [await store.take("addr:198.51.100.7", FIVE_A_MINUTE) for _ in range(6)]
    assert [d and d.allowed for d in decisions] == [True] * 5 + [False]
    last = decisions[-1]
    assert last is not None and last.retry_after_s in (11, 12)  # due 12 s after the first
    await store.aclose()


@pytest.mark.redis
async def test_the_limiter_falls_back_to_the_process_and_counts_it() -> None:
    with RedisServer() as server:
        limiter = RateLimiter(Rate(2, 60), redis=RedisBuckets(server.url))
        assert (await limiter.take("sub:t-1")).allowed
        server.stop()
        decisions = [await limiter.take("sub:t-1") for _ in range(3)]
        # In process the caller starts over with a full bucket: lenient, never blocked.
        assert [d.allowed for d in decisions] == [True, True, False]
        assert limiter.stats() == {
            "rate": "2/60",
            "store": "redis",
            "redis": "open",  # after 3 failures the breaker skips Redis for a while
            "refused": 1,
            "fallbacks": 3,
        }


# -- the trusted hop on Lambda, through Mangum's own event parsing -----------------------------

EVENTS = Path(__file__).parent / "events"


class LambdaContext:
    function_name = "gateway"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:gateway"
    memory_limit_in_mb = 1024
    aws_request_id = "test-request"
    log_group_name = "/aws/lambda/gateway"
    log_stream_name = "test"
    identity: LambdaCognitoIdentity | None = None
    client_context: LambdaMobileClientContext | None = None

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


async def ok(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def lambda_statuses(events: list[dict[str, Any]]) -> list[int]:
    limiter = RateLimiter(Rate(1, 60))
    verifier = VerifiedTokens(HS256Verifier("s" * 32))
    app = RateLimitMiddleware(ok, limiter=limiter, verifier=verifier)
    loop = asyncio.new_event_loop()  # Mangum runs each invocation on the current loop
    asyncio.set_event_loop(loop)  # (and makes one at construction if there is none)
    try:
        handler = Mangum(app, lifespan="off")
        return [int(handler(event, LambdaContext())["statusCode"]) for event in events]
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def event(name: str, *, forwarded_for: str, source_ip: str = "203.0.113.7") -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EVENTS / name).read_text())
    body["headers"]["x-forwarded-for"] = forwarded_for
    context = body["requestContext"]
    if "http" in context:
        context["http"]["sourceIp"] = source_ip
    elif "identity" in context:
        context["identity"]["sourceIp"] = source_ip
    return body


@pytest.mark.parametrize("name", ["apigw_http_v2.json", "apigw_rest_v1.json"])
def test_on_api_gateway_the_source_ip_counts_not_a_forged_forwarded_for(name: str) -> None:
    statuses = lambda_statuses(
        [
            event(name, forwarded_for="198.51.100.1"),
            event(name, forwarded_for="198.51.100.2"),  # same peer, another story
            event(name, forwarded_for="198.51.100.1", source_ip="203.0.113.8"),
        ]
    )
    assert statuses == [200, 429, 200]


def test_behind_an_alb_only_the_albs_own_entry_counts() -> None:
    statuses = lambda_statuses(
        [
            event("alb.json", forwarded_for="1.1.1.1, 203.0.113.7"),
            event("alb.json", forwarded_for="2.2.2.2, 203.0.113.7"),
            event("alb.json", forwarded_for="1.1.1.1, 203.0.113.8"),
        ]
    )
    assert statuses == [200, 429, 200]
