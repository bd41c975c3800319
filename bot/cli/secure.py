"""Secure defaults applied before any server of the stack starts listening.

``jiesu up``, ``jiesu gateway`` and ``jiesu desk serve`` call :func:`secure_config`: the
desk's staff key is generated on first start when the operator set none, and a public
address is refused while a secret is a default (``hotline.secret_keys``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace

from hotline.config import Config
from hotline.secret_keys import DESK_KEY_FILE, check_exposure, ensure_secret_file

__all__ = ["secure_config"]


def secure_config(cfg: Config, env: Mapping[str, str] | None = None) -> Config:
    """``cfg`` with a desk key; raises ``InsecureExposure`` for an unsafe public bind."""
    env = os.environ if env is None else env
    if cfg.embedded_desk and not cfg.desk_api_key:
        key, path, created = ensure_secret_file(cfg.data_dir, DESK_KEY_FILE)
        if created:
            print(
                f"JIESU_DESK_API_KEY is not set: generated the desk staff key into {path} "
                "(mode 0600). `jiesu desk …` reads it from there.",
                flush=True,
            )
        cfg = replace(cfg, desk_api_key=key)
    check_exposure(cfg.host, cfg.exposed_secrets(env))
    return cfg
