"""JAX adapters of the elementwise rules: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions.

``sin_mul``, ``sin``, ``softplus`` are :func:`jax.custom_jvp` functions: one JVP rule gives forward mode,
reverse mode (JAX linearises the rule and transposes it), ``jit``, ``vmap``
and higher orders. ``sin_mul_vjp``, ``sin_vjp``, ``softplus_vjp`` are the :func:`jax.custom_vjp` versions:
**reverse mode only** (``jax.jvp`` raises a ``TypeError`` on them), but
``jit``, ``vmap`` and reverse-over-reverse work. The formulas come from
``companion.ops.elementwise.rules``; this module is wiring. The public functions
convert their arguments with :func:`jax.numpy.asarray` and validate shapes and
dtypes (statically, so also under ``jit``).
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.elementwise import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "sin_mul",
    "sin",
    "sin_mul_vjp",
    "sin_vjp",
    "sin_derivative",
    "sin_backward",
    "sin_mul_custom_jvp",
    "sin_mul_jvp_rule",
    "sin_custom_jvp",
    "sin_jvp_rule",
    "sin_derivative_jvp_rule",
    "sin_mul_custom_vjp",
    "sin_mul_fwd",
    "sin_mul_bwd",
    "sin_custom_vjp",
    "sin_fwd",
    "sin_bwd",
    "sin_backward_fwd",
    "sin_backward_bwd",
    "softplus",
    "softplus_vjp",
    "softplus_custom_jvp",
    "softplus_jvp_rule",
    "softplus_custom_vjp",
    "softplus_fwd",
    "softplus_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


# --------------------------------------------------------------------------
# sin_mul
# --------------------------------------------------------------------------


@jax.custom_jvp
def sin_mul_custom_jvp(x: Array, y: Array) -> Array:
    """``y ⊙ sin x`` with the JVP rule :func:`sin_mul_jvp_rule`."""
    return rules.sin_mul(x, y, jax_ops)


@sin_mul_custom_jvp.defjvp
def sin_mul_jvp_rule(
    primals: tuple[Array, Array], tangents: tuple[Array, Array]
) -> tuple[Array, Array]:
    """JVP: ``y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``.

    >>> _, y_dot = sin_mul_jvp_rule(
    ...     (jnp.zeros(2), jnp.full(2, 3.0)), (jnp.ones(2), jnp.ones(2))
    ... )
    >>> y_dot.tolist()
    [3.0, 3.0]
    """
    x, y = primals
    x_dot, y_dot = tangents
    return rules.sin_mul(x, y, jax_ops), rules.sin_mul_tangent(
        x, y, x_dot, y_dot, jax_ops
    )


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
    rules.check_sin_mul(x, y, _ARRAY)
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
    cotangents = rules.sin_mul_cotangents(x, y, out_bar, jax_ops)
    return cotangents  # type: ignore[return-value]


sin_mul_custom_vjp.defvjp(sin_mul_fwd, sin_mul_bwd)


def sin_mul_vjp(x: Any, y: Any) -> Array:
    """``y ⊙ sin x`` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP: ``x̄ = ō ⊙ y ⊙ cos x``, ``ȳ = ō ⊙ sin x``, each reduced to its input's shape.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(lambda x: sin_mul_vjp(x, jnp.ones(2)).sum())(jnp.zeros(2)).tolist()
    [1.0, 1.0]
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    rules.check_sin_mul(x, y, _ARRAY)
    return sin_mul_custom_vjp(x, y)


# --------------------------------------------------------------------------
# sin, whose derivative is itself a custom rule
# --------------------------------------------------------------------------


@jax.custom_jvp
def sin_custom_jvp(x: Array) -> Array:
    """``sin x`` with the JVP rule :func:`sin_jvp_rule`."""
    return rules.sin(x, jax_ops)


