"""Rate limits: per API key for keyed callers, per client address for everyone else, in memory or Redis."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

import limits
from fastapi import HTTPException, Request
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.storage import storage_from_string
from redis.exceptions import RedisError

from api.deps import KnowledgeBaseDep, principal_of
from kb.access import ANONYMOUS, Principal
from kb.core import Settings

NAMESPACE = "kb"
log = logging.getLogger(__name__)


class RateLimits:
    """The limits of one deployment and where hits are counted.

    Redis (``KB_REDIS_URL``) makes every kb process behind a load balancer count in one place, through
    the ``limits`` library; without it each process counts alone (:class:`LocalWindows`), which is
    right for a single server. Both count in sliding window counters: two counters per bucket, O(1)
    a hit (a moving window keeps every hit of the window; in Redis, a list per bucket).
    """

    def __init__(self, settings: Settings) -> None:
        self._shared: SlidingWindowCounterRateLimiter | None = None
        if settings.redis_url:
            storage = storage_from_string("async+" + settings.redis_url, implementation="redispy", key_prefix="kb-ratelimit")
            self._shared = SlidingWindowCounterRateLimiter(storage)
        self._local = LocalWindows()
        self.anonymous = limits.parse_many(settings.rate_limit_anonymous)
        self.keys = limits.parse_many(settings.rate_limit_keys)

    async def hit(self, bucket: str, items: list[limits.RateLimitItem]) -> None:
        """Count one request in ``bucket``; 429 with Retry-After when any of ``items`` is used up.

        When Redis cannot be reached the request goes through, logged: limits protect capacity, they
        never decide who sees what, and an outage of Redis must not take the help center down with it.
        """
        for item in items:
            try:
                retry = self._local.hit(item, bucket) if self._shared is None else await self._shared_hit(item, bucket)
            except (RedisError, OSError) as error:
                log.warning("rate limits are not counted: the store cannot be reached (%s)", error)
                return
            if retry is not None:
                who = "API key" if bucket.startswith("key:") else "address"
                raise HTTPException(
                    429,
                    f"too many requests from this {who}: the limit is {item}; retry in {retry} s",
                    headers={"Retry-After": str(retry), "RateLimit-Limit": str(item.amount), "RateLimit-Remaining": "0"},
                )

    async def _shared_hit(self, item: limits.RateLimitItem, bucket: str) -> int | None:
        assert self._shared is not None
        if await self._shared.hit(item, NAMESPACE, bucket):
            return None
        stats = await self._shared.get_window_stats(item, NAMESPACE, bucket)
        return max(1, math.ceil(stats.reset_time - time.time()))


class LocalWindows:
    """Sliding window counters in this process's memory, for a kb without Redis.

    ``limits`` counts in memory too, but its asynchronous store schedules an expiry task on every hit
    and its synchronous one starts a timer thread: 145 µs a hit on an idle server here, against 1 ms
    for a whole bare request (`make bench`). This is the same algorithm as its sliding window counter,
    in a dict: a hit is refused when the previous window's count, weighted by the share of it still
    inside the sliding window, plus the current window's, rounded down, would pass the limit. It runs
    on the event loop only, so it needs no lock.
    """

    PRUNE_EVERY = 4096
    """Hits between two sweeps of buckets idle for two windows: a crowd of addresses must not grow it for ever."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._windows: dict[tuple[int, int, str], tuple[int, int, int]] = {}
        """(limit, window seconds, bucket) → (window number, hits in the previous window, hits in this one)."""
        self._hits = 0

    def __len__(self) -> int:
        """How many buckets are held."""
        return len(self._windows)

    def hit(self, item: limits.RateLimitItem, bucket: str) -> int | None:
        """Count one hit of ``item`` in ``bucket``: None when allowed, else the seconds until one would be."""
        length = item.get_expiry()
        now = self._clock()
        window = int(now // length)
        key = (item.amount, length, bucket)
        number, previous, current = self._windows.get(key, (window, 0, 0))
        if number != window:
            previous, current = (current if number == window - 1 else 0), 0
        elapsed = now / length - window
        self._windows[key] = (window, previous, current)
        self._prune(window)
        if math.floor(previous * (1 - elapsed) + current) + 1 > item.amount:
            return self._retry_after(item.amount, length, previous, current, elapsed)
        self._windows[key] = (window, previous, current + 1)
        return None

    @staticmethod
    def _retry_after(limit: int, length: int, previous: int, current: int, elapsed: float) -> int:
        """The first whole second, from now, at which the weighted count leaves room for one more hit."""
        if current + 1 > limit:  # this window is full: into the next, until this one's weight has decayed enough
            return math.floor(((1 - elapsed) + (1 - limit / current if current else 1)) * length) + 1
        # Only the previous window's weight is in the way.
        return math.floor((1 - (limit - current) / previous - elapsed) * length) + 1

    def _prune(self, window: int) -> None:
        self._hits += 1
        if self._hits % self.PRUNE_EVERY == 0:
            stale = [key for key, (number, _, _) in self._windows.items() if number < window - 1]
            for key in stale:
                del self._windows[key]


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

