"""The web chat page in real headless Chromium: type, click buttons, get a ticket."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.auxil.browser import Browser, chromium_path
from tests.conftest import DESK_KEY, RunningStack, free_port

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(chromium_path() is None, reason="chromium not installed (make system-deps)"),
]

LAST_BOT = "[...document.querySelectorAll('.msg.bot .bubble')].map(b => b.textContent).join('\\n')"


async def type_and_send(browser: Browser, text: str) -> None:
    await browser.evaluate(
        f"document.getElementById('text').value = {json.dumps(text)};"
        "document.getElementById('composer').requestSubmit(); true"
    )


async def click_button(browser: Browser, title: str) -> None:
    clicked = await browser.wait_for_js(
        "(() => { const b = [...document.querySelectorAll('.buttons button:not(:disabled)')]"
        f".find(x => x.textContent === {json.dumps(title)}); if (b) {{ b.click(); return true; }}"
        " return false; })()"
    )
    assert clicked


async def wait_bot_says(browser: Browser, needle: str) -> str:
    return str(
        await browser.wait_for_js(
            f"(() => {{ const t = {LAST_BOT}; return t.includes({json.dumps(needle)}) ? t : ''; }})()"
        )
    )


async def test_report_in_the_browser_files_a_ticket(
    stack: RunningStack, http, tmp_path: Path
) -> None:
    browser = Browser(free_port())
    await browser.start(stack.gateway_url + "/")
    try:
        await wait_bot_says(browser, "12345")
        await type_and_send(browser, "小区门口的路灯坏了一个星期了，晚上很黑")
        await wait_bot_says(browser, "什么地方")
        await type_and_send(browser, "朝阳区望京西园四区3号楼")
        await wait_bot_says(browser, "联系电话")
        await type_and_send(browser, "13800138000")
        await wait_bot_says(browser, "保密")
        await click_button(browser, "不需要")
        await wait_bot_says(browser, "请核对")
        await click_button(browser, "确认提交")
        text = await wait_bot_says(browser, "工单号")
        await browser.screenshot(tmp_path / "web-chat.png")
    finally:
        await browser.close()
    srid = re.search(r"工单号：(BJ\d{8}-\d{6})", text)
    assert srid, text
    async with http.get(
        f"{stack.desk_url}/requests/{srid.group(1)}.json", params={"api_key": DESK_KEY}
    ) as r:
        ticket = (await r.json())[0]
    assert ticket["description"] == "小区门口的路灯坏了一个星期了，晚上很黑"
    assert ticket["phone"] == "13800138000"
    assert ticket["attributes"]["anonymous"] == "false"
    assert (tmp_path / "web-chat.png").stat().st_size > 10_000
