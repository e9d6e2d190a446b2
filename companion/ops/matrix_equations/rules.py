"""Matrix equations rules, written once against an array namespace ``xp``."""

from __future__ import annotations

__all__: list[str] = []
