"""The formulas of the family, written once against an array namespace. (Being written: ``root``.)"""

from __future__ import annotations

__all__: list[str] = []
