"""JAX adapters of the optimisation family: ``eq_qp`` (custom_jvp) and ``eq_qp_vjp`` (custom_vjp).

Both factorise the KKT matrix once. The custom_jvp rule solves the tangent
KKT system with those factors, and reverse mode transposes that solve (a solve
with the transposed factors); the custom_vjp rule solves the transposed KKT
system with the factors its forward pass saved.

**Singular KKT matrix.** JAX cannot raise on values under ``jit``. When the
KKT matrix is numerically singular (smallest LU pivot at most ``(n + m) ε``
times the largest; see :func:`companion.rules.kkt_singular`) the result and
every derivative are ``nan``: test ``jnp.isnan(x).any()``.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.optimisation import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = ["eq_qp", "eq_qp_vjp"]

Array = jax.Array
_ARRAY = "an array"


def _solve(Q: Array, c: Array, A: Array, b: Array) -> tuple[Array, Array, Any, Array]:
    """``(x, λ, kkt_factors, scale)``: ``scale`` is ``nan`` for a numerically singular KKT matrix, else 1.

    Multiplying by ``scale`` (rather than ``jnp.where``) keeps the tangent map
    linear, so reverse mode can transpose it.
    """
    x, lam, factors = rules.eq_qp(Q, c, A, b, jax_ops)
    scale = jnp.where(rules.kkt_singular(factors[0], jax_ops), jnp.nan, 1.0).astype(x.dtype)
    return x * scale, lam * scale, factors, scale


# --------------------------------------------------------------------------
# custom_jvp: the tangent KKT system; reverse mode transposes it
# --------------------------------------------------------------------------


@jax.custom_jvp
def eq_qp_custom_jvp(Q: Array, c: Array, A: Array, b: Array) -> Array:
    """The minimiser ``x`` with the JVP rule :func:`eq_qp_jvp_rule`."""
    x, _, _, _ = _solve(Q, c, A, b)
    return x


@eq_qp_custom_jvp.defjvp
def eq_qp_jvp_rule(primals: tuple[Array, ...], tangents: tuple[Array, ...]) -> tuple:
    """JVP: ``[[S, Aᵀ], [A, 0]] [ẋ; λ̇] = [−ċ − Ṡ x − Ȧᵀ λ; ḃ − Ȧ x]`` with the factors
    of the primal.

    >>> Q, A = jnp.eye(2), jnp.asarray([[1.0, 1.0]])
    >>> x, x_dot = eq_qp_jvp_rule((Q, jnp.zeros(2), A, jnp.asarray([2.0])),
    ...                           (0 * Q, jnp.asarray([1.0, 0.0]), 0 * A, jnp.zeros(1)))
    >>> x.tolist(), x_dot.tolist()
    ([1.0, 1.0], [-0.5, 0.5])
    """
    x, lam, factors, scale = _solve(*primals)
    x_dot, _ = rules.eq_qp_tangent(factors, x, lam, *tangents, jax_ops)
    return x, x_dot * scale


def eq_qp(Q: Any, c: Any, A: Any, b: Any) -> Array:
    """``x = argmin ½ xᵀ Q x + cᵀ x`` subject to ``A x = b``; ``jax.custom_jvp`` rule.

    ``Q`` ``(n, n)`` (read through ``S = (Q + Qᵀ)/2``, so ``Q̄`` is symmetric),
    ``c`` ``(n,)``, ``A`` ``(m, n)`` with ``1 ≤ m < n``, ``b`` ``(m,)``. Solves
    ``[[S, Aᵀ], [A, 0]] [x; λ] = [−c; b]`` with one LU factorisation; the JVP
    reuses it, and reverse mode transposes the JVP into a solve with the
    transposed KKT matrix and the same factors.

    **Singular KKT matrix** (``A`` without full row rank, or ``S`` singular on
    the null space of ``A``): no error (JAX cannot raise on values under
    ``jit``); ``x`` and every derivative are ``nan``. A non-singular KKT
    matrix whose ``S`` is indefinite on the null space of ``A`` is not
    detected: ``x`` is then the constrained stationary point, not a minimiser.

    >>> import jax, jax.numpy as jnp
    >>> Q, A, b = jnp.eye(2), jnp.asarray([[1.0, 1.0]]), jnp.asarray([2.0])
    >>> eq_qp(Q, jnp.zeros(2), A, b).tolist()
    [1.0, 1.0]
    >>> jax.grad(lambda c: eq_qp(Q, c, A, b)[0])(jnp.zeros(2)).tolist()
    [-0.5, 0.5]
    >>> eq_qp(
    ...     jnp.eye(3),
    ...     jnp.zeros(3),
    ...     jnp.asarray([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0]]),
    ...     jnp.ones(2),
    ... ).tolist()
    [nan, nan, nan]
    """
    Q, c, A, b = map(jnp.asarray, (Q, c, A, b))
    rules.check_eq_qp(Q, c, A, b, _ARRAY)
    return eq_qp_custom_jvp(Q, c, A, b)


# --------------------------------------------------------------------------
# custom_vjp: the transposed KKT system with the saved factors
# --------------------------------------------------------------------------


@jax.custom_vjp
def eq_qp_custom_vjp(Q: Array, c: Array, A: Array, b: Array) -> Array:
    """The minimiser ``x`` with the VJP rule :func:`eq_qp_fwd`/:func:`eq_qp_bwd`."""
    x, _, _, _ = _solve(Q, c, A, b)
    return x


def eq_qp_fwd(Q: Array, c: Array, A: Array, b: Array) -> tuple[Array, tuple]:
    """Forward pass: factorise once; the residuals are ``x``, ``λ``, the factors
    ``(lu, piv)`` and the nan scale.

    >>> Q, c, A, b = jnp.eye(2), jnp.zeros(2), jnp.ones((1, 2)), jnp.asarray([2.0])
    >>> x, (_, lam, (lu, piv), _) = eq_qp_fwd(Q, c, A, b)
    >>> x.tolist(), lam.tolist()
    ([1.0, 1.0], [-1.0])
    """
    x, lam, factors, scale = _solve(Q, c, A, b)
    return x, (x, lam, factors, scale)


def eq_qp_bwd(residuals: tuple, x_bar: Array) -> tuple[Array, Array, Array, Array]:
    """VJP: ``Kᵀ [u; v] = [x̄; 0]``, ``Q̄ = −(u xᵀ + x uᵀ)/2``, ``c̄ = −u``,
    ``Ā = −(v xᵀ + λ uᵀ)``, ``b̄ = v``.

    >>> Q, c, A, b = jnp.eye(2), jnp.zeros(2), jnp.ones((1, 2)), jnp.asarray([2.0])
    >>> x, residuals = eq_qp_fwd(Q, c, A, b)
    >>> Q_bar, c_bar, A_bar, b_bar = eq_qp_bwd(residuals, jnp.asarray([1.0, 0.0]))
    >>> c_bar.tolist(), b_bar.tolist()
    ([-0.5, 0.5], [0.5])
    """
    x, lam, factors, scale = residuals
    cotangents = rules.eq_qp_cotangents(factors, x, lam, x_bar, jax_ops)
    return tuple(g * scale for g in cotangents)  # type: ignore[return-value]


eq_qp_custom_vjp.defvjp(eq_qp_fwd, eq_qp_bwd)


def eq_qp_vjp(Q: Any, c: Any, A: Any, b: Any) -> Array:
    """``x = argmin ½ xᵀ Q x + cᵀ x`` subject to ``A x = b``; ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP: one solve with the transposed KKT matrix and the saved factors,
    ``Kᵀ [u; v] = [x̄; 0]``, ``Q̄ = −(u xᵀ + x uᵀ)/2``, ``c̄ = −u``,
    ``Ā = −(v xᵀ + λ uᵀ)``, ``b̄ = v``. A singular KKT matrix gives ``nan``, as
    for :func:`eq_qp`. Reverse-over-reverse differentiates through
    ``eq_qp_bwd`` (JAX's own derivatives of the LU solve), not through a custom rule.

    >>> import jax, jax.numpy as jnp
    >>> Q, A, b = jnp.eye(2), jnp.asarray([[1.0, 1.0]]), jnp.asarray([2.0])
    >>> jax.grad(lambda c: eq_qp_vjp(Q, c, A, b)[0])(jnp.zeros(2)).tolist()
    [-0.5, 0.5]
    """
    Q, c, A, b = map(jnp.asarray, (Q, c, A, b))
    rules.check_eq_qp(Q, c, A, b, _ARRAY)
    return eq_qp_custom_vjp(Q, c, A, b)
