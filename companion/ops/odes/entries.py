"""Registry entries of the odes family. (Being written: ``odeint``.)

>>> [op.name for op in OPS]
[]
"""

from __future__ import annotations

from companion.ops import Op

__all__: list[str] = []

OPS: tuple[Op, ...] = ()
