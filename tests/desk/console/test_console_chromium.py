"""The console in real headless Chromium: sign in, filter, open a ticket, resolve it with a note.

Screenshots go to the test's temporary folder; with ``JIESU_CONSOLE_SCREENSHOTS=DIR`` (the
docs use ``docs/console``) they are also written there.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from desk.synthetic import generate
from tests.auxil.browser import Browser, chromium_path
from tests.desk.console.conftest import KEY, Gateway, add_ticket

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (make system-deps)"),
]
CDP_PORT = 22201  # the console helper's port range


async def _go(browser: Browser, url: str, expect: str) -> None:
    await browser.evaluate(f"window.__left = true; location.href = {json.dumps(url)}; true")
    await _arrived(browser, expect)


async def _arrived(browser: Browser, expect: str, element: str = "main") -> None:
    """The new page is loaded: ``window.__left`` (set before leaving) is gone, URL and element there."""
    await browser.wait_for_js(
        f"!window.__left && location.href.includes({json.dumps(expect)})"
        f" && document.readyState === 'complete' && !!document.querySelector({json.dumps(element)})"
    )


def _keep_copy(path: Path, folder: Path) -> None:
    from PIL import Image  # matplotlib's own dependency

    folder.mkdir(parents=True, exist_ok=True)
    # 256 colours keep the docs' copies small.
    Image.open(path).convert("RGB").quantize(256).save(folder / path.name, optimize=True)


async def _shot(browser: Browser, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    await browser.screenshot(path)
    keep = os.environ.get("JIESU_CONSOLE_SCREENSHOTS")
    if keep:
        await asyncio.to_thread(_keep_copy, path, Path(keep))
    return path


async def _conversation(db: Path, sender: str) -> None:
    """A short conversation written by Rasa's own SQL tracker store."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    turns = [
        ("user", "望京西园四区小区门口的井盖丢了，晚上很危险"),
        ("bot", "好的，请问具体在什么地方？"),
        ("user", "朝阳区望京西园四区南门"),
        ("bot", "请核对：排水与井盖，朝阳区望京西园四区南门。确认提交吗？"),
        ("user", "确认提交"),
    ]
    t0 = time.time() - 600
    events = [
        UserUttered(text, timestamp=t0 + i * 20)
        if who == "user"
        else BotUttered(text, timestamp=t0 + i * 20)
        for i, (who, text) in enumerate(turns)
    ]
    await SQLTrackerStore(dialect="sqlite", db=str(db)).save(
        DialogueStateTracker.from_events(sender, events)
    )


async def test_sign_in_filter_open_and_resolve(sqlite_gateway: Gateway, tmp_path: Path) -> None:
    gateway = sqlite_gateway
    generate(gateway.desk.engine, None, 300, now=time.time(), tz=gateway.desk.tz, days=20)
    await _conversation(gateway.data_dir / "tracker.db", "web:chromium-1")
    mine = add_ticket(
        gateway,
        category="排水与井盖",
        channel="web",
        address_district="朝阳区",
        conversation_id="web:chromium-1",
        text="望京西园四区小区门口的井盖丢了，晚上很危险",
    )
    srid = mine.service_request_id
    base = str(gateway.client.make_url("/desk/"))
    browser = Browser(CDP_PORT)
    await browser.start(base)
    try:
        await browser.send("Emulation.setDeviceMetricsOverride", width=1200, height=820,
                           deviceScaleFactor=1, mobile=False)  # fmt: skip
        await _arrived(browser, "/desk/login", "input[name=api_key]")
        await _shot(browser, tmp_path, "01-login")
        await browser.evaluate(
            f"document.querySelector('input[name=api_key]').value = {json.dumps(KEY)};"
            "window.__left = true; document.querySelector('form').requestSubmit(); true"
        )
        await _arrived(browser, "/desk/tickets", "#total")
        total = await browser.evaluate("document.getElementById('total').textContent")
        assert total == "301"
        await _shot(browser, tmp_path, "02-list")

        await browser.evaluate(
            "document.querySelector('select[name=channel]').value = 'web';"
            "document.querySelector('input[name=district]').value = '朝阳区';"
            "window.__left = true; document.getElementById('apply').click(); true"
        )
        await _arrived(browser, "district=", "#total")
        shown = int(await browser.evaluate("document.getElementById('total').textContent"))
        expected = sum(
            1
            for t in gateway.desk.list(limit=1000)
            if t.attributes.get("channel") == "web"
            and t.attributes.get("address_district") == "朝阳区"
        )
        assert shown == expected and 1 <= shown < 301
        await _shot(browser, tmp_path, "03-filtered")

        clicked = await browser.evaluate(
            f"(() => {{ const a = document.querySelector('a[href=\"/desk/tickets/{srid}\"]');"
            " if (a) { window.__left = true; a.click(); return true; } return false; })()"
        )
        assert clicked, "the ticket is on the first filtered page (newest first)"
        await _arrived(browser, f"/desk/tickets/{srid}", "#srid")
        assert await browser.evaluate("document.getElementById('srid').textContent") == srid
        page_text = await browser.evaluate("document.body.innerText")
        assert "13800138000" in page_text and "朝阳区望京西园四区南门" in page_text
        await _shot(browser, tmp_path, "04-ticket")

        asked = await browser.evaluate(
            "window.__left = true; window.confirm = (m) => { window.__asked = m; return true; };"
            "const f = document.getElementById('status-form');"
            "f.querySelector('select[name=status]').value = 'resolved';"
            "f.querySelector('textarea[name=note]').value = '已更换井盖';"
            "f.querySelector('button').click(); window.__asked"
        )
        assert asked == "确定更改状态？"  # console.js asks before the change is sent
        await _arrived(browser, "done=status", "#message")
        assert (
            await browser.evaluate("document.getElementById('message').textContent") == "状态已更新"
        )
        assert "已更换井盖" in await browser.evaluate("document.body.innerText")
        await _shot(browser, tmp_path, "05-resolved")
        await _go(browser, base + "reports?period=week", "reports")
        await browser.wait_for_js(
            "document.images.length === 6 && [...document.images].every(i => i.complete)"
        )
        await _shot(browser, tmp_path, "06-report")
    finally:
        await browser.close()
    ticket = gateway.desk.get(srid)
    assert ticket.status == "resolved"
    assert ticket.history[-1]["note"] == "已更换井盖" and ticket.history[-1]["actor"] == "console"
    assert (tmp_path / "05-resolved.png").stat().st_size > 10_000
