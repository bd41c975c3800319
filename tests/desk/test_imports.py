"""Every desk module imports on its own; the console does not load the chart stack."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import desk

MODULES = sorted(m.name for m in pkgutil.walk_packages(desk.__path__, "desk.") if not m.ispkg)
HEAVY = ("matplotlib", "sklearn", "scipy")


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    code = f"import sys, {module}; heavy = [m for m in {HEAVY!r} if m in sys.modules]; "
    code += "assert not heavy, f'imported eagerly: {heavy}'"
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, timeout=60)
