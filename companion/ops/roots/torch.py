"""PyTorch adapters of the family. (Being written: ``root``.)"""

from __future__ import annotations

__all__: list[str] = []
