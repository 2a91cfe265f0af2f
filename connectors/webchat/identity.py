"""Visitor identity: tokens only the server issues, and the conversation they open.

A visitor is whoever holds a token; the page keeps it in localStorage and presents it
on every connection. So a token must be *issued* by the server, not made up by the
page (or an attacker claiming ``aaaaaaaaaaaaaaaaaaaaaaaa``): it is 16 random bytes and
an HMAC of them under a secret kept in the database (``store.get_state``), bound to
the channel. A token that does not verify gets a fresh identity, never the claimed
one. Tokens stay unguessable (128 random bits) and survive restarts (the secret is
durable, shared by every process on the database).

The conversation (``chat_id``) is a one-way hash of the token: the console shows the
chat id, never the token, and knowing a chat id does not let anyone read the thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from storage.ports import ConnectorStore

SECRET_KEY = "webchat:token-secret"
RANDOM_BYTES = 16
MAC_BYTES = 16


def chat_id_for(token: str) -> str:
    """The conversation id for a visitor token (a one-way hash: the token stays secret)."""
    return "web-" + hashlib.sha256(token.encode()).hexdigest()[:24]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def load_secret(store: ConnectorStore) -> bytes:
    """The database's token secret, created on first use (blocking: call in a thread).

    Read and created in one write transaction, so two channels (or two processes on
    SQLite, whose write transactions are exclusive) starting at once agree on it."""
    value = store.get_state(SECRET_KEY)
    if not value:
        with store.transaction():
            value = store.get_state(SECRET_KEY)
            if not value:
                value = secrets.token_hex(32)
                store.set_state(SECRET_KEY, value)
    return bytes.fromhex(value)


class Tokens:
    """Issue and verify one channel's visitor tokens."""

    def __init__(self, secret: bytes, channel_id: int) -> None:
        self._secret = secret
        self._channel = str(channel_id).encode()

    def _mac(self, nonce: str) -> str:
        digest = hmac.new(self._secret, self._channel + b":" + nonce.encode(), hashlib.sha256)
        return _b64(digest.digest()[:MAC_BYTES])

    def issue(self) -> str:
        nonce = _b64(secrets.token_bytes(RANDOM_BYTES))
        return nonce + self._mac(nonce)

    def valid(self, token: object) -> bool:
        if not isinstance(token, str) or len(token) != 44 or not token.isascii():
            return False
        nonce, mac = token[:22], token[22:]
        return hmac.compare_digest(mac, self._mac(nonce))