@sin_custom_jvp.defjvp
def sin_jvp_rule(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    """JVP: ``ẏ = cos x ⊙ ẋ``, with ``cos x`` from :func:`sin_derivative`, a custom rule
    itself.

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
    return sin_custom_jvp(x), rules.sin_tangent(cos_x, x_dot)


@jax.custom_jvp
def sin_derivative(x: Array) -> Array:
    """``cos x``, the derivative of :func:`sin`, with its own JVP rule (the second
    derivative).

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(sin_derivative)(jnp.asarray(0.0)).tolist()
    -0.0
    """
    return rules.sin_derivative(x, jax_ops)


@sin_derivative.defjvp
def sin_derivative_jvp_rule(
    primals: tuple[Array], tangents: tuple[Array]
) -> tuple[Array, Array]:
    """JVP of ``cos``: ``−sin x ⊙ ẋ``: the second-derivative rule of :func:`sin`.

    >>> _, d = sin_derivative_jvp_rule((jnp.asarray(jnp.pi / 2),), (jnp.asarray(2.0),))
    >>> d.tolist()
    -2.0
    """
    (x,), (x_dot,) = primals, tangents
    return sin_derivative(x), rules.sin_derivative_tangent(x, x_dot, jax_ops)


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
    rules.check_sin(x, _ARRAY)
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
    """VJP: ``x̄ = ȳ ⊙ cos x``, computed by :func:`sin_backward`, a custom_vjp function
    itself.

    >>> sin_bwd(jnp.asarray(0.0), jnp.asarray(2.0))[0].tolist()
    2.0
    """
    return (sin_backward(x, y_bar),)


@jax.custom_vjp
def sin_backward(x: Array, g: Array) -> Array:
    """``(x, g) ↦ g ⊙ cos x``, the backward of :func:`sin_vjp`, with its own VJP rule.

    The JAX twin of PyTorch's ``SinBackward``: VJP ``x̄ = −ō ⊙ g ⊙ sin x``,
    ``ḡ = ō ⊙ cos x``.

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


def sin_backward_bwd(
    residuals: tuple[Array, Array], out_bar: Array
) -> tuple[Array, Array]:
    """VJP of ``g ⊙ cos x``: ``x̄ = −ō ⊙ g ⊙ sin x``, ``ḡ = ō ⊙ cos x`` (the second
    derivative).

    >>> x_bar, g_bar = sin_backward_bwd(
    ...     (jnp.asarray(jnp.pi / 2), jnp.asarray(3.0)), jnp.asarray(1.0)
    ... )
    >>> x_bar.tolist()
    -3.0
    """
    x, g = residuals
    cotangents = rules.sin_backward_cotangents(x, g, out_bar, jax_ops)
    return cotangents  # type: ignore[return-value]


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
    rules.check_sin(x, _ARRAY)
    return sin_custom_vjp(x)


# --------------------------------------------------------------------------
# softplus, stable for any x; its derivative sigmoid(x) is stable too
# --------------------------------------------------------------------------


@jax.custom_jvp
def softplus_custom_jvp(x: Array) -> Array:
    """``y = log(1 + exp x)``, computed stably, with the JVP rule :func:`softplus_jvp_rule`."""
    return rules.softplus(x, jax_ops)


@softplus_custom_jvp.defjvp
def softplus_jvp_rule(
    primals: tuple[Array], tangents: tuple[Array]
) -> tuple[Array, Array]:
    """JVP: ``ẏ = sigmoid(x) ⊙ ẋ`` with ``sigmoid(x) = exp(−softplus(−x))``, which never
    overflows.

    Second derivatives come from JAX differentiating this rule, hence that
    formula: every function in it has a finite derivative.

    >>> x, x_dot = jnp.asarray([-1e4, 1e4]), jnp.asarray([2.0, 2.0])
    >>> y, y_dot = softplus_jvp_rule((x,), (x_dot,))
    >>> y.tolist(), y_dot.tolist()
    ([0.0, 10000.0], [0.0, 2.0])
    """
    (x,), (x_dot,) = primals, tangents
    return rules.softplus(x, jax_ops), rules.softplus_tangent(x, x_dot, jax_ops)


def softplus(x: Any) -> Array:
    """``y = log(1 + exp x)``, elementwise, finite with finite derivatives for every finite
    ``x``; ``jax.custom_jvp`` rule ``ẏ = sigmoid(x) ⊙ ẋ`` (reverse mode by transposing it:
    ``x̄ = sigmoid(x) ⊙ ȳ``), where ``sigmoid(x) = 1 / (1 + exp(−x))``.

    >>> import jax, jax.numpy as jnp
    >>> x = jnp.asarray([-1e4, 0.0, 1e4])
    >>> (
    ...     [round(v, 6) for v in softplus(x).tolist()],
    ...     jax.grad(lambda x: softplus(x).sum())(x).tolist(),
    ... )
    ([0.0, 0.693147, 10000.0], [0.0, 0.5, 1.0])
    """
    x = jnp.asarray(x)
    rules.check_softplus(x, _ARRAY)
    return softplus_custom_jvp(x)


@jax.custom_vjp
def softplus_custom_vjp(x: Array) -> Array:
    """``y = log(1 + exp x)`` with the VJP rule :func:`softplus_fwd`/:func:`softplus_bwd`."""
    return rules.softplus(x, jax_ops)


def softplus_fwd(x: Array) -> tuple[Array, Array]:
    """Forward pass: ``softplus x`` and the residual ``x``.

    >>> y, x = softplus_fwd(jnp.asarray(0.0))
    >>> round(float(y), 6), x.tolist()
    (0.693147, 0.0)
    """
    return rules.softplus(x, jax_ops), x


def softplus_bwd(x: Array, y_bar: Array) -> tuple[Array]:
    """VJP: ``x̄ = sigmoid(x) ⊙ ȳ``; reverse-over-reverse differentiates this formula.

    >>> softplus_bwd(jnp.asarray([-1e4, 1e4]), jnp.asarray([2.0, 2.0]))[0].tolist()
    [0.0, 2.0]
    """
    return rules.softplus_cotangents(x, y_bar, jax_ops)  # type: ignore[return-value]


softplus_custom_vjp.defvjp(softplus_fwd, softplus_bwd)


def softplus_vjp(x: Any) -> Array:
    """``y = log(1 + exp x)`` with a ``jax.custom_vjp`` rule: **reverse mode only**.
    VJP ``x̄ = sigmoid(x) ⊙ ȳ``.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(lambda x: softplus_vjp(x).sum())(jnp.asarray([-1e4, 0.0, 1e4])).tolist()
    [0.0, 0.5, 1.0]
    """
    x = jnp.asarray(x)
    rules.check_softplus(x, _ARRAY)
    return softplus_custom_vjp(x)
