"""PyTorch adapters of the decompositions rules."""

from __future__ import annotations

from companion._extras import require

require("torch", "companion.torch")

__all__: list[str] = []
