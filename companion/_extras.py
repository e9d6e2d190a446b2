"""Which optional extra installs which framework, and a clear error when it is missing.

>>> require("numpy", "companion.xp")
>>> require("no_such_framework_xyz", "companion.something")
Traceback (most recent call last):
    ...
ModuleNotFoundError: companion.something needs no_such_framework_xyz, which is not installed; ...
"""

from __future__ import annotations

import importlib.util

__all__ = ["EXTRAS", "require", "installed"]

EXTRAS = {"torch": "torch", "jax": "jax"}
"""The pip extra of ``jvp-vjp-companion`` that installs each framework."""


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module blocked in sys.modules, or a broken one
        return False


def require(module: str, needed_by: str) -> None:
    """Raise :class:`ModuleNotFoundError` naming the extra to install if ``module`` is missing."""
    if installed(module):
        return
    extra = EXTRAS.get(module)
    hint = (
        f"install it with: pip install 'jvp-vjp-companion[{extra}]'" if extra
        else f"install the package {module!r}"
    )
    raise ModuleNotFoundError(f"{needed_by} needs {module}, which is not installed; {hint}", name=module)
