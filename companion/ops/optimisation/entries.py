"""Registry entries of the optimisation family. (Being written: ``eq_qp``.)

>>> [op.name for op in OPS]
[]
"""

from __future__ import annotations

from companion.ops import Op

__all__: list[str] = []

OPS: tuple[Op, ...] = ()
