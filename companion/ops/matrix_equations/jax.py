"""JAX adapters of the matrix equations rules: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions."""

from __future__ import annotations

from companion._extras import require

require("jax", "companion.jax")

__all__: list[str] = []
