"""`jiesu speech fetch-model` against a local HTTP server serving zips built here."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from speech.errors import ModelFetchError
from speech.model_fetch import fetch_model, main

NAME = "vosk-model-small-cn-0.22"
FILES = ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLr.fst", "graph/Gr.fst")


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


GOOD = _zip({f"{NAME}/{f}": f"content of {f}".encode() * 50 for f in FILES})


def _corrupt(data: bytes) -> bytes:
    # flip bytes inside the first member's compressed data: CRC check must catch it
    i = data.index(b"content") if b"content" in data else 60
    return data[:i] + bytes(b ^ 0xFF for b in data[i : i + 8]) + data[i + 8 :]


ARCHIVES: dict[str, bytes] = {}


@pytest_asyncio.fixture(loop_scope="function")
async def server() -> AsyncIterator[str]:
    async def handler(request: web.Request) -> web.Response:
        body = ARCHIVES.get(request.match_info["name"])
        if body is None:
            return web.Response(status=404)
        return web.Response(body=body, content_type="application/zip")

    app = web.Application()
    app.router.add_get("/models/{name}", handler)
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    yield str(srv.make_url("/models"))
    await srv.close()


@pytest.mark.asyncio(loop_scope="function")
async def test_fetch_unpacks_and_reports_sha256(server: str, tmp_path: Path) -> None:
    ARCHIVES[f"{NAME}.zip"] = GOOD
    path, digest = await fetch_model(NAME, tmp_path, base_url=server)
    assert path == tmp_path / NAME and (path / "am/final.mdl").is_file()
    assert digest == hashlib.sha256(GOOD).hexdigest()
    assert await asyncio.to_thread(os.listdir, tmp_path) == [NAME]  # no temp files left


@pytest.mark.asyncio(loop_scope="function")
async def test_checksum_mismatch(server: str, tmp_path: Path) -> None:
    ARCHIVES[f"{NAME}.zip"] = GOOD
    with pytest.raises(ModelFetchError, match="SHA-256 mismatch"):
        await fetch_model(NAME, tmp_path, base_url=server, sha256="0" * 64)
    assert not (tmp_path / NAME).exists()


@pytest.mark.asyncio(loop_scope="function")
@pytest.mark.parametrize(
    ("archive", "error"),
    [
        (b"this is not a zip", "not a zip"),
        (_corrupt(GOOD), "CRC|zip|Bad"),
        (_zip({f"{NAME}/README": b"hi"}), "not a Vosk model"),
        (_zip({"../evil.txt": b"x"}), "unsafe path"),
        (_zip({"other-dir/am/final.mdl": b"x"}), "outside"),
    ],
)
async def test_bad_archives_are_rejected(
    server: str, tmp_path: Path, archive: bytes, error: str
) -> None:
    ARCHIVES[f"{NAME}.zip"] = archive
    with pytest.raises(ModelFetchError, match=error):
        await fetch_model(NAME, tmp_path, base_url=server)
    assert not (tmp_path / NAME).exists() and not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.asyncio(loop_scope="function")
async def test_http_error(server: str, tmp_path: Path) -> None:
    ARCHIVES.pop("vosk-model-cn-0.22.zip", None)
    with pytest.raises(ModelFetchError, match="HTTP 404"):
        await fetch_model("vosk-model-cn-0.22", tmp_path, base_url=server)


@pytest.mark.asyncio(loop_scope="function")
async def test_cli_main(server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ARCHIVES[f"{NAME}.zip"] = GOOD
    loop = asyncio.get_running_loop()
    code = await loop.run_in_executor(None, main, ["--dir", str(tmp_path), "--base-url", server])
    assert code == 0 and "JIESU_VOSK_MODEL=" in capsys.readouterr().out
    code = await loop.run_in_executor(
        None, main, ["--large", "--dir", str(tmp_path), "--base-url", server]
    )
    assert code == 1 and "HTTP 404" in capsys.readouterr().err
