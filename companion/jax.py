"""JAX adapters: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions of the companion's rules.

``sin_mul``, ``matvec``, ``solve`` and ``sin`` are defined with
:func:`jax.custom_jvp`: one JVP rule gives forward mode, reverse mode (JAX
linearises the rule and transposes it), ``jit``, ``vmap`` and higher orders.
``sin_mul_vjp``, ``matvec_vjp``, ``solve_vjp`` and ``sin_vjp`` are the
:func:`jax.custom_vjp` versions: **reverse mode only** (``jax.jvp`` and
``jax.jacfwd`` raise a ``TypeError`` on them), but ``jit``, ``vmap`` and
reverse-over-reverse work.

The formulas come from :mod:`companion.rules`; this module is wiring. The
public functions convert their arguments with :func:`jax.numpy.asarray` and
validate shapes and dtypes (statically, so also under ``jit``).

Float64 needs ``jax.config.update("jax_enable_x64", True)``; this module does
not change that global setting.

>>> import jax, jax.numpy as jnp
>>> jax.grad(lambda x: sin_mul(x, jnp.asarray(2.0)))(jnp.asarray(0.0)).tolist()
2.0
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from companion import _validate, rules

__all__ = [
    "sin_mul",
    "matvec",
    "solve",
    "sin",
    "sin_mul_vjp",
    "matvec_vjp",
    "solve_vjp",
    "sin_vjp",
    "sin_derivative",
    "sin_backward",
    # the custom_jvp functions and their rules
    "sin_mul_custom_jvp",
    "sin_mul_jvp_rule",
    "matvec_custom_jvp",
    "matvec_jvp_rule",
    "solve_custom_jvp",
    "solve_jvp_rule",
    "sin_custom_jvp",
    "sin_jvp_rule",
    "sin_derivative_jvp_rule",
    # the custom_vjp functions and their forward and backward passes
    "sin_mul_custom_vjp",
    "sin_mul_fwd",
    "sin_mul_bwd",
    "matvec_custom_vjp",
    "matvec_fwd",
    "matvec_bwd",
    "solve_custom_vjp",
    "solve_fwd",
    "solve_bwd",
    "sin_custom_vjp",
    "sin_fwd",
    "sin_bwd",
    "sin_backward_fwd",
    "sin_backward_bwd",
    "jax_ops",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


class _JaxOps:
    """:class:`companion.rules.ArrayOps` for JAX arrays."""

    sin = staticmethod(jnp.sin)
    cos = staticmethod(jnp.cos)
    sum_to_shape = staticmethod(rules.sum_to_shape)

    @staticmethod
    def lu_factor(A: Array) -> tuple[Array, Array]:
        return jsl.lu_factor(A)

    @staticmethod
    def lu_solve(lu_factors: tuple[Array, Array], rhs: Array, trans: bool = False) -> Array:
        return jsl.lu_solve(lu_factors, rhs, trans=1 if trans else 0)


jax_ops = _JaxOps()
"""The :class:`companion.rules.ArrayOps` namespace for JAX."""


# --------------------------------------------------------------------------
# sin_mul
# --------------------------------------------------------------------------


@jax.custom_jvp
def sin_mul_custom_jvp(x: Array, y: Array) -> Array:
    """``y ⊙ sin x`` with the JVP rule :func:`sin_mul_jvp_rule`."""
    return rules.sin_mul(x, y, jax_ops)


@sin_mul_custom_jvp.defjvp
def sin_mul_jvp_rule(primals: tuple[Array, Array], tangents: tuple[Array, Array]) -> tuple[Array, Array]:
    """JVP: ``y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``.

    >>> _, y_dot = sin_mul_jvp_rule((jnp.zeros(2), jnp.full(2, 3.0)), (jnp.ones(2), jnp.ones(2)))
    >>> y_dot.tolist()
    [3.0, 3.0]
    """
    x, y = primals
    x_dot, y_dot = tangents
    return rules.sin_mul(x, y, jax_ops), rules.sin_mul_jvp(x, y, x_dot, y_dot, jax_ops)


def sin_mul(x: Any, y: Any) -> Array:
    """``y ⊙ sin x``, elementwise with broadcasting; ``jax.custom_jvp`` rule.

    JVP: ``out_dot = y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``; reverse mode by transposing it
    (``x̄ = ō ⊙ y ⊙ cos x``, ``ȳ = ō ⊙ sin x``, reduced to each input's shape).

    >>> import jax, jax.numpy as jnp
    >>> x, y = jnp.zeros(3), jnp.asarray(2.0)
    >>> x_bar, y_bar = jax.grad(lambda x, y: sin_mul(x, y).sum(), argnums=(0, 1))(x, y)
    >>> x_bar.tolist(), y_bar.tolist()
    ([2.0, 2.0, 2.0], 0.0)
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    _validate.check_sin_mul(x, y, _ARRAY)
    return sin_mul_custom_jvp(x, y)


@jax.custom_vjp
def sin_mul_custom_vjp(x: Array, y: Array) -> Array:
    """``y ⊙ sin x`` with the VJP rule :func:`sin_mul_fwd`/:func:`sin_mul_bwd`."""
    return rules.sin_mul(x, y, jax_ops)


def sin_mul_fwd(x: Array, y: Array) -> tuple[Array, tuple[Array, Array]]:
    """Forward pass: the output and the residuals ``(x, y)``.

    >>> out, (x, y) = sin_mul_fwd(jnp.zeros(2), jnp.ones(2))
    >>> out.tolist()
    [0.0, 0.0]
    """
    return rules.sin_mul(x, y, jax_ops), (x, y)


def sin_mul_bwd(residuals: tuple[Array, Array], out_bar: Array) -> tuple[Array, Array]:
    """VJP: ``x̄ = Σ(ō ⊙ y ⊙ cos x)``, ``ȳ = Σ(ō ⊙ sin x)`` to each input's shape.

    >>> x_bar, y_bar = sin_mul_bwd((jnp.zeros(2), jnp.ones((3, 1))), jnp.ones((3, 2)))
    >>> x_bar.tolist(), y_bar.shape
    ([3.0, 3.0], (3, 1))
    """
    x, y = residuals
    return rules.sin_mul_vjp(x, y, out_bar, jax_ops)  # type: ignore[return-value]


sin_mul_custom_vjp.defvjp(sin_mul_fwd, sin_mul_bwd)


def sin_mul_vjp(x: Any, y: Any) -> Array:
    """``y ⊙ sin x`` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP: ``x̄ = ō ⊙ y ⊙ cos x``, ``ȳ = ō ⊙ sin x``, each reduced to its input's shape.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(lambda x: sin_mul_vjp(x, jnp.ones(2)).sum())(jnp.zeros(2)).tolist()
    [1.0, 1.0]
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    _validate.check_sin_mul(x, y, _ARRAY)
    return sin_mul_custom_vjp(x, y)


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
    return rules.matvec(A, x, jax_ops), rules.matvec_jvp(A, x, A_dot, x_dot, jax_ops)


def matvec(A: Any, x: Any) -> Array:
    """``A x`` for ``A`` of shape ``(m, n)`` and ``x`` of shape ``(n,)``; ``jax.custom_jvp`` rule.

    JVP: ``ẏ = Ȧ x + A ẋ``; reverse mode by transposing it (``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``).

    >>> import jax, jax.numpy as jnp
    >>> A, x = jnp.eye(2), jnp.asarray([1.0, 2.0])
    >>> jax.grad(lambda A: matvec(A, x).sum())(A).tolist()
    [[1.0, 2.0], [1.0, 2.0]]
    """
    A, x = jnp.asarray(A), jnp.asarray(x)
    _validate.check_matvec(A, x, _ARRAY)
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
    return rules.matvec_vjp(A, x, y_bar, jax_ops)  # type: ignore[return-value]


matvec_custom_vjp.defvjp(matvec_fwd, matvec_bwd)


def matvec_vjp(A: Any, x: Any) -> Array:
    """``A x`` with a ``jax.custom_vjp`` rule: **reverse mode only**. VJP: ``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(lambda x: matvec_vjp(2 * jnp.eye(2), x).sum())(jnp.ones(2)).tolist()
    [2.0, 2.0]
    """
    A, x = jnp.asarray(A), jnp.asarray(x)
    _validate.check_matvec(A, x, _ARRAY)
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
    return x, rules.solve_jvp(lu_factors, x, A_dot, b_dot, jax_ops)


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
    _validate.check_solve(A, b, _ARRAY)
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
    return rules.solve_vjp(lu_factors, x, x_bar, jax_ops)  # type: ignore[return-value]


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
    _validate.check_solve(A, b, _ARRAY)
    return solve_custom_vjp(A, b)


# --------------------------------------------------------------------------
# sin, whose derivative is itself a custom rule
# --------------------------------------------------------------------------


@jax.custom_jvp
def sin_custom_jvp(x: Array) -> Array:
    """``sin x`` with the JVP rule :func:`sin_jvp_rule`."""
    return rules.sin(x, jax_ops)


@sin_custom_jvp.defjvp
def sin_jvp_rule(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    """JVP: ``ẏ = cos x ⊙ ẋ``, with ``cos x`` from :func:`sin_derivative`, a custom rule itself.

    ``cos x`` is computed from the primal alone, as a residual: when JAX
    linearises this rule for reverse mode it keeps custom rules applied to
    primals but inlines those applied to tangents, so only this form makes
    *every* second derivative (forward or reverse, in any order) come from
    :func:`sin_derivative_jvp_rule`.

    >>> y, y_dot = sin_jvp_rule((jnp.asarray(0.0),), (jnp.asarray(2.0),))
    >>> y.tolist(), y_dot.tolist()
    (0.0, 2.0)
    """
    (x,), (x_dot,) = primals, tangents
    cos_x = sin_derivative(x)
    return sin_custom_jvp(x), rules.sin_jvp(cos_x, x_dot)


@jax.custom_jvp
def sin_derivative(x: Array) -> Array:
    """``cos x``, the derivative of :func:`sin`, with its own JVP rule (the second derivative).

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(sin_derivative)(jnp.asarray(0.0)).tolist()
    -0.0
    """
    return rules.sin_derivative(x, jax_ops)


@sin_derivative.defjvp
def sin_derivative_jvp_rule(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    """JVP of ``cos``: ``−sin x ⊙ ẋ``: the second-derivative rule of :func:`sin`.

    >>> _, d = sin_derivative_jvp_rule((jnp.asarray(jnp.pi / 2),), (jnp.asarray(2.0),))
    >>> d.tolist()
    -2.0
    """
    (x,), (x_dot,) = primals, tangents
    return sin_derivative(x), rules.sin_derivative_jvp(x, x_dot, jax_ops)


def sin(x: Any) -> Array:
    """``sin x`` with a ``jax.custom_jvp`` rule whose derivative ``cos x`` is itself a custom rule.

    First derivatives: ``ẏ = cos x ⊙ ẋ`` (:func:`sin_jvp_rule`); second
    derivatives: ``−sin x ⊙ ẋ`` from :func:`sin_derivative_jvp_rule`, never
    from JAX's own derivative of ``jnp.cos``.

    >>> import jax, jax.numpy as jnp
    >>> x = jnp.asarray(0.5)
    >>> bool(jnp.allclose(jax.grad(jax.grad(sin))(x), -jnp.sin(x)))
    True
    """
    x = jnp.asarray(x)
    _validate.check_sin(x, _ARRAY)
    return sin_custom_jvp(x)


@jax.custom_vjp
def sin_custom_vjp(x: Array) -> Array:
    """``sin x`` with the VJP rule :func:`sin_fwd`/:func:`sin_bwd`."""
    return rules.sin(x, jax_ops)


def sin_fwd(x: Array) -> tuple[Array, Array]:
    """Forward pass: ``sin x`` and the residual ``x``.

    >>> [a.tolist() for a in sin_fwd(jnp.asarray(0.0))]
    [0.0, 0.0]
    """
    return rules.sin(x, jax_ops), x


def sin_bwd(x: Array, y_bar: Array) -> tuple[Array]:
    """VJP: ``x̄ = ȳ ⊙ cos x``, computed by :func:`sin_backward`, a custom_vjp function itself.

    >>> sin_bwd(jnp.asarray(0.0), jnp.asarray(2.0))[0].tolist()
    2.0
    """
    return (sin_backward(x, y_bar),)


@jax.custom_vjp
def sin_backward(x: Array, g: Array) -> Array:
    """``(x, g) ↦ g ⊙ cos x``, the backward of :func:`sin_vjp`, with its own VJP rule.

    The JAX twin of PyTorch's ``SinBackward``: VJP ``x̄ = −ō ⊙ g ⊙ sin x``, ``ḡ = ō ⊙ cos x``.

    >>> import jax, jax.numpy as jnp
    >>> sin_backward(jnp.asarray(0.0), jnp.asarray(2.0)).tolist()
    2.0
    >>> jax.grad(sin_backward)(jnp.asarray(jnp.pi / 2), jnp.asarray(3.0)).tolist()
    -3.0
    """
    return rules.sin_backward(x, g, jax_ops)


def sin_backward_fwd(x: Array, g: Array) -> tuple[Array, tuple[Array, Array]]:
    """Forward pass of :func:`sin_backward`: the output and the residuals ``(x, g)``.

    >>> sin_backward_fwd(jnp.asarray(0.0), jnp.asarray(2.0))[0].tolist()
    2.0
    """
    return rules.sin_backward(x, g, jax_ops), (x, g)


def sin_backward_bwd(residuals: tuple[Array, Array], out_bar: Array) -> tuple[Array, Array]:
    """VJP of ``g ⊙ cos x``: ``x̄ = −ō ⊙ g ⊙ sin x``, ``ḡ = ō ⊙ cos x`` (the second derivative).

    >>> x_bar, g_bar = sin_backward_bwd((jnp.asarray(jnp.pi / 2), jnp.asarray(3.0)), jnp.asarray(1.0))
    >>> x_bar.tolist()
    -3.0
    """
    x, g = residuals
    return rules.sin_backward_vjp(x, g, out_bar, jax_ops)  # type: ignore[return-value]


sin_custom_vjp.defvjp(sin_fwd, sin_bwd)
sin_backward.defvjp(sin_backward_fwd, sin_backward_bwd)


def sin_vjp(x: Any) -> Array:
    """``sin x`` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP ``x̄ = ȳ ⊙ cos x`` by :func:`sin_backward`, whose own custom VJP gives
    reverse-over-reverse second derivatives (the Sin/SinBackward pattern).

    >>> import jax, jax.numpy as jnp
    >>> x = jnp.asarray(0.5)
    >>> bool(jnp.allclose(jax.grad(jax.grad(sin_vjp))(x), -jnp.sin(x)))
    True
    """
    x = jnp.asarray(x)
    _validate.check_sin(x, _ARRAY)
    return sin_custom_vjp(x)
