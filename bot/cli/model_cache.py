"""Train the Rasa model only when its inputs changed.

The model file is named after a fingerprint of everything that shapes it
(config, domain, training data, the custom NLU components and their
dictionaries, the Rasa version), so ``make run``/``make test`` reuse a
trained model and CI trains once per change.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from pathlib import Path

from hotline.config import PROJECT_ROOT

__all__ = ["fingerprint", "model_path", "ensure_model", "TrainingFailed"]

log = logging.getLogger("jiesu.train")
MODEL_DIR = PROJECT_ROOT / "models"
_INPUT_GLOBS = (
    "config.yml",
    "domain.yml",
    "data/**/*.yml",
    "nlu/**/*.py",
    "nlu/**/*.yml",
    "nlu/**/*.txt",
    "nlu/**/*.jsonl",
)


class TrainingFailed(RuntimeError):
    """``rasa train`` exited with an error."""


def _inputs(root: Path) -> list[Path]:
    files: set[Path] = set()
    for pattern in _INPUT_GLOBS:
        files.update(p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)
    return sorted(files)


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    """Hex digest over the model's inputs (paths and contents) and the Rasa version."""
    import rasa

    h = hashlib.sha256(f"rasa={rasa.__version__}".encode())
    for path in _inputs(root):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT) -> Path:
    return (root / "models") / f"jiesu-{fingerprint(root)}.tar.gz"


def ensure_model(root: Path = PROJECT_ROOT, force: bool = False) -> Path:
    """Return the model for the current inputs, training it if needed."""
    target = model_path(root)
    if target.exists() and not force:
        log.info("model up to date: %s", target.name)
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"training Rasa model {target.name} (inputs changed) …", flush=True)
    cmd = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "--fixed-model-name",
        target.name[: -len(".tar.gz")],
        "--out",
        str(target.parent),
        "--config",
        "config.yml",
        "--domain",
        "domain.yml",
        "--data",
        "data",
    ]
    env = {**os.environ, "PYTHONPATH": str(root), "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(cmd, cwd=root, env=env)
    if proc.returncode != 0 or not target.exists():
        raise TrainingFailed(f"rasa train failed with exit code {proc.returncode}")
    _prune(target.parent, keep=target)
    return target


def _prune(model_dir: Path, keep: Path, retain: int = 3) -> None:
    """Delete all but the newest ``retain`` models.

    Keeping a few (not just the newest) lets a stack that is still starting from the
    previous model finish loading while another checkout trains a new one.
    """
    models = sorted(model_dir.glob("jiesu-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in models[retain:]:
        if old != keep:
            old.unlink(missing_ok=True)
