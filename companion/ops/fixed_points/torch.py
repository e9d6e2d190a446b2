"""PyTorch adapters of the family. (Being written: ``fixed_point``.)"""

from __future__ import annotations

__all__: list[str] = []
