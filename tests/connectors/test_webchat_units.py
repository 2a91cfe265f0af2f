"""Units of the web chat's and server's guards: the token bucket (on a fake clock), the
origin policy, and server-issued visitor tokens."""

from __future__ import annotations

import pytest

from connectors.ratelimit import RateLimiter
from connectors.webchat.identity import Tokens, load_secret
from connectors.webchat.origin import OriginPolicy, normalize
from storage.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate_and_says_how_long_to_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(2.0, 3, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)
    assert limiter.take("b") == 0.0  # each key has its own bucket
    clock.now += 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == pytest.approx(0.5)
    clock.now += 60
    assert [limiter.take("a") for _ in range(4)][-1] > 0  # refills to the burst, not beyond


@pytest.mark.parametrize(("origin", "host", "allowed"), [
    (None, "chat.example:8780", True),  # not a browser's cross-site request
    ("http://127.0.0.1:8780", "127.0.0.1:8780", True),  # the server's own
    ("https://chat.example", "chat.example", True),  # behind a TLS proxy
    ("https://shop.example", "127.0.0.1:8780", True),  # allowed_origins
    ("https://shop.example:443", "127.0.0.1:8780", True),
    ("https://support.example.com", "127.0.0.1:8780", True),  # public_url
    ("http://evil.example", "127.0.0.1:8780", False),
    ("http://127.0.0.1:9999", "127.0.0.1:8780", False),
    ("null", "127.0.0.1:8780", False),
    ("https://shop.example.evil.example", "127.0.0.1:8780", False),
])
def test_origin_policy(origin: str | None, host: str, allowed: bool) -> None:
    policy = OriginPolicy(["https://shop.example", "not an origin"],
                          "https://support.example.com/base/")
    assert policy.allows(origin, host) is allowed


def test_normalize() -> None:
    assert normalize("HTTPS://Shop.Example:443") == "https://shop.example"
    assert normalize("http://[::1]:8780") == "http://[::1]:8780"
    assert normalize("ftp://x") is None and normalize("http://x:99999") is None


def test_tokens_are_issued_by_the_server_and_bound_to_the_channel(sqlite_store: Store) -> None:
    secret = load_secret(sqlite_store)
    assert load_secret(sqlite_store) == secret  # durable: the same on every start
    tokens = Tokens(secret, 1)
    issued = {tokens.issue() for _ in range(100)}
    assert len(issued) == 100 and all(tokens.valid(t) for t in issued)
    token = issued.pop()
    assert not Tokens(secret, 2).valid(token)
    assert not Tokens(b"another database", 1).valid(token)
    tampered = token[:-1] + ("x" if token[-1] != "x" else "y")
    for forged in ("a" * 24, "a" * 44, tampered, "", None, 42, "é" * 44):
        assert not tokens.valid(forged)
