"""The formulas of the family, written once against an array namespace. (Being written: ``cg_solve``.)"""

from __future__ import annotations

__all__: list[str] = []
