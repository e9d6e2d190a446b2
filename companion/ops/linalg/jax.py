"""JAX adapters of the linear-algebra rules: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions.

``matvec``, ``solve``, ``quad_form``, ``inv``, ``logdet`` are :func:`jax.custom_jvp`
functions: one JVP rule gives forward mode,
reverse mode (JAX linearises the rule and transposes it), ``jit``, ``vmap``
and higher orders. ``matvec_vjp``, ``solve_vjp``, ... are the :func:`jax.custom_vjp` versions:
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
    "quad_form",
    "inv",
    "logdet",
    "quad_form_vjp",
    "inv_vjp",
    "logdet_vjp",
    "quad_form_custom_jvp",
    "quad_form_jvp_rule",
    "inv_custom_jvp",
    "inv_jvp_rule",
    "logdet_custom_jvp",
    "logdet_jvp_rule",
    "quad_form_custom_vjp",
    "quad_form_fwd",
    "quad_form_bwd",
    "inv_custom_vjp",
    "inv_fwd",
    "inv_bwd",
    "logdet_custom_vjp",
    "logdet_fwd",
    "logdet_bwd",
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
def matvec_jvp_rule(
    primals: tuple[Array, Array], tangents: tuple[Array, Array]
) -> tuple[Array, Array]:
    """JVP: ``ẏ = Ȧ x + A ẋ``.

    >>> A_dot, x_dot = jnp.ones((2, 2)), jnp.ones(2)
    >>> _, y_dot = matvec_jvp_rule((jnp.eye(2), jnp.ones(2)), (A_dot, x_dot))
    >>> y_dot.tolist()
    [3.0, 3.0]
    """
    A, x = primals
    A_dot, x_dot = tangents
    return rules.matvec(A, x, jax_ops), rules.matvec_tangent(
        A, x, A_dot, x_dot, jax_ops
    )


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

    >>> A_bar, x_bar = matvec_bwd(
    ...     (2 * jnp.eye(2), jnp.asarray([1.0, 2.0])), jnp.asarray([1.0, 0.0])
    ... )
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
def solve_jvp_rule(
    primals: tuple[Array, Array], tangents: tuple[Array, Array]
) -> tuple[Array, Array]:
    """JVP: ``ẋ = A⁻¹ (ḃ − Ȧ x)`` with the factors of the primal solve.

    >>> A_dot, b_dot = jnp.eye(2), jnp.zeros(2)
    >>> x, x_dot = solve_jvp_rule((2 * jnp.eye(2), jnp.ones(2)), (A_dot, b_dot))
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
    """Forward pass: factorise once; the residuals are the factors ``(lu, piv)`` and
    ``x``.

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
    cotangents = rules.solve_cotangents(lu_factors, x, x_bar, jax_ops)
    return cotangents  # type: ignore[return-value]


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


# --------------------------------------------------------------------------
# quad_form
# --------------------------------------------------------------------------


@jax.custom_jvp
def quad_form_custom_jvp(x: Array, Q: Array) -> Array:
    """``xᵀ Q x`` with the JVP rule :func:`quad_form_jvp_rule`."""
    return rules.quad_form(x, Q, jax_ops)


@quad_form_custom_jvp.defjvp
def quad_form_jvp_rule(
    primals: tuple[Array, Array], tangents: tuple[Array, Array]
) -> tuple[Array, Array]:
    """JVP: ``ẏ = ẋᵀ (Q + Qᵀ) x + xᵀ Q̇ x``.

    >>> Q = jnp.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> y, y_dot = quad_form_jvp_rule(
    ...     (jnp.asarray([1.0, 2.0]), Q), (jnp.asarray([1.0, 0.0]), 0 * Q)
    ... )
    >>> y.tolist(), y_dot.tolist()
    (7.0, 4.0)
    """
    x, Q = primals
    x_dot, Q_dot = tangents
    y = rules.quad_form(x, Q, jax_ops)
    return y, rules.quad_form_tangent(x, Q, x_dot, Q_dot, jax_ops)


def quad_form(x: Any, Q: Any) -> Array:
    """``xᵀ Q x`` for ``x`` ``(n,)`` and ``Q`` ``(n, n)``, not assumed symmetric; ``jax.custom_jvp`` rule.

    JVP: ``ẏ = ẋᵀ (Q + Qᵀ) x + xᵀ Q̇ x``; reverse mode by transposing it
    (``x̄ = ȳ (Q + Qᵀ) x``, ``Q̄ = ȳ x xᵀ``).

    >>> import jax, jax.numpy as jnp
    >>> x, Q = jnp.asarray([1.0, 2.0]), jnp.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> jax.grad(quad_form)(x, Q).tolist()  # (Q + Qᵀ) x, not 2 Q x = [6, 4]
    [4.0, 5.0]
    """
    x, Q = jnp.asarray(x), jnp.asarray(Q)
    rules.check_quad_form(x, Q, _ARRAY)
    return quad_form_custom_jvp(x, Q)


@jax.custom_vjp
def quad_form_custom_vjp(x: Array, Q: Array) -> Array:
    """``xᵀ Q x`` with the VJP rule :func:`quad_form_fwd`/:func:`quad_form_bwd`."""
    return rules.quad_form(x, Q, jax_ops)


def quad_form_fwd(x: Array, Q: Array) -> tuple[Array, tuple[Array, Array]]:
    """Forward pass: the output and the residuals ``(x, Q)``.

    >>> quad_form_fwd(jnp.ones(2), jnp.eye(2))[0].tolist()
    2.0
    """
    return rules.quad_form(x, Q, jax_ops), (x, Q)


def quad_form_bwd(residuals: tuple[Array, Array], y_bar: Array) -> tuple[Array, Array]:
    """VJP: ``x̄ = ȳ (Q + Qᵀ) x``, ``Q̄ = ȳ x xᵀ``.

    >>> x_bar, Q_bar = quad_form_bwd(
    ...     (jnp.asarray([1.0, 2.0]), jnp.asarray([[1.0, 1.0], [0.0, 1.0]])), 1.0
    ... )
    >>> x_bar.tolist(), Q_bar.tolist()
    ([4.0, 5.0], [[1.0, 2.0], [2.0, 4.0]])
    """
    x, Q = residuals
    cotangents = rules.quad_form_cotangents(x, Q, y_bar, jax_ops)
    return cotangents  # type: ignore[return-value]


quad_form_custom_vjp.defvjp(quad_form_fwd, quad_form_bwd)


def quad_form_vjp(x: Any, Q: Any) -> Array:
    """``xᵀ Q x`` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP: ``x̄ = ȳ (Q + Qᵀ) x``, ``Q̄ = ȳ x xᵀ``.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(quad_form_vjp, 1)(jnp.asarray([1.0, 2.0]), jnp.eye(2)).tolist()
    [[1.0, 2.0], [2.0, 4.0]]
    """
    x, Q = jnp.asarray(x), jnp.asarray(Q)
    rules.check_quad_form(x, Q, _ARRAY)
    return quad_form_custom_vjp(x, Q)


# --------------------------------------------------------------------------
# inv: one LU factorisation in the primal; the rules reuse the output A⁻¹
# --------------------------------------------------------------------------


@jax.custom_jvp
def inv_custom_jvp(A: Array) -> Array:
    """``A⁻¹`` with the JVP rule :func:`inv_jvp_rule`."""
    return rules.inv(A, jax_ops)


@inv_custom_jvp.defjvp
def inv_jvp_rule(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    """JVP: ``Ẏ = −Y Ȧ Y`` with the output ``Y = A⁻¹``.

    >>> Y, Y_dot = inv_jvp_rule((2 * jnp.eye(2),), (jnp.ones((2, 2)),))
    >>> Y.tolist(), Y_dot.tolist()
    ([[0.5, 0.0], [0.0, 0.5]], [[-0.25, -0.25], [-0.25, -0.25]])
    """
    (A,), (A_dot,) = primals, tangents
    Y = rules.inv(A, jax_ops)
    return Y, rules.inv_tangent(Y, A_dot, jax_ops)


def inv(A: Any) -> Array:
    """``A⁻¹`` for a square ``A`` ``(n, n)``; ``jax.custom_jvp`` rule.

    ``A`` is LU-factorised once; the JVP ``Ẏ = −Y Ȧ Y`` uses the output
    ``Y = A⁻¹``, and reverse mode transposes it into ``Ā = −Yᵀ Ȳ Yᵀ``.

    **Singular A.** As for :func:`solve`, JAX cannot raise on values under
    ``jit``: an exactly singular ``A`` gives an LU factorisation with a zero
    pivot, and the solve with the identity divides by it, so ``A⁻¹`` (and every
    derivative) contains ``inf`` or ``nan``. Check ``jnp.isfinite`` where that
    can happen.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[2.0, 1.0], [0.0, 4.0]])
    >>> inv(A).tolist()
    [[0.5, -0.125], [0.0, 0.25]]
    >>> jax.grad(lambda A: inv(A)[0, 1])(A).tolist()
    [[0.0625, -0.125], [-0.015625, 0.03125]]
    >>> bool(jnp.isfinite(inv(jnp.ones((2, 2)))).all())
    False
    """
    A = jnp.asarray(A)
    rules.check_inv(A, _ARRAY)
    return inv_custom_jvp(A)


@jax.custom_vjp
def inv_custom_vjp(A: Array) -> Array:
    """``A⁻¹`` with the VJP rule :func:`inv_fwd`/:func:`inv_bwd`."""
    return rules.inv(A, jax_ops)


def inv_fwd(A: Array) -> tuple[Array, Array]:
    """Forward pass: ``Y = A⁻¹``, which is also the residual.

    >>> Y, residual = inv_fwd(2 * jnp.eye(2))
    >>> Y.tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    Y = rules.inv(A, jax_ops)
    return Y, Y


