"""PyTorch adapters of the family. (Being written: ``circuit_expectation``.)"""

from __future__ import annotations

__all__: list[str] = []
