"""Inbound Telegram files: ``getFile``, then a download into the attachments folder.

A Telegram message carries only ``file_id``s (:mod:`connectors.telegram.parse` puts them
in ``AttachmentIn.location``). Per the Bot API (https://core.telegram.org/bots/api#getfile,
#file): ``getFile(file_id)`` answers a ``File`` with a ``file_path``; the bytes are at
``{api_base}/file/bot{token}/{file_path}``, a link valid for at least an hour; bots can
download files of up to 20 MB (a larger one is refused with ``400 Bad Request: file is
too big``).

Each file goes through :class:`connectors.media.MediaStore` (content-addressed, size
cap). Nothing here raises for a file: a failed one is kept as an attachment without a
location whose name says why (:func:`connectors.media.failed`), so the client's message
is stored all the same. The download link holds the bot token, so every reason is
masked before it is stored.
"""

from __future__ import annotations

import asyncio
import dataclasses

from connectors.media import MediaStore, failed
from connectors.telegram.api import BotApi, TelegramApiError, TelegramNetworkError, mask_token
from storage.i18n import _
from storage.inputs import AttachmentIn, Inbound
from storage.ports import ConnectorStore

BOT_API_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile: "files of up to 20MB in size"


def cap_for(media: MediaStore) -> int:
    """The effective cap: the channel's ``max_media_bytes`` and Telegram's own limit."""
    return min(media.max_bytes, BOT_API_DOWNLOAD_LIMIT)


async def fetch_file(api: BotApi, media: MediaStore, att: AttachmentIn) -> AttachmentIn:
    """One attachment whose ``location`` is a file_id, downloaded (or failed, with why)."""
    file_id = att.location
    if not file_id:
        return att
    if att.size > cap_for(media):
        return _masked(api, failed(att.name, att.mime, _too_large(media)))
    try:
        info = await api.get_file(file_id)
    except TelegramApiError as err:
        return _masked(api, failed(att.name, att.mime, err.description))
    except TelegramNetworkError as err:
        return _masked(api, failed(att.name, att.mime, str(err)))
    file_path = info.get("file_path")
    if not isinstance(file_path, str) or not file_path:
        return failed(att.name, att.mime, _("Telegram gave no file_path for it"))
    size = info.get("file_size")
    if isinstance(size, int) and not isinstance(size, bool) and size > cap_for(media):
        return _masked(api, failed(att.name, att.mime, _too_large(media)))
    capped = MediaStore(media.root, cap_for(media))
    got = await capped.download(api.session, api.file_url(file_path), name=att.name,
                                mime=att.mime)
    return got if got.location else _masked(api, got)


async def fetch_files(api: BotApi, media: MediaStore, inbound: Inbound) -> Inbound:
    """``inbound`` with every attachment downloaded, in order."""
    if not inbound.attachments:
        return inbound
    files = [await fetch_file(api, media, att) for att in inbound.attachments]
    return dataclasses.replace(inbound, attachments=tuple(files))


async def with_files(api: BotApi | None, media: MediaStore, store: ConnectorStore,
                     inbound: Inbound) -> Inbound:
    """What the connector ingests: the message with its files downloaded — unless it is
    already stored (a redelivery the store will drop: nothing to fetch again)."""
    if not inbound.attachments or api is None:
        return inbound
    if inbound.external_id and await asyncio.to_thread(
            store.find_message, inbound.channel_id, inbound.external_id):
        return inbound
    return await fetch_files(api, media, inbound)


def _too_large(media: MediaStore) -> str:
    cap = cap_for(media)
    if cap == BOT_API_DOWNLOAD_LIMIT:
        return _("larger than the 20 MB a bot may download from Telegram")
    return _("larger than {mib:.0f} MiB").format(mib=cap / 1024 / 1024)


def _masked(api: BotApi, att: AttachmentIn) -> AttachmentIn:
    return dataclasses.replace(att, name=mask_token(att.name, api.token))
