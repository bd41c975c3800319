"""Every speech/phone module imports on its own, without heavy work at import."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import speech

MODULES = sorted(
    [m.name for m in pkgutil.walk_packages(speech.__path__, "speech.") if not m.ispkg]
    + ["bot.channels.phone.channel", "bot.channels.phone.call_flow", "bot.channels.phone.prompts"]
)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    code = f"import sys, {module}; assert 'vosk' not in sys.modules, 'vosk imported eagerly'"
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, timeout=60)
