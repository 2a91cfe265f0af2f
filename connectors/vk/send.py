"""Outbound VK: ``messages.send`` with a stable ``random_id``, VK's errors mapped.

* ``random_id`` makes a repeated send a no-op: VK checks it against the community's
  recent messages (required since API 5.90; error 100 without it). It must be the same
  on every retry of one message and must not repeat after a reinstall, or a fresh
  database's first reply would be swallowed as a "repeat" of an old one. So it is
  ``(salt + message_id · 64 + part) mod (2³¹ − 1) + 1``: the salt is random, drawn once
  per channel and database and kept in the store; within one database consecutive
  messages never collide (no birthday problem), and a new database starts elsewhere.
* Text longer than 9,000 characters (``messages.send`` ``message`` ``maxLength`` in
  ``VKCOM/vk-api-schema`` ``messages/methods.json``) is split at natural boundaries;
  each part has its own ``random_id``, so a retry resends every part and VK drops the
  ones it already has.
* Errors arrive with HTTP 200 (``errors.json``): 6 "Too many requests per second", 9
  "Flood control" and 10 "Internal server error" are transient; 5 (authorization
  failed) is transient too — fixing the token lets the message go; anything else (900
  blacklist, 901 no permission, 902 privacy, 914 too long, 100 bad parameter) is
  permanent, shown with VK's own text.
* Files are uploaded first (``upload.py``) and sent as ``attachment`` with the first
  part; the uploaded attachment strings are kept while the message is being sent, so
  a retry reuses them.
* ``meta["quote_external_id"]`` quotes a client message natively: ``reply_to`` for a
  message id, ``forward`` with ``is_reply`` for a group-chat ``peer_cmid`` key.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from connectors.base import PermanentSendError, SendError, SendResult, TransientSendError
from connectors.telegram.send import split_text
from connectors.vk.api import VkApi, VkApiError, VkNetworkError
from connectors.vk.upload import upload
from storage.i18n import _
from storage.rows import OutboxItem

TEXT_LIMIT = 9000
RANDOM_ID_MODULUS = 2 ** 31 - 1
PARTS_PER_MESSAGE = 64
TRANSIENT = {6: 1.0, 9: 30.0, 10: None}
AUTH_FAILED = 5
AUTH_RETRY = 60.0
ATTACHMENTS_PER_MESSAGE = 10

GetUploaded = Callable[[int], Awaitable[list[str]]]
SetUploaded = Callable[[int, list[str]], Awaitable[None]]


def random_id(salt: int, message_id: int, part: int = 0) -> int:
    """The non-zero ``random_id`` of one part of one outbound message (see module doc)."""
    return (salt + message_id * PARTS_PER_MESSAGE + part) % RANDOM_ID_MODULUS + 1


def to_send_error(err: Exception) -> SendError:
    if isinstance(err, VkApiError):
        if err.code in TRANSIENT:
            return TransientSendError(err.message, TRANSIENT[err.code])
        if err.code == AUTH_FAILED:
            return TransientSendError(err.message, AUTH_RETRY)
        return PermanentSendError(err.message)
    return TransientSendError(str(err) or type(err).__name__)


def quote_params(quote: object) -> dict[str, object]:
    """``reply_to`` or ``forward`` for a quoted client message's external id."""
    if not isinstance(quote, str) or not quote:
        return {}
    if quote.isdigit():
        return {"reply_to": int(quote)}
    peer, sep, cmid = quote.partition("_")
    if sep and peer.lstrip("-").isdigit() and cmid.isdigit():
        return {"forward": json.dumps({"peer_id": int(peer), "conversation_message_ids":
                                       [int(cmid)], "is_reply": True})}
    return {}


async def send_item(api: VkApi, item: OutboxItem, salt: int, get_uploaded: GetUploaded,
                    set_uploaded: SetUploaded) -> SendResult:
    """Upload the files, then send the text parts; the files go with the first part (at
    most 10 a message; more go in further messages)."""
    try:
        peer_id = int(item.chat_id)
    except ValueError:
        raise PermanentSendError(_("{chat!r} is not a VK peer id.").format(
            chat=item.chat_id)) from None
    uploaded: list[str] = []
    if item.attachments:
        uploaded = await get_uploaded(item.message_id) if item.attempts > 1 else []
        for attachment in item.attachments[len(uploaded):]:
            try:
                uploaded.append(await upload(api, peer_id, attachment))
            except (VkApiError, VkNetworkError) as err:
                raise to_send_error(err) from err
            await set_uploaded(item.message_id, uploaded)
    parts = split_text(item.text or "", TEXT_LIMIT)
    groups = [uploaded[i:i + ATTACHMENTS_PER_MESSAGE]
              for i in range(0, len(uploaded), ATTACHMENTS_PER_MESSAGE)]
    if not parts and not groups:
        raise PermanentSendError(_("Nothing to send: the message is empty."))
    ids: list[str] = []
    for index in range(max(len(parts), len(groups))):
        params: dict[str, object] = {"peer_id": peer_id, "random_id": random_id(
            salt, item.message_id, index)}
        if index < len(parts):
            params["message"] = parts[index]
        if index < len(groups):
            params["attachment"] = ",".join(groups[index])
        if index == 0:
            params.update(quote_params((item.meta or {}).get("quote_external_id")))
        try:
            result = await api.call("messages.send", params)
        except (VkApiError, VkNetworkError) as err:
            raise to_send_error(err) from err
        if isinstance(result, list) and result and isinstance(result[0], dict):
            result = result[0].get("message_id")
        if not isinstance(result, int) or isinstance(result, bool):
            raise TransientSendError(_("VK answered messages.send without a message id."))
        ids.append(str(result))
    if uploaded:
        await set_uploaded(item.message_id, [])
    return SendResult(external_id=ids[0], extra_ids=tuple(ids[1:]))
