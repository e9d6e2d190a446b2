"""Registry entries of the linear solvers family. (Being written: ``cg_solve``.)

>>> [op.name for op in OPS]
[]
"""

from __future__ import annotations

from companion.ops import Op

__all__: list[str] = []

OPS: tuple[Op, ...] = ()
