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
    """JVP: ``y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``."""
    x, y = primals
    x_dot, y_dot = tangents
    return rules.sin_mul(x, y, jax_ops), rules.sin_mul_jvp(x, y, x_dot, y_dot, jax_ops)


def sin_mul(x: Any, y: Any) -> Array:
    """``y ⊙ sin x``, elementwise with broadcasting; ``jax.custom_jvp`` rule.

    JVP: ``ẏ_out = y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``; reverse mode by transposing it
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
    """Forward pass: the output and the residuals ``(x, y)``."""
    return rules.sin_mul(x, y, jax_ops), (x, y)


def sin_mul_bwd(residuals: tuple[Array, Array], out_bar: Array) -> tuple[Array, Array]:
    """VJP: ``x̄ = Σ(ō ⊙ y ⊙ cos x)``, ``ȳ = Σ(ō ⊙ sin x)`` to each input's shape."""
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
