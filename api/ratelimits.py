"""Rate limits: per API key for keyed callers, per client address for everyone else, in memory or Redis."""

from __future__ import annotations

import logging
import math
import time

import limits
from fastapi import HTTPException, Request
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from redis.exceptions import RedisError

from api.deps import KnowledgeBaseDep, principal_of
from kb.access import ANONYMOUS, Principal
from kb.settings import Settings

NAMESPACE = "kb"
log = logging.getLogger(__name__)


class RateLimits:
    """The limits of one deployment and where hits are counted.

    Redis (``KB_REDIS_URL``) makes every kb process behind a load balancer count in one place; without
    it each process counts alone, which is right for a single server.
    """

    def __init__(self, settings: Settings) -> None:
        if settings.redis_url:
            uri = "async+" + settings.redis_url
            storage = storage_from_string(uri, implementation="redispy", key_prefix="kb-ratelimit")
        else:
            storage = storage_from_string("async+memory://")
        # A sliding window counter: two counters per bucket, O(1) a hit. A moving window keeps every hit of
        # the window and, in memory, hands its expiry to a worker thread on every request (a hop costing
        # more than the rest of the limiter; `make bench`); in Redis it is a list per bucket.
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self.anonymous = limits.parse_many(settings.rate_limit_anonymous)
        self.keys = limits.parse_many(settings.rate_limit_keys)

    async def hit(self, bucket: str, items: list[limits.RateLimitItem]) -> None:
        """Count one request in ``bucket``; 429 with Retry-After when any of ``items`` is used up.

        When Redis cannot be reached the request goes through, logged: limits protect capacity, they
        never decide who sees what, and an outage of Redis must not take the help center down with it.
        """
        for item in items:
            try:
                allowed = await self._limiter.hit(item, NAMESPACE, bucket)
            except (RedisError, OSError) as error:
                log.warning("rate limits are not counted: the store cannot be reached (%s)", error)
                return
            if not allowed:
                stats = await self._limiter.get_window_stats(item, NAMESPACE, bucket)
                retry = max(1, math.ceil(stats.reset_time - time.time()))
                who = "API key" if bucket.startswith("key:") else "address"
                raise HTTPException(
                    429,
                    f"too many requests from this {who}: the limit is {item}; retry in {retry} s",
                    headers={"Retry-After": str(retry), "RateLimit-Limit": str(item.amount), "RateLimit-Remaining": "0"},
                )


def client_address(request: Request) -> str:
    """The peer's address as uvicorn reports it (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else "unknown"


async def rate_limited(request: Request, kb: KnowledgeBaseDep) -> None:
    """A route dependency: authenticate, then count the request in the caller's bucket.

    A refused key or token counts against the address it came from, so guessing keys is throttled too;
    the route's own principal dependency then answers the refusal in its own form (JSON or a page).
    """
    rate_limits: RateLimits = request.app.state.rate_limits
    try:
        principal: Principal = await principal_of(request, kb)
    except HTTPException:
        principal = ANONYMOUS
    if principal.key_id is not None:
        await rate_limits.hit(f"key:{principal.key_id}", rate_limits.keys)
    else:
        await rate_limits.hit(f"address:{client_address(request)}", rate_limits.anonymous)

