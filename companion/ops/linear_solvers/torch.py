"""PyTorch adapters of the family. (Being written: ``cg_solve``.)"""

from __future__ import annotations

__all__: list[str] = []
