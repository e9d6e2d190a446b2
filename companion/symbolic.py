"""SymPy derivations: each op's rules, confirmed symbolically.

For every op, :func:`derive` builds small symbolic inputs, computes the op's
output *independently of the rules* (plain SymPy: ``sin``, matrix products,
Cramer's rule for the solve), takes its Jacobians with
:meth:`sympy.Matrix.jacobian`, then runs **the very rule functions the
PyTorch and JAX adapters run** on SymPy expressions and confirms,
identically in the symbols, the primal, ``jvp = J v``, ``vjp = Jᵀ w`` and the
dot-product identity (see :mod:`companion.derivation`). Each op's derivation
lives with its family (``companion.ops.<family>.entries``); this module
gathers them.

>>> d = derive("sin_mul")
>>> d.confirmed
True
>>> d.jacobians["x"]
Matrix([
[y00*cos(x0),           0],
[          0, y00*cos(x1)],
[y10*cos(x0),           0],
[          0, y10*cos(x1)]])
"""

from __future__ import annotations

from typing import Any

import importlib

from companion.derivation import Derivation, symbols  # noqa: F401  (documented there)
from companion.ops import FAMILIES
from companion.xp import sympy as _xp_sympy

sympy_ops = _xp_sympy.sympy_ops  #: The array namespace (:class:`companion.xp.ArrayOps`) for SymPy object arrays.

__all__ = ["derive", "sympy_ops"]

# Every family's derivations (``derive_<op>``), gathered so that a new op needs no edit here.
for _family in FAMILIES:
    _entries = importlib.import_module(f"companion.ops.{_family}.entries")
    for _name in _entries.__all__:
        if _name.startswith("derive_"):
            globals()[_name] = getattr(_entries, _name)
            __all__.append(_name)


def derive(name: str, **options: Any) -> Derivation:
    """The derivation of the op called ``name``; ``options`` go to its derivation function.

    >>> derive("solve", b_shape=(2, 2)).confirmed
    True
    >>> derive("nope")
    Traceback (most recent call last):
        ...
    ValueError: derive: unknown op 'nope'; expected one of [...]
    """
    from companion.registry import OPS_BY_NAME

    try:
        op = OPS_BY_NAME[name]
    except KeyError:
        raise ValueError(f"derive: unknown op {name!r}; expected one of {sorted(OPS_BY_NAME)}") from None
    return op.derive(**options)