def inv_bwd(Y: Array, Y_bar: Array) -> tuple[Array]:
    """VJP: ``Ā = −Yᵀ Ȳ Yᵀ`` with the saved output ``Y = A⁻¹``.

    >>> Y, residual = inv_fwd(jnp.asarray([[2.0, 1.0], [0.0, 4.0]]))
    >>> (A_bar,) = inv_bwd(residual, jnp.asarray([[0.0, 1.0], [0.0, 0.0]]))
    >>> A_bar.tolist()
    [[0.0625, -0.125], [-0.015625, 0.03125]]
    """
    return rules.inv_cotangents(Y, Y_bar, jax_ops)  # type: ignore[return-value]


inv_custom_vjp.defvjp(inv_fwd, inv_bwd)


def inv_vjp(A: Any) -> Array:
    """``A⁻¹`` with a ``jax.custom_vjp`` rule: **reverse mode only**. VJP: ``Ā = −Yᵀ Ȳ Yᵀ``.

    A singular ``A`` gives ``inf``/``nan``, as for :func:`inv`.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(lambda A: inv_vjp(A).sum())(2 * jnp.eye(2)).tolist()
    [[-0.25, -0.25], [-0.25, -0.25]]
    """
    A = jnp.asarray(A)
    rules.check_inv(A, _ARRAY)
    return inv_custom_vjp(A)


