"""The array namespace for JAX arrays: ``jax.numpy``, plus LU factors from ``jax.scipy.linalg``.

>>> import jax.numpy as jnp
>>> jax_ops.cos(jnp.zeros(2)).tolist()
[1.0, 1.0]
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("jax", "companion.xp.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg as jsl  # noqa: E402

from companion.xp import Namespace  # noqa: E402

__all__ = ["jax_ops", "JaxOps"]

Array = jax.Array


class JaxOps(Namespace):
    """:class:`companion.xp.ArrayOps` for JAX arrays."""

    library = jnp

    @staticmethod
    def lu_factor(A: Array) -> tuple[Array, Array]:
        return jsl.lu_factor(A)

    @staticmethod
    def lu_solve(lu_factors: tuple[Array, Array], rhs: Array, trans: bool = False) -> Array:
        return jsl.lu_solve(lu_factors, rhs, trans=1 if trans else 0)

    @staticmethod
    def lu_logabsdet(lu_factors: tuple[Array, Array]) -> Array:
        lu, _ = lu_factors
        return jnp.log(jnp.abs(jnp.diagonal(lu, axis1=-2, axis2=-1))).sum(-1)  # Σ log |U_ii|

    @staticmethod
    def eye_like(A: Array) -> Array:
        return jnp.eye(A.shape[-1], dtype=A.dtype)

    @staticmethod
    def solve_triangular(T: Array, rhs: Array, lower: bool, trans: bool = False) -> Array:
        return jsl.solve_triangular(T, rhs, trans=1 if trans else 0, lower=lower)


jax_ops = JaxOps()
"""The :class:`companion.xp.ArrayOps` namespace for JAX."""
