"""The web chat page in headless Chromium: a quoted reply shows its quote block as text,
a visitor attaches a file (stored, shown), an oversized one is refused on the page with
the size cap, and an operator's file appears as a download link."""

from __future__ import annotations

from pathlib import Path

from storage.inputs import AttachmentIn
from storage.models import INBOUND
from storage.store import Store
from tests.connectors.gateway_helpers import eventually, running, spec
from tests.connectors.test_webchat_browser import chromium, pytestmark  # noqa: F401

CAP = 1000


async def test_quote_block_uploads_and_operator_links(tmp_path: Path,
                                                      sqlite_store: Store) -> None:
    web = spec(sqlite_store, "webchat", "web", media_dir=str(tmp_path / "media"),
               max_upload_bytes=CAP)
    operator = sqlite_store.ensure_operator("Anna", "operator")
    small, big = tmp_path / "фото.txt", tmp_path / "big.bin"
    small.write_bytes(b"hello file")
    big.write_bytes(b"x" * (CAP + 1))
    async with running(sqlite_store, [web]) as gw, chromium(tmp_path) as page:
        await page.call("Page.navigate", url=f"{gw.external_url()}/chat/web")
        await page.until("document.getElementById('status').textContent === 'Connected'")
        await page.js("document.getElementById('input').focus(); true")
        await page.call("Input.insertText", text="Есть <b>синий</b>?")
        await page.js("document.getElementById('send').click(); true")
        task = await eventually(lambda: (p := sqlite_store.list_tasks()).items and p.items[0])
        [asked] = [m for m in sqlite_store.thread_before(task.id).items if m.kind == INBOUND]

        sqlite_store.reply(task.id, operator.id, "Да", quote_message_id=asked.id)
        quote = await page.until("(() => { const q = document.querySelector("
                                 "'#log .msg.operator .quote'); return q && q.textContent; })()")
        assert quote == "Есть <b>синий</b>?"
        assert await page.js("document.querySelectorAll('#log b').length") == 0

        async def attach(path: Path) -> None:
            found = await page.call("Runtime.evaluate",
                                    expression="document.getElementById('file')")
            await page.call("DOM.setFileInputFiles", files=[str(path)],
                            objectId=found["result"]["objectId"])

        await attach(big)
        error = await page.until("(() => { const m = document.querySelector("
                                 "'#log .msg.error .meta'); return m && m.textContent; })()")
        assert error == "The file is too large: at most 1 KB."
        await attach(small)

        def uploaded() -> object:
            return [m for m in sqlite_store.thread_before(task.id).items
                    if m.kind == INBOUND and m.attachments]

        [stored] = await eventually(uploaded)
        assert stored.attachments[0].name == "фото.txt"
        assert Path(stored.attachments[0].location).read_bytes() == b"hello file"
        await page.until("Array.from(document.querySelectorAll('#log .msg.visitor .files a'))"
                         ".some(a => a.textContent === '📎 фото.txt')")

        invoice = tmp_path / "invoice.pdf"
        invoice.write_bytes(b"%PDF")
        sqlite_store.reply(task.id, operator.id, "Счёт", attachments=(AttachmentIn(
            "invoice.pdf", "application/pdf", 4, str(invoice)),))
        href = await page.until("(() => { const a = Array.from(document.querySelectorAll("
                                "'#log .msg.operator .files a')).find(a => a.textContent === "
                                "'📎 invoice.pdf'); return a && a.href; })()")
        body = await page.js(f"fetch({href!r}).then(r => r.text())")
        assert body == "%PDF"
    assert len(uploaded()) == 1
