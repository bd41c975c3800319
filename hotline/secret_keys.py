"""Secure defaults for the stack's secrets: generated, stored 0600, never a constant.

* The desk's staff key (``JIESU_DESK_API_KEY``): when the operator sets none, the first
  start generates one and stores it in ``<data dir>/secrets/desk_api_key`` (mode 0600;
  the path is printed once).  Every process (gateway, action server, ``jiesu desk``)
  reads the same file through :func:`hotline.config.load_config`.
* :func:`check_exposure` refuses to serve on a non-loopback address while a secret is
  a well-known placeholder or too short to resist guessing.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "DESK_KEY_FILE",
    "KNOWN_PLACEHOLDERS",
    "MIN_SECRET_CHARS",
    "InsecureExposure",
    "check_exposure",
    "constant_time_equal",
    "ensure_secret_file",
    "is_loopback",
    "read_secret_file",
    "secret_path",
]

DESK_KEY_FILE = "desk_api_key"
MIN_SECRET_CHARS = 16
#: Values seen in docs, examples and old defaults: never acceptable off loopback.
KNOWN_PLACEHOLDERS = frozenset(
    {"change-me-desk-key", "change-me", "changeme", "secret", "password", "test-desk-key"}
)


class InsecureExposure(RuntimeError):
    """A public address was asked for while a secret is a default."""


def secret_path(data_dir: Path, name: str) -> Path:
    """Where a generated secret called ``name`` is kept."""
    return data_dir / "secrets" / name


def read_secret_file(data_dir: Path, name: str) -> str:
    """The stored secret ``name``, or ``""`` when none was generated yet."""
    try:
        return secret_path(data_dir, name).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def ensure_secret_file(data_dir: Path, name: str) -> tuple[str, Path, bool]:
    """The stored secret ``name``, generated (mode 0600) if missing.

    Returns:
        ``(value, path, created)``; ``created`` is True only for the call that wrote it.
    """
    path = secret_path(data_dir, name)
    existing = read_secret_file(data_dir, name)
    if existing:
        return existing, path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    value = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return read_secret_file(data_dir, name), path, False
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value, path, True


def constant_time_equal(given: object, expected: str) -> bool:
    """``given == expected`` in constant time, for any text a client sends.

    ``hmac.compare_digest`` on ``str`` refuses non-ASCII text with a ``TypeError`` (a 500
    for a hostile header); compared as bytes, every input is just unequal.  An empty
    ``expected`` (feature off) never matches.
    """
    if not expected or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def is_loopback(host: str) -> bool:
    """True for ``localhost``, ``127.0.0.0/8`` and ``::1``; False for ``0.0.0.0`` and names."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _weak(value: str) -> bool:
    return value.lower() in KNOWN_PLACEHOLDERS or len(value) < MIN_SECRET_CHARS


def check_exposure(host: str, secrets_in_use: Mapping[str, str]) -> None:
    """Refuse a non-loopback ``host`` while any secret in use is weak.

    Args:
        host: The address the server is about to bind.
        secrets_in_use: Variable name → value of each secret that is switched on
            (an empty value means the feature is off and is skipped).

    Raises:
        InsecureExposure: Naming every weak secret.
    """
    if is_loopback(host):
        return
    weak = sorted(name for name, value in secrets_in_use.items() if value and _weak(value))
    if weak:
        names = ", ".join(weak)
        raise InsecureExposure(
            f"refusing to listen on {host}: {names} is a default or shorter than "
            f"{MIN_SECRET_CHARS} characters; set it to a long random value "
            f"(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`) "
            f"or listen on 127.0.0.1 behind a reverse proxy"
        )
