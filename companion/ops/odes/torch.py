"""PyTorch adapters of the family. (Being written: ``odeint``.)"""

from __future__ import annotations

__all__: list[str] = []
