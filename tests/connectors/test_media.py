"""connectors.media over real HTTP: content-addressed files, the size cap (declared and
streamed), failures recorded with their reason, headers sent to the download."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from connectors.media import MediaStore, failed, media_store_for


@pytest.fixture
async def files() -> AsyncIterator[str]:
    async def serve(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name == "secret" and request.headers.get("Authorization") != "Bearer t":
            return web.Response(status=401)
        if name == "chunked":  # no Content-Length: the cap applies while reading
            resp = web.StreamResponse()
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            for _ in range(10):
                await resp.write(b"x" * 1000)
            await resp.write_eof()
            return resp
        if name == "missing":
            return web.Response(status=404)
        return web.Response(body=b"PDF-1.4 " + name.encode(), content_type="application/pdf")

    app = web.Application()
    app.router.add_get("/{name}", serve)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_same_bytes_are_stored_once_under_their_hash(files: str, tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "att", 10_000)
    async with aiohttp.ClientSession() as http:
        one = await media.download(http, f"{files}/a", name="счёт.pdf")
        two = await media.download(http, f"{files}/a", name="другое имя.pdf")
        auth = await media.download(http, f"{files}/secret", name="s.pdf",
                                    headers={"Authorization": "Bearer t"})
    data = b"PDF-1.4 a"
    assert one.location == two.location and Path(one.location).read_bytes() == data
    assert Path(one.location).name == hashlib.sha256(data).hexdigest() + ".pdf"
    assert (one.name, two.name, one.mime, one.size) == ("счёт.pdf", "другое имя.pdf",
                                                        "application/pdf", len(data))
    assert auth.location and Path(auth.location).read_bytes() == b"PDF-1.4 secret"
    assert len(list((tmp_path / "att").rglob("*.pdf"))) == 2


async def test_failures_keep_the_message_and_say_why(files: str, tmp_path: Path) -> None:
    media = MediaStore(tmp_path / "att", 5_000)
    async with aiohttp.ClientSession() as http:
        big = await media.download(http, f"{files}/chunked", name="big.bin")
        gone = await media.download(http, f"{files}/missing", name="gone.jpg", mime="image/jpeg")
        denied = await media.download(http, f"{files}/secret", name="s.pdf")
        refused = await media.download(http, "http://127.0.0.1:1/x", name="x.txt")
    assert big.location == "" and "big.bin" in big.name and "MiB" in big.name
    assert gone.location == "" and "HTTP 404" in gone.name and gone.mime == "image/jpeg"
    assert "HTTP 401" in denied.name
    assert refused.location == "" and "not downloaded" in refused.name
    assert not (tmp_path / "att").exists() or not list((tmp_path / "att").rglob("*.*"))
    assert failed("", "", "why").name.endswith("(not downloaded: why)")


def test_options_choose_the_folder_and_cap(tmp_path: Path) -> None:
    media = media_store_for({"media_dir": str(tmp_path / "m"), "max_media_bytes": 7})
    assert (media.root, media.max_bytes) == (tmp_path / "m", 7)
    assert media_store_for(None).root.name == "attachments"
