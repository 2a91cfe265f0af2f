"""Outbound files through VK's upload servers, as ``messages.send`` attachment strings.

VK takes files in three steps (https://dev.vk.com/ru/api/upload/photo-in-message,
https://dev.vk.com/ru/api/upload/document-in-message):

* images (JPEG, PNG, GIF up to 50 MB): ``photos.getMessagesUploadServer(peer_id)`` →
  ``upload_url``; a multipart POST of the field ``photo`` there → ``{"server", "photo",
  "hash"}``; ``photos.saveMessagesPhoto(server, photo, hash)`` → ``[{"id", "owner_id",
  "access_key"?}]`` → the attachment ``photo{owner_id}_{id}[_{access_key}]``;
* anything else: ``docs.getMessagesUploadServer(type=doc, peer_id)`` → ``upload_url``;
  the field ``file`` → ``{"file"}``; ``docs.save(file, title)`` → ``{"type": "doc",
  "doc": {"id", "owner_id"}}`` → ``doc{owner_id}_{id}``.

Upload servers answer ``{"error": "…"}`` (a string, HTTP 200) when they refuse a file.
Only local files are uploaded; the attachment strings of one message are kept in the
store while it is being sent, so a retry does not upload again.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp

from connectors.base import PermanentSendError
from connectors.vk.api import VkApi, VkNetworkError
from storage.i18n import _

PHOTO_MIMES = frozenset({"image/jpeg", "image/jpg", "image/png", "image/gif"})
PHOTO_MAX_BYTES = 50 * 1024 * 1024


def _safe_name(name: str) -> str:
    cleaned = "".join("_" if (ord(c) < 32 or c in '"\\\x7f') else c for c in name).strip()
    return cleaned or "file"


async def read_local(name: str, location: str) -> tuple[bytes, str]:
    """The bytes of a local attachment and its file name; PermanentSendError if none."""
    if location.startswith(("http://", "https://")) or not location:
        raise PermanentSendError(_("VK takes files only as uploads, and {name} is not a local "
                                   "file.").format(name=name))
    path = Path(location.removeprefix("file://")).expanduser()
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as err:
        raise PermanentSendError(_("The attachment {name} cannot be read: {error}").format(
            name=name, error=err.strerror or err)) from err
    return data, _safe_name(name or path.name)


async def _post_file(api: VkApi, url: str, field: str, filename: str, data: bytes,
                     mime: str) -> dict[str, Any]:
    form = aiohttp.FormData(quote_fields=False)
    form.add_field(field, data, filename=filename, content_type=mime)
    try:
        async with api.session.post(url, data=form, timeout=aiohttp.ClientTimeout(
                total=api.request_timeout * 4)) as resp:
            status, body = resp.status, await resp.read()
    except (TimeoutError, aiohttp.ClientError) as err:
        raise VkNetworkError(_("Cannot upload {name} to VK: {error}").format(
            name=filename, error=str(err) or type(err).__name__)) from err
    try:
        found = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        found = None
    if not isinstance(found, dict):
        raise VkNetworkError(_("VK's upload server answered HTTP {status}.").format(status=status))
    if found.get("error"):
        raise PermanentSendError(_("VK refused the file {name}: {error}").format(
            name=filename, error=found["error"]))
    return found


def _upload_url(found: Any) -> str:
    url = found.get("upload_url") if isinstance(found, dict) else None
    if not isinstance(url, str) or not url:
        raise VkNetworkError(_("VK gave no upload address."))
    return url


async def upload(api: VkApi, peer_id: int, attachment: tuple[Any, ...]) -> str:
    """One attachment uploaded; its ``messages.send`` attachment string."""
    name, mime, _size, location = attachment
    data, filename = await read_local(str(name), str(location))
    mime = str(mime or "application/octet-stream").lower()
    if mime in PHOTO_MIMES and len(data) <= PHOTO_MAX_BYTES:
        server = _upload_url(await api.call("photos.getMessagesUploadServer",
                                            {"peer_id": peer_id}))
        sent = await _post_file(api, server, "photo", filename, data, mime)
        saved = await api.call("photos.saveMessagesPhoto", {
            "server": sent.get("server"), "photo": sent.get("photo"), "hash": sent.get("hash")})
        photo = saved[0] if isinstance(saved, list) and saved else None
        if not isinstance(photo, dict) or "id" not in photo or "owner_id" not in photo:
            raise VkNetworkError(_("VK saved the photo without an id."))
        key = f"_{photo['access_key']}" if photo.get("access_key") else ""
        return f"photo{photo['owner_id']}_{photo['id']}{key}"
    server = _upload_url(await api.call("docs.getMessagesUploadServer",
                                        {"type": "doc", "peer_id": peer_id}))
    sent = await _post_file(api, server, "file", filename, data, mime)
    saved = await api.call("docs.save", {"file": sent.get("file"), "title": filename})
    doc = saved.get("doc") if isinstance(saved, dict) else None
    if not isinstance(doc, dict) or "id" not in doc or "owner_id" not in doc:
        raise VkNetworkError(_("VK saved the document without an id."))
    return f"doc{doc['owner_id']}_{doc['id']}"
