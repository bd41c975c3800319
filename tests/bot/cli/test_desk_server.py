"""``jiesu desk serve``: the stand-alone desk answers Open311 and has the staff console."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.cli.desk_server import build_desk_app
from hotline.config import load_config


async def test_standalone_desk_has_the_console(tmp_path: Path) -> None:
    cfg = load_config({"JIESU_DATA_DIR": str(tmp_path), "JIESU_DESK_API_KEY": "k-1"})
    client = TestClient(TestServer(build_desk_app(cfg)))
    await client.start_server()
    try:
        assert (await client.get("/open311/v2/services.json")).status == 200
        gate = await client.get("/desk/tickets", allow_redirects=False)
        assert gate.status == 302 and gate.headers["Location"].startswith("/desk/login")
        resp = await client.post("/desk/login", data={"api_key": "k-1"})
        assert resp.status == 200 and "<b id=total>0</b>" in await resp.text()
    finally:
        await client.close()
