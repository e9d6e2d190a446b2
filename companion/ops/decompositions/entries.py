"""Registry entries of the decompositions ops, with their SymPy derivations.

>>> [op.name for op in OPS]
[]
"""

from __future__ import annotations

from companion.ops import Op

__all__ = ["OPS"]

OPS: tuple[Op, ...] = ()
