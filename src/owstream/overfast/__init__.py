"""The OverFast API: the HTTP client (the only place httpx is used), its rate limiter, the typed
response models and an OverFast-compatible simulator for the offline demo and tests."""

from owstream.overfast.client import ApiResponse, OverFastClient, Snapshot
from owstream.overfast.ratelimit import RateLimiter

__all__ = ["ApiResponse", "OverFastClient", "RateLimiter", "Snapshot"]
