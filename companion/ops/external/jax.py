"""JAX adapters of the external rules: ``jax.pure_callback`` inside ``custom_jvp`` and ``custom_vjp``.

:func:`bessel_jn_callback` calls SciPy on the host through
:func:`jax.pure_callback`: JAX sees only the output's shape and dtype (a
:class:`jax.ShapeDtypeStruct`) and a promise that the call is pure. JAX cannot
differentiate through a callback, so the rule is ours: :func:`bessel_jn`
(``jax.custom_jvp``) and :func:`bessel_jn_vjp` (``jax.custom_vjp``, reverse
mode only), whose rules call the callback again at orders ``n − 1`` and ``n + 1``.

``vmap_method="expand_dims"``: ``scipy.special.jv`` is a NumPy ufunc, so it
already maps over a leading batch axis; under ``jax.vmap`` the callback then
runs **once per batch**, on the whole batched array (``"sequential"`` would
call Python once per batch element; ``"broadcast_all"`` would also work but
materialises broadcast copies of unbatched arguments, of which this one-input
callback has none).
"""

from __future__ import annotations

import functools
from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.external import rules  # noqa: E402

__all__ = [
    "bessel_j0",
    "bessel_j0_vjp",
    "bessel_jn",
    "bessel_jn_vjp",
    "bessel_jn_callback",
    "bessel_jn_jvp_rule",
    "bessel_jn_fwd",
    "bessel_jn_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


def bessel_jn_callback(x: Array, n: int) -> Array:
    """``J_n(x)`` by SciPy on the host: ``jax.pure_callback`` with
    ``vmap_method="expand_dims"``.

    >>> bessel_jn_callback(jnp.zeros(2), 0).tolist()
    [1.0, 1.0]
    """
    out = jax.ShapeDtypeStruct(x.shape, x.dtype)
    return jax.pure_callback(
        functools.partial(rules.bessel_jn_numpy, n=n), out, x, vmap_method="expand_dims"
    )


@functools.partial(jax.custom_jvp, nondiff_argnums=(1,))
def bessel_jn(x: Array, n: int) -> Array:
    """``J_n(x)`` by SciPy (:func:`bessel_jn_callback`) with the JVP rule
    :func:`bessel_jn_jvp_rule`."""
    return bessel_jn_callback(x, n)


@bessel_jn.defjvp
def bessel_jn_jvp_rule(
    n: int, primals: tuple[Array], tangents: tuple[Array]
) -> tuple[Array, Array]:
    """JVP: ``ẏ = (J_{n−1}(x) − J_{n+1}(x)) / 2 ⊙ ẋ``, the Bessel values from
    :func:`bessel_jn`.

    The neighbouring values are computed from the primal alone, so the tangent
    is linear in ``ẋ`` (reverse mode transposes it) and a second derivative
    comes from this same rule at orders ``n − 1`` and ``n + 1``.

    >>> y, y_dot = bessel_jn_jvp_rule(0, (jnp.ones(1),), (jnp.full(1, 2.0),))
    >>> round(float(y[0]), 4), round(float(y_dot[0]), 4)  # J_0(1), −2 J_1(1)
    (0.7652, -0.8801)
    """
    (x,), (x_dot,) = primals, tangents
    j_prev, j_next = bessel_jn(x, n - 1), bessel_jn(x, n + 1)
    return bessel_jn(x, n), rules.bessel_jn_tangent(j_prev, j_next, x_dot)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def bessel_jn_vjp(x: Array, n: int) -> Array:
    """``J_n(x)`` by SciPy with the VJP rule :func:`bessel_jn_fwd`/:func:`bessel_jn_bwd`."""
    return bessel_jn_callback(x, n)


def bessel_jn_fwd(x: Array, n: int) -> tuple[Array, Array]:
    """Forward pass: ``J_n(x)`` and the residual ``x``.

    The output comes from :func:`bessel_jn_vjp` itself, not from the bare
    callback: under ``grad`` of ``grad`` the outer derivative traces this
    function too, and a bare ``pure_callback`` has no derivative.

    >>> y, x = bessel_jn_fwd(jnp.zeros(1), 0)
    >>> y.tolist()
    [1.0]
    """
    return bessel_jn_vjp(x, n), x


def bessel_jn_bwd(n: int, x: Array, y_bar: Array) -> tuple[Array]:
    """VJP: ``x̄ = (J_{n−1}(x) − J_{n+1}(x)) / 2 ⊙ ȳ``, by :func:`bessel_jn_vjp` again.

    ``n`` comes first (``nondiff_argnums``); it gets no cotangent.

    >>> (x_bar,) = bessel_jn_bwd(0, jnp.ones(1), jnp.ones(1))
    >>> [round(v, 4) for v in x_bar.tolist()]  # −J_1(1)
    [-0.4401]
    """
    j_prev, j_next = bessel_jn_vjp(x, n - 1), bessel_jn_vjp(x, n + 1)
    return (rules.bessel_jn_cotangent(j_prev, j_next, y_bar),)


bessel_jn_vjp.defvjp(bessel_jn_fwd, bessel_jn_bwd)


def bessel_j0(x: Any) -> Array:
    """``J_0(x)`` evaluated by SciPy; ``jax.custom_jvp`` rule ``ẏ = −J_1(x) ⊙ ẋ``.

    Works under ``jit``, ``vmap``, ``grad``, ``jvp`` and to any order.

    >>> import jax, jax.numpy as jnp
    >>> round(float(jax.grad(bessel_j0)(1.0)), 6)  # −J_1(1)
    -0.440051
    """
    x = jnp.asarray(x)
    rules.check_bessel_j0(x, _ARRAY)
    return bessel_jn(x, 0)


def bessel_j0_vjp(x: Any) -> Array:
    """``J_0(x)`` evaluated by SciPy; ``jax.custom_vjp`` rule ``x̄ = −J_1(x) ⊙ ȳ``: **reverse mode only**.

    >>> import jax, jax.numpy as jnp
    >>> round(float(jax.grad(bessel_j0_vjp)(1.0)), 6)  # −J_1(1)
    -0.440051
    """
    x = jnp.asarray(x)
    rules.check_bessel_j0(x, _ARRAY)
    return bessel_jn_vjp(x, 0)
