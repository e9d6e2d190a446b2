"""PyTorch adapters of the family. (Being written: ``eq_qp``.)"""

from __future__ import annotations

__all__: list[str] = []
