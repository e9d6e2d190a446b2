"""Capstone projects: specs, starter files and an automatic grader.

Each project asks for one op written three times: a PyTorch function backed
by a ``torch.autograd.Function``, a JAX ``custom_jvp`` function and a JAX
``custom_vjp`` function. Its module (``companion.projects.<name>``) holds the
spec: the names to define, a reference primal, example inputs and bad inputs;
``companion.projects.grade`` checks a submission against it. Importing this
package imports neither PyTorch nor JAX.

From a shell::

    python -m companion grade --list
    python -m companion grade logcosh --starter logcosh.py
    python -m companion grade logcosh logcosh.py

>>> sorted(PROJECTS)
['logcosh', 'ridge']
>>> get("ridge").required
('torch_ridge', 'jax_ridge', 'jax_ridge_vjp')
>>> starter_path("logcosh").name
'logcosh.py'
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

__all__ = ["PROJECTS", "get", "starter_path"]

PROJECTS: dict[str, str] = {
    "logcosh": "log cosh x, stable for every x, in both frameworks",
    "ridge": "the ridge solve x = (AᵀA + λI)⁻¹Aᵀb, reusing the Cholesky factor",
}
"""The projects by name, with a one-line description."""


def get(name: str) -> Any:
    """The spec (a ``Project``) of the project ``name``; ``ValueError`` lists the projects if unknown."""
    if name not in PROJECTS:
        raise ValueError(f"unknown project {name!r}; the projects are: {', '.join(sorted(PROJECTS))}")
    return importlib.import_module(f"companion.projects.{name}").PROJECT


def starter_path(name: str) -> Path:
    """The starter file of the project ``name`` (a ``.py`` file with ``# %%`` cells)."""
    get(name)
    return Path(__file__).parent / "starters" / f"{name}.py"
