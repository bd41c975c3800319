"""``jiesu speech fetch-model``: download, verify and unpack a Vosk Chinese model.

alphacephei.com publishes sizes but no checksums for these archives, so
verification is: HTTP 200 with the expected byte count (when the server sends
Content-Length), the zip's own CRC-32 of every member (:meth:`zipfile.ZipFile.testzip`),
no path escaping the target directory, and the files a Vosk model needs
(:func:`speech.asr_vosk.check_model_dir`).  ``--sha256`` checks a digest you
obtained elsewhere.  The SHA-256 of each download is printed so it can be pinned.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from functools import partial
from pathlib import Path, PurePosixPath

import aiohttp

from speech.asr_vosk import check_model_dir
from speech.errors import ModelFetchError, ModelNotFound
from speech.settings import PROJECT_ROOT

__all__ = ["MODELS", "fetch_model", "main"]

BASE_URL = "https://alphacephei.com/vosk/models"
# name -> approximate size from the Vosk model list (not a checksum).
MODELS = {"small": "vosk-model-small-cn-0.22", "large": "vosk-model-cn-0.22"}
DEFAULT_DIR = PROJECT_ROOT / "models" / "vosk"


async def _download(url: str, dest: Path, timeout_s: float) -> str:
    timeout = aiohttp.ClientTimeout(total=None, sock_read=timeout_s, sock_connect=timeout_s)
    digest = hashlib.sha256()
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(timeout=timeout) as session:
        try:
            async with session.get(url) as resp:
                if resp.status != 200:
                    raise ModelFetchError(f"GET {url} answered HTTP {resp.status}")
                expected = resp.content_length
                got = 0
                fh = await loop.run_in_executor(None, dest.open, "wb")
                try:
                    async for chunk in resp.content.iter_chunked(1 << 20):
                        digest.update(chunk)
                        got += len(chunk)
                        await loop.run_in_executor(None, fh.write, chunk)
                finally:
                    await loop.run_in_executor(None, fh.close)
        except aiohttp.ClientError as exc:
            raise ModelFetchError(f"download of {url} failed: {exc}") from exc
    if expected is not None and got != expected:
        raise ModelFetchError(f"download truncated: {got} of {expected} bytes")
    return digest.hexdigest()


def _unpack(archive: Path, name: str, target_dir: Path) -> Path:
    """Check and extract ``archive`` so that ``target_dir/name`` is the model."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise ModelFetchError(f"not a zip archive: {exc}") from exc
    with zf:
        bad = zf.testzip()
        if bad is not None:
            raise ModelFetchError(f"CRC error in archive member {bad}")
        for info in zf.infolist():
            p = PurePosixPath(info.filename)
            if p.is_absolute() or ".." in p.parts:
                raise ModelFetchError(f"unsafe path in archive: {info.filename}")
            if not p.parts or p.parts[0] != name:
                raise ModelFetchError(f"archive member outside {name}/: {info.filename}")
        target_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=target_dir))
        try:
            zf.extractall(staging)
            try:
                check_model_dir(staging / name)
            except ModelNotFound as exc:
                raise ModelFetchError(f"archive is not a Vosk model: {exc}") from exc
            final = target_dir / name
            if final.exists():
                shutil.rmtree(final)
            (staging / name).replace(final)
            return final
        finally:
            shutil.rmtree(staging, ignore_errors=True)


async def fetch_model(
    name: str,
    target_dir: Path,
    base_url: str = BASE_URL,
    sha256: str | None = None,
    timeout_s: float = 60.0,
) -> tuple[Path, str]:
    """Download ``name``.zip from ``base_url`` and unpack it under ``target_dir``.

    Returns:
        The model directory and the archive's SHA-256.

    Raises:
        ModelFetchError: HTTP failure, truncated download, checksum mismatch,
            corrupt or unsafe zip, or an archive that is not a Vosk model.
    """
    url = f"{base_url.rstrip('/')}/{name}.zip"
    loop = asyncio.get_running_loop()
    tmp = await loop.run_in_executor(None, _temp_zip, target_dir)
    try:
        digest = await _download(url, tmp, timeout_s)
        if sha256 and digest != sha256.lower():
            raise ModelFetchError(f"SHA-256 mismatch: got {digest}, expected {sha256}")
        path = await loop.run_in_executor(None, _unpack, tmp, name, target_dir)
        return path, digest
    finally:
        await loop.run_in_executor(None, partial(tmp.unlink, missing_ok=True))


def _temp_zip(target_dir: Path) -> Path:
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(suffix=".zip", dir=target_dir)
    os.close(fd)
    return Path(name)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point for ``jiesu speech fetch-model [--large] [--dir DIR]``."""
    parser = argparse.ArgumentParser(
        prog="jiesu speech fetch-model", description="Download a Vosk Chinese model."
    )
    parser.add_argument(
        "--large",
        action="store_true",
        help="vosk-model-cn-0.22 (~1.3 GB) instead of the small 42 MB model",
    )
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="where to unpack")
    parser.add_argument("--base-url", default=BASE_URL, help=argparse.SUPPRESS)
    parser.add_argument("--sha256", default=None, help="expected SHA-256 of the zip")
    args = parser.parse_args(argv)
    name = MODELS["large" if args.large else "small"]
    try:
        path, digest = asyncio.run(
            fetch_model(name, args.dir, base_url=args.base_url, sha256=args.sha256)
        )
    except ModelFetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"model ready: {path}\nsha256 of archive: {digest}\nset JIESU_VOSK_MODEL={path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
