"""Registry entries of the fixed points family. (Being written: ``fixed_point``.)

>>> [op.name for op in OPS]
[]
"""

from __future__ import annotations

from companion.ops import Op

__all__: list[str] = []

OPS: tuple[Op, ...] = ()