# --------------------------------------------------------------------------
# logdet: one LU factorisation, reused by the JVP (and so by its transpose)
# --------------------------------------------------------------------------


@jax.custom_jvp
def logdet_custom_jvp(A: Array) -> Array:
    """``log |det A|`` with the JVP rule :func:`logdet_jvp_rule`."""
    y, _ = rules.logdet(A, jax_ops)
    return y


@logdet_custom_jvp.defjvp
def logdet_jvp_rule(
    primals: tuple[Array], tangents: tuple[Array]
) -> tuple[Array, Array]:
    """JVP: ``ẏ = tr(A⁻¹ Ȧ)`` with the factors of the primal.

    >>> y, y_dot = logdet_jvp_rule(
    ...     (jnp.asarray([[0.0, 2.0], [4.0, 0.0]]),), (jnp.eye(2)[::-1],)
    ... )
    >>> float(y_dot)  # tr(A⁻¹ Ȧ) = 1/4 + 1/2
    0.75
    """
    (A,), (A_dot,) = primals, tangents
    y, lu_factors = rules.logdet(A, jax_ops)
    return y, rules.logdet_tangent(lu_factors, A_dot, jax_ops)


def logdet(A: Any) -> Array:
    """``log |det A|`` for a square invertible ``A`` ``(n, n)`` of either sign of determinant;
    ``jax.custom_jvp`` rule.

    ``A`` is LU-factorised once, ``log |det A| = Σ log |U_ii|``; the JVP
    ``ẏ = tr(A⁻¹ Ȧ)`` reuses the factors, and reverse mode transposes it into
    ``Ā = ȳ A⁻ᵀ`` with the same factors. The sign of ``det A`` is not returned
    (``jnp.linalg.slogdet`` gives it).

    **Singular A.** An exactly singular ``A`` does not raise (JAX cannot raise
    on values under ``jit``): the value is ``-inf``, as from
    ``jnp.linalg.slogdet``, and the derivatives contain ``inf`` or ``nan``.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[0.0, 2.0], [4.0, 0.0]])  # det A = −8
    >>> bool(jnp.isclose(logdet(A), jnp.log(8.0)))
    True
    >>> jax.grad(logdet)(A).tolist()  # A⁻ᵀ
    [[0.0, 0.5], [0.25, 0.0]]
    >>> float(logdet(jnp.ones((2, 2))))
    -inf
    """
    A = jnp.asarray(A)
    rules.check_logdet(A, _ARRAY)
    return logdet_custom_jvp(A)


