"""PyTorch adapters of the matrix equations rules."""

from __future__ import annotations

from companion._extras import require

require("torch", "companion.torch")

__all__: list[str] = []
