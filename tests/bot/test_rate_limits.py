"""Issue 15: attempt limits in Redis (console logins, ticket look-ups), checked and counted atomically."""

from __future__ import annotations

import asyncio

import pytest
import redis
import redis.asyncio as aioredis

from bot.rate_limits import LOOKUP_FREE, LOOKUP_PER_SENDER, Limit, Limiter, LookupGuard, key_part, wait_words


@pytest.fixture
def limits_url(redis_url):
    url = redis_url.rsplit("/", 1)[0] + "/11"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
async def limiter(limits_url):
    client = aioredis.Redis.from_url(limits_url, decode_responses=True)
    yield Limiter(client)
    await client.close()


async def test_a_counter_refuses_after_its_limit_and_counts_nothing_then(limiter):
    limit = Limit("t-count", "1.2.3.4", 3, 60)
    assert [await limiter.attempt(limit) for _ in range(3)] == [0, 0, 0]
    wait = await limiter.attempt(limit)
    assert 0 < wait <= 60
    await limiter.succeeded(limit)  # gives one attempt back
    assert await limiter.attempt(limit) == 0


async def test_a_backoff_doubles_the_wait_and_forgets_after_a_success(limiter):
    limit = Limit("t-backoff", "li|1.2.3.4", 2, 600, backoff=True, max_wait=600)
    now = 1000.0
    assert await limiter.attempt(limit, now=now) == 0
    assert await limiter.attempt(limit, now=now) == 0  # second attempt: next one waits 2 s
    assert await limiter.attempt(limit, now=now + 1) == pytest.approx(1)
    assert await limiter.attempt(limit, now=now + 2) == 0  # then 4 s
    assert await limiter.attempt(limit, now=now + 5) == pytest.approx(1)
    await limiter.succeeded(limit)
    assert await limiter.attempt(limit, now=now + 5) == 0


async def test_parallel_attempts_are_counted_atomically(limiter):
    limit = Limit("t-parallel", "x", 5, 60, backoff=True)
    waits = await asyncio.gather(*(limiter.attempt(limit) for _ in range(100)))
    assert waits.count(0) == 5


async def test_one_refused_limit_counts_nothing_on_the_others(limiter):
    ip, pair = Limit("t-ip", "ip", 10, 60), Limit("t-pair", "pair", 1, 60, backoff=True)
    assert await limiter.attempt(ip, pair) == 0
    assert await limiter.attempt(ip, pair) > 0
    assert await limiter.redis.get(ip.key) == "1"


def test_key_parts_are_bounded():
    assert key_part("203.0.113.9") == "203.0.113.9"
    assert len(key_part("x" * 200_000)) < 40 and len(key_part("a:b")) < 40
    assert wait_words(5) == "5秒" and wait_words(61) == "2分钟"


async def test_phone_guesses_on_one_ticket_are_limited_whoever_guesses(limits_url):
    guard = LookupGuard(limits_url)
    number = "BM261122K7M4Q9XZ"
    allowed = [await guard.attempt(number, f"sender-{n}") == 0 for n in range(20)]
    assert allowed.count(True) == LOOKUP_FREE
    assert await guard.attempt("BM261122K7M4Q9XY", "sender-0") == 0  # another ticket is not affected


async def test_one_sender_is_limited_across_tickets_and_a_match_costs_nothing(limits_url):
    guard = LookupGuard(limits_url)
    for n in range(LOOKUP_PER_SENDER):
        assert await guard.attempt(f"BM2611220000000{n % 10}", "guesser") == 0
    assert await guard.attempt("BM261122AAAAAAAA", "guesser") > 0
    assert await guard.attempt("BM261122BBBBBBBB", "citizen") == 0
    await guard.matched("BM261122BBBBBBBB", "citizen")
    for _ in range(LOOKUP_FREE):
        assert await guard.attempt("BM261122BBBBBBBB", "citizen") == 0


async def test_redis_down_lets_the_look_up_through():
    assert await LookupGuard("redis://127.0.0.1:1/0").attempt("BM261122K7M4Q9XZ", "x") == 0
