"""The registry of ops: the one list that tests, ``python -m companion verify``,
the benchmarks and the book's catalogue iterate over.

Each :class:`Op` names the op (the same name in :mod:`companion.torch` and
:mod:`companion.jax`), and carries its SymPy derivation, its input checks, a
reference implementation written independently of the rules with the
*built-in* functions that NumPy, PyTorch and ``jax.numpy`` share
(``reference(xp, *args)`` with ``xp`` one of ``numpy``, ``torch``,
``jax.numpy``), example inputs drawn from a seeded generator, and inputs that
must be rejected. The entries live with their family, in
``companion.ops.<family>.entries``; this module collects them in the order of
:data:`companion.ops.FAMILIES`.

>>> {"sin_mul", "sin", "matvec", "solve"} <= set(OPS_BY_NAME)
True
>>> args = OPS_BY_NAME["matvec"].example()
>>> [a.shape for a in args]
[(4, 3), (3,)]
>>> OPS_BY_NAME["solve"].reference(np, np.eye(2), np.ones(2))
array([1., 1.])
"""

from __future__ import annotations

import importlib

import numpy as np

from companion.ops import FAMILIES, BadInput, Op

__all__ = ["Op", "BadInput", "OPS", "OPS_BY_NAME"]

OPS: tuple[Op, ...] = tuple(
    op for family in FAMILIES for op in importlib.import_module(f"companion.ops.{family}.entries").OPS
)
"""Every op of the companion, family by family."""

OPS_BY_NAME: dict[str, Op] = {op.name: op for op in OPS}
"""The registry by name."""