@jax.custom_vjp
def logdet_custom_vjp(A: Array) -> Array:
    """``log |det A|`` with the VJP rule :func:`logdet_fwd`/:func:`logdet_bwd`."""
    y, _ = rules.logdet(A, jax_ops)
    return y


def logdet_fwd(A: Array) -> tuple[Array, tuple[Array, Any]]:
    """Forward pass: factorise once; the residuals are ``A`` (for the identity's size
    and dtype)
    and the factors ``(lu, piv)``.

    >>> y, (A, (lu, piv)) = logdet_fwd(2 * jnp.eye(2))
    >>> round(float(y), 6), lu.tolist()
    (1.386294, [[2.0, 0.0], [0.0, 2.0]])
    """
    y, lu_factors = rules.logdet(A, jax_ops)
    return y, (A, lu_factors)


def logdet_bwd(residuals: tuple[Array, Any], y_bar: Array) -> tuple[Array]:
    """VJP: ``Ā = ȳ A⁻ᵀ`` with the saved factors.

    >>> y, residuals = logdet_fwd(jnp.asarray([[0.0, 2.0], [4.0, 0.0]]))
    >>> (A_bar,) = logdet_bwd(residuals, 1.0)
    >>> A_bar.tolist()
    [[0.0, 0.5], [0.25, 0.0]]
    """
    A, lu_factors = residuals
    cotangents = rules.logdet_cotangents(A, lu_factors, y_bar, jax_ops)
    return cotangents  # type: ignore[return-value]


logdet_custom_vjp.defvjp(logdet_fwd, logdet_bwd)


def logdet_vjp(A: Any) -> Array:
    """``log |det A|`` with a ``jax.custom_vjp`` rule: **reverse mode only**. VJP: ``Ā = ȳ A⁻ᵀ``.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(logdet_vjp)(2 * jnp.eye(2)).tolist()
    [[0.5, 0.0], [0.0, 0.5]]
    """
    A = jnp.asarray(A)
    rules.check_logdet(A, _ARRAY)
    return logdet_custom_vjp(A)
