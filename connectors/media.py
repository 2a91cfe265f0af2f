"""Inbound media: download a client's file into a content-addressed attachments folder.

The whole API (shared by every connector that receives files):

``store = MediaStore(root, max_bytes)``
    ``root`` is the attachments folder (:func:`default_root` when the channel's options
    do not name one, see :func:`media_store_for`); ``max_bytes`` the size cap.

``att = await store.download(session, url, name=..., mime=..., headers=...)``
    always returns an :class:`storage.inputs.AttachmentIn`, never raises for a failed
    download (the client's message must still be stored):

    * success: ``location`` is the absolute path of ``root/ab/<sha256><.ext>`` (the same
      bytes are stored once), ``size`` the real size, ``mime`` the server's type when the
      caller did not know it;
    * failure (too large, HTTP error, network, timeout, disk): ``location`` is ``""``
      and ``name`` ends with ``(not downloaded: <reason>)`` — the reason is what the
      operator sees under the message. :func:`failed` builds the same for a failure the
      caller found itself (e.g. an API refusing to say where the file is).

``media_store_for(options)``
    the store a connector uses: ``options["media_dir"]`` or :func:`default_root`, and
    ``options["max_media_bytes"]`` or :data:`DEFAULT_MAX_BYTES`.

Headers (a bearer token) are sent only to the URL given, and never appear in a reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import mimetypes
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp

from storage.i18n import _
from storage.inputs import AttachmentIn

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
DOWNLOAD_TIMEOUT = 120.0
_CHUNK = 64 * 1024


def default_root() -> Path:
    """``<user data dir>/switchboard/attachments``, next to the default database."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("switchboard", appauthor=False)) / "attachments"


def media_store_for(options: Mapping[str, Any] | None) -> MediaStore:
    opts = options or {}
    root = opts.get("media_dir") or default_root()
    cap = opts.get("max_media_bytes") or DEFAULT_MAX_BYTES
    return MediaStore(Path(str(root)).expanduser(), int(cap))


def failed(name: str, mime: str, reason: str) -> AttachmentIn:
    """An attachment that could not be fetched: no location, the reason in its name."""
    label = name or _("file")
    return AttachmentIn(name=_("{name} (not downloaded: {reason})").format(
        name=label, reason=reason), mime=mime or "application/octet-stream", size=0,
        location="")


class MediaStore:
    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    async def download(self, session: aiohttp.ClientSession, url: str, *, name: str,
                       mime: str = "", headers: Mapping[str, str] | None = None,
                       timeout: float = DOWNLOAD_TIMEOUT) -> AttachmentIn:
        """Fetch ``url`` into the folder; see the module docstring for the result."""
        try:
            async with session.get(url, headers=dict(headers or {}),
                                   timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
                if resp.status != 200:
                    return failed(name, mime, _("HTTP {status}").format(status=resp.status))
                if resp.content_length is not None and resp.content_length > self.max_bytes:
                    return failed(name, mime, self._too_large())
                data = bytearray()
                async for chunk in resp.content.iter_chunked(_CHUNK):
                    data += chunk
                    if len(data) > self.max_bytes:
                        return failed(name, mime, self._too_large())
                served = resp.headers.get("Content-Type", "").split(";")[0].strip()
        except TimeoutError:
            return failed(name, mime, _("the download timed out"))
        except aiohttp.ClientError as err:
            return failed(name, mime, str(err) or type(err).__name__)
        mime = mime or served or "application/octet-stream"
        try:
            path = await asyncio.to_thread(self._save, bytes(data), name, mime)
        except OSError as err:
            return failed(name, mime, _("cannot save the file: {error}").format(
                error=err.strerror or err))
        return AttachmentIn(name=name or path.name, mime=mime, size=len(data),
                            location=str(path))

    async def save(self, data: bytes, *, name: str, mime: str) -> AttachmentIn:
        """Store bytes the caller already holds (an upload) content-addressed; raises
        :class:`OSError` when the disk refuses them."""
        path = await asyncio.to_thread(self._save, data, name, mime)
        return AttachmentIn(name=name or path.name, mime=mime or "application/octet-stream",
                            size=len(data), location=str(path))

    def _too_large(self) -> str:
        return _("larger than {mib:.0f} MiB").format(mib=self.max_bytes / 1024 / 1024)

    def _save(self, data: bytes, name: str, mime: str) -> Path:
        digest = hashlib.sha256(data).hexdigest()
        ext = Path(name).suffix.lower() if name and len(Path(name).suffix) <= 10 else ""
        ext = ext or mimetypes.guess_extension(mime) or ""
        ext = "".join(c for c in ext if c.isalnum() or c == ".")
        folder = self.root / digest[:2]
        path = folder / f"{digest}{ext}"
        if path.exists() and path.stat().st_size == len(data):
            return path.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path.resolve()
