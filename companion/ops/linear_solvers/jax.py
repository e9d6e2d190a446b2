"""JAX adapters of the family (custom_jvp and custom_vjp). (Being written: ``cg_solve``.)"""

from __future__ import annotations

__all__: list[str] = []
