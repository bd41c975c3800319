"""Import point for :mod:`audioop`.

Python 3.10 ships :mod:`audioop` in the standard library; from 3.13 the
``audioop-lts`` package provides the same module name.  Every other module
imports audioop from here, so a later Python only needs that package.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # 3.11/3.12 warn that audioop is deprecated; the API is what we want.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

__all__ = ["audioop"]
