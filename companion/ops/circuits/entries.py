"""Registry entries of the circuits family. (Being written: ``circuit_expectation``.)

>>> [op.name for op in OPS]
[]
"""

from __future__ import annotations

from companion.ops import Op

__all__: list[str] = []

OPS: tuple[Op, ...] = ()
