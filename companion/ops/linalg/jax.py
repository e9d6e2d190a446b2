"""JAX adapters of the linear-algebra rules: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions.

``matvec``, ``solve`` are :func:`jax.custom_jvp` functions: one JVP rule gives forward mode,
reverse mode (JAX linearises the rule and transposes it), ``jit``, ``vmap``
and higher orders. ``matvec_vjp``, ``solve_vjp`` are the :func:`jax.custom_vjp` versions:
**reverse mode only** (``jax.jvp`` raises a ``TypeError`` on them), but
``jit``, ``vmap`` and reverse-over-reverse work. The formulas come from
``companion.ops.linalg.rules``; this module is wiring. The public functions
convert their arguments with :func:`jax.numpy.asarray` and validate shapes and
dtypes (statically, so also under ``jit``).
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.linalg import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "matvec",
    "solve",
    "matvec_vjp",
    "solve_vjp",
    "matvec_custom_jvp",
    "matvec_jvp_rule",
    "solve_custom_jvp",
    "solve_jvp_rule",
    "matvec_custom_vjp",
    "matvec_fwd",
    "matvec_bwd",
    "solve_custom_vjp",
    "solve_fwd",
    "solve_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


# --------------------------------------------------------------------------
# matvec
# --------------------------------------------------------------------------


@jax.custom_jvp
def matvec_custom_jvp(A: Array, x: Array) -> Array:
    """``A x`` with the JVP rule :func:`matvec_jvp_rule`."""
    return rules.matvec(A, x, jax_ops)


@matvec_custom_jvp.defjvp
def matvec_jvp_rule(primals: tuple[Array, Array], tangents: tuple[Array, Array]) -> tuple[Array, Array]:
    """JVP: ``ẏ = Ȧ x + A ẋ``.

    >>> _, y_dot = matvec_jvp_rule((jnp.eye(2), jnp.ones(2)), (jnp.ones((2, 2)), jnp.ones(2)))
    >>> y_dot.tolist()
    [3.0, 3.0]
    """
    A, x = primals
    A_dot, x_dot = tangents
    return rules.matvec(A, x, jax_ops), rules.matvec_tangent(A, x, A_dot, x_dot, jax_ops)


def matvec(A: Any, x: Any) -> Array:
    """``A x`` for ``A`` of shape ``(m, n)`` and ``x`` of shape ``(n,)``; ``jax.custom_jvp`` rule.

    JVP: ``ẏ = Ȧ x + A ẋ``; reverse mode by transposing it (``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``).

    >>> import jax, jax.numpy as jnp
    >>> A, x = jnp.eye(2), jnp.asarray([1.0, 2.0])
    >>> jax.grad(lambda A: matvec(A, x).sum())(A).tolist()
    [[1.0, 2.0], [1.0, 2.0]]
    """
    A, x = jnp.asarray(A), jnp.asarray(x)
    rules.check_matvec(A, x, _ARRAY)
    return matvec_custom_jvp(A, x)


@jax.custom_vjp
def matvec_custom_vjp(A: Array, x: Array) -> Array:
    """``A x`` with the VJP rule :func:`matvec_fwd`/:func:`matvec_bwd`."""
    return rules.matvec(A, x, jax_ops)


def matvec_fwd(A: Array, x: Array) -> tuple[Array, tuple[Array, Array]]:
    """Forward pass: the output and the residuals ``(A, x)``.

    >>> matvec_fwd(jnp.eye(2), jnp.ones(2))[0].tolist()
    [1.0, 1.0]
    """
    return rules.matvec(A, x, jax_ops), (A, x)


def matvec_bwd(residuals: tuple[Array, Array], y_bar: Array) -> tuple[Array, Array]:
    """VJP: ``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``.

    >>> A_bar, x_bar = matvec_bwd((2 * jnp.eye(2), jnp.asarray([1.0, 2.0])), jnp.asarray([1.0, 0.0]))
    >>> A_bar.tolist(), x_bar.tolist()
    ([[1.0, 2.0], [0.0, 0.0]], [2.0, 0.0])
    """
    A, x = residuals
    return rules.matvec_cotangents(A, x, y_bar, jax_ops)  # type: ignore[return-value]


matvec_custom_vjp.defvjp(matvec_fwd, matvec_bwd)


def matvec_vjp(A: Any, x: Any) -> Array:
    """``A x`` with a ``jax.custom_vjp`` rule: **reverse mode only**. VJP: ``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(lambda x: matvec_vjp(2 * jnp.eye(2), x).sum())(jnp.ones(2)).tolist()
    [2.0, 2.0]
    """
    A, x = jnp.asarray(A), jnp.asarray(x)
    rules.check_matvec(A, x, _ARRAY)
    return matvec_custom_vjp(A, x)


# --------------------------------------------------------------------------
# solve: one LU factorisation, reused by the JVP (and so by its transpose)
# --------------------------------------------------------------------------


@jax.custom_jvp
def solve_custom_jvp(A: Array, b: Array) -> Array:
    """``A⁻¹ b`` with the JVP rule :func:`solve_jvp_rule`."""
    x, _ = rules.solve(A, b, jax_ops)
    return x


@solve_custom_jvp.defjvp
def solve_jvp_rule(primals: tuple[Array, Array], tangents: tuple[Array, Array]) -> tuple[Array, Array]:
    """JVP: ``ẋ = A⁻¹ (ḃ − Ȧ x)`` with the factors of the primal solve.

    >>> x, x_dot = solve_jvp_rule((2 * jnp.eye(2), jnp.ones(2)), (jnp.eye(2), jnp.zeros(2)))
    >>> x.tolist(), x_dot.tolist()
    ([0.5, 0.5], [-0.25, -0.25])
    """
    A, b = primals
    A_dot, b_dot = tangents
    x, lu_factors = rules.solve(A, b, jax_ops)
    return x, rules.solve_tangent(lu_factors, x, A_dot, b_dot, jax_ops)


def solve(A: Any, b: Any) -> Array:
    """``x = A⁻¹ b`` for square ``A`` ``(n, n)`` and ``b`` ``(n,)`` or ``(n, k)``; ``jax.custom_jvp`` rule.

    ``A`` is LU-factorised once; the JVP ``ẋ = A⁻¹ (ḃ − Ȧ x)`` reuses the
    factors, and reverse mode transposes it into ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ``
    with the same factors.

    **Singular A.** JAX cannot raise on values under ``jit``, so an exactly
    singular ``A`` does not raise: its LU factorisation has a zero pivot and
    the triangular solve divides by it, so ``x`` (and every derivative)
    contains ``inf`` or ``nan``. Check ``jnp.isfinite(x).all()`` where that can
    happen.

    >>> import jax, jax.numpy as jnp
    >>> A, b = jnp.asarray([[2.0, 0.0], [0.0, 4.0]]), jnp.asarray([2.0, 2.0])
    >>> solve(A, b).tolist()
    [1.0, 0.5]
    >>> jax.grad(lambda b: solve(A, b).sum())(b).tolist()
    [0.5, 0.25]
    >>> bool(jnp.isfinite(solve(jnp.zeros((2, 2)), b)).all())
    False
    """
    A, b = jnp.asarray(A), jnp.asarray(b)
    rules.check_solve(A, b, _ARRAY)
    return solve_custom_jvp(A, b)


@jax.custom_vjp
def solve_custom_vjp(A: Array, b: Array) -> Array:
    """``A⁻¹ b`` with the VJP rule :func:`solve_fwd`/:func:`solve_bwd`."""
    x, _ = rules.solve(A, b, jax_ops)
    return x


def solve_fwd(A: Array, b: Array) -> tuple[Array, tuple[Any, Array]]:
    """Forward pass: factorise once; the residuals are the factors ``(lu, piv)`` and ``x``.

    >>> x, ((lu, piv), _) = solve_fwd(2 * jnp.eye(2), jnp.ones(2))
    >>> x.tolist(), lu.tolist()
    ([0.5, 0.5], [[2.0, 0.0], [0.0, 2.0]])
    """
    x, lu_factors = rules.solve(A, b, jax_ops)
    return x, (lu_factors, x)


def solve_bwd(residuals: tuple[Any, Array], x_bar: Array) -> tuple[Array, Array]:
    """VJP: ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ`` with the saved factors.

    >>> x, residuals = solve_fwd(2 * jnp.eye(2), jnp.ones(2))
    >>> A_bar, b_bar = solve_bwd(residuals, jnp.asarray([1.0, 0.0]))
    >>> (A_bar + 0.0).tolist(), b_bar.tolist()  # + 0.0 turns -0.0 into 0.0
    ([[-0.25, -0.25], [0.0, 0.0]], [0.5, 0.0])
    """
    lu_factors, x = residuals
    return rules.solve_cotangents(lu_factors, x, x_bar, jax_ops)  # type: ignore[return-value]


solve_custom_vjp.defvjp(solve_fwd, solve_bwd)


def solve_vjp(A: Any, b: Any) -> Array:
    """``A⁻¹ b`` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP: ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ``, with the LU factors saved by the forward
    pass. A singular ``A`` gives ``inf``/``nan``, as for :func:`solve`.
    Reverse-over-reverse differentiates through ``solve_bwd`` (JAX's own LU
    solve derivatives), not through a custom rule.

    >>> import jax, jax.numpy as jnp
    >>> A, b = jnp.asarray([[2.0, 0.0], [0.0, 4.0]]), jnp.asarray([2.0, 2.0])
    >>> jax.grad(lambda b: solve_vjp(A, b).sum())(b).tolist()
    [0.5, 0.25]
    """
    A, b = jnp.asarray(A), jnp.asarray(b)
    rules.check_solve(A, b, _ARRAY)
    return solve_custom_vjp(A, b)
