"""JAX adapters of the reduction rules: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions.

``logsumexp``, ``softmax``, ``norm`` are :func:`jax.custom_jvp` functions: one
JVP rule gives forward mode, reverse mode (JAX linearises the rule and
transposes it), ``jit``, ``vmap`` and higher orders. ``logsumexp_vjp``,
``softmax_vjp``, ``norm_vjp`` are the :func:`jax.custom_vjp` versions:
**reverse mode only** (``jax.jvp`` raises a ``TypeError`` on them), but
``jit``, ``vmap`` and reverse-over-reverse work. Each reduces over the last
axis. The derivatives are written so that second derivatives come from the
rules too: ``logsumexp``'s derivative is ``softmax`` (a custom rule), and
``norm``'s residual ``r`` is computed by ``norm`` itself, so no NaN of the
square root at 0 appears in any order. The formulas come from
``companion.ops.reductions.rules``; this module is wiring. The public
functions convert their arguments with :func:`jax.numpy.asarray` and
validate shapes and dtypes (statically, so also under ``jit``).
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.reductions import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "logsumexp",
    "softmax",
    "norm",
    "logsumexp_vjp",
    "softmax_vjp",
    "norm_vjp",
    "logsumexp_custom_jvp",
    "logsumexp_jvp_rule",
    "softmax_custom_jvp",
    "softmax_jvp_rule",
    "norm_custom_jvp",
    "norm_jvp_rule",
    "logsumexp_custom_vjp",
    "logsumexp_fwd",
    "logsumexp_bwd",
    "softmax_custom_vjp",
    "softmax_fwd",
    "softmax_bwd",
    "norm_custom_vjp",
    "norm_fwd",
    "norm_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


# --------------------------------------------------------------------------
# softmax (first: logsumexp's derivative is softmax)
# --------------------------------------------------------------------------


@jax.custom_jvp
def softmax_custom_jvp(x: Array) -> Array:
    """``softmax(x)`` over the last axis with the JVP rule :func:`softmax_jvp_rule`."""
    return rules.softmax(x, jax_ops)


@softmax_custom_jvp.defjvp
def softmax_jvp_rule(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    """JVP: ``ṡ = s ⊙ (ẋ − ⟨s, ẋ⟩)``, with ``s`` the output.

    >>> s, s_dot = softmax_jvp_rule((jnp.zeros(2),), (jnp.asarray([1.0, -1.0]),))
    >>> s.tolist(), s_dot.tolist()
    ([0.5, 0.5], [0.5, -0.5])
    """
    (x,), (x_dot,) = primals, tangents
    s = softmax_custom_jvp(x)
    return s, rules.softmax_tangent(s, x_dot)


def softmax(x: Any) -> Array:
    """``softmax(x)`` over the last axis, stable for large entries; ``jax.custom_jvp`` rule.

    JVP ``ṡ = s ⊙ (ẋ − ⟨s, ẋ⟩)``; reverse mode by transposing it, which gives the
    same formula ``x̄ = s ⊙ (s̄ − ⟨s, s̄⟩)`` (the Jacobian is symmetric). A row of
    ``−inf`` gives ``s = 0`` (``jax.nn.softmax`` gives NaN).

    >>> import jax, jax.numpy as jnp
    >>> x = jnp.asarray([1e4, 1e4, -jnp.inf])
    >>> softmax(x).tolist()
    [0.5, 0.5, 0.0]
    >>> (jax.grad(lambda x: softmax(x)[0])(x) + 0.0).tolist()
    [0.25, -0.25, 0.0]
    """
    x = jnp.asarray(x)
    rules.check_softmax(x, _ARRAY)
    return softmax_custom_jvp(x)


@jax.custom_vjp
def softmax_custom_vjp(x: Array) -> Array:
    """``softmax(x)`` with the VJP rule :func:`softmax_fwd`/:func:`softmax_bwd`."""
    return rules.softmax(x, jax_ops)


def softmax_fwd(x: Array) -> tuple[Array, Array]:
    """Forward pass: the output ``s``, which is also the residual.

    >>> s, residual = softmax_fwd(jnp.zeros(2))
    >>> s.tolist(), residual is s
    ([0.5, 0.5], True)
    """
    s = rules.softmax(x, jax_ops)
    return s, s


def softmax_bwd(s: Array, s_bar: Array) -> tuple[Array]:
    """VJP: ``x̄ = s ⊙ (s̄ − ⟨s, s̄⟩)``.

    >>> softmax_bwd(jnp.asarray([0.5, 0.5]), jnp.asarray([1.0, 0.0]))[0].tolist()
    [0.25, -0.25]
    """
    return (rules.softmax_cotangent(s, s_bar),)


softmax_custom_vjp.defvjp(softmax_fwd, softmax_bwd)


def softmax_vjp(x: Any) -> Array:
    """``softmax(x)`` over the last axis with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP ``x̄ = s ⊙ (s̄ − ⟨s, s̄⟩)`` from the saved output ``s``.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(lambda x: softmax_vjp(x)[0])(jnp.zeros(2)).tolist()
    [0.25, -0.25]
    """
    x = jnp.asarray(x)
    rules.check_softmax(x, _ARRAY)
    return softmax_custom_vjp(x)


# --------------------------------------------------------------------------
# logsumexp
# --------------------------------------------------------------------------


@jax.custom_jvp
def logsumexp_custom_jvp(x: Array) -> Array:
    """``log Σ_j exp x_j`` over the last axis with the JVP rule
    :func:`logsumexp_jvp_rule`."""
    return rules.logsumexp(x, jax_ops)


@logsumexp_custom_jvp.defjvp
def logsumexp_jvp_rule(
    primals: tuple[Array], tangents: tuple[Array]
) -> tuple[Array, Array]:
    """JVP: ``ẏ = ⟨s, ẋ⟩`` with ``s`` from :func:`softmax_custom_jvp`, so second
    derivatives use its rule.

    >>> y, y_dot = logsumexp_jvp_rule((jnp.zeros(2),), (jnp.asarray([4.0, 0.0]),))
    >>> y_dot.tolist()
    2.0
    """
    (x,), (x_dot,) = primals, tangents
    s = softmax_custom_jvp(x)
    return logsumexp_custom_jvp(x), rules.logsumexp_tangent(s, x_dot)


def logsumexp(x: Any) -> Array:
    """``log Σ_j exp x_j`` over the last axis (shape ``x.shape[:-1]``); ``jax.custom_jvp`` rule.

    Computed as ``m + log Σ_j exp(x_j − m)`` with ``m`` the row's max; JVP
    ``ẏ = ⟨s, ẋ⟩``, reverse mode ``x̄ = ȳ s``, with ``s = softmax(x)``. A ``−inf``
    entry gets zero gradient; a row of ``−inf`` gives ``−inf`` with zero
    gradient (``jax.nn.logsumexp`` gives NaN).

    >>> import jax, jax.numpy as jnp
    >>> x = jnp.asarray([[1e4, 1e4], [-jnp.inf, -jnp.inf]])
    >>> [round(y, 2) for y in logsumexp(x).tolist()]  # float32: 1e4 + log 2
    [10000.69, -inf]
    >>> jax.grad(lambda x: logsumexp(x).sum())(x).tolist()
    [[0.5, 0.5], [0.0, 0.0]]
    """
    x = jnp.asarray(x)
    rules.check_logsumexp(x, _ARRAY)
    return logsumexp_custom_jvp(x)


@jax.custom_vjp
def logsumexp_custom_vjp(x: Array) -> Array:
    """``log Σ_j exp x_j`` with the VJP rule :func:`logsumexp_fwd`/:func:`logsumexp_bwd`."""
    return rules.logsumexp(x, jax_ops)


def logsumexp_fwd(x: Array) -> tuple[Array, Array]:
    """Forward pass: the output and the residual ``x``.

    >>> y, x = logsumexp_fwd(jnp.zeros(2))
    >>> round(float(y), 6)
    0.693147
    """
    return rules.logsumexp(x, jax_ops), x


def logsumexp_bwd(x: Array, y_bar: Array) -> tuple[Array]:
    """VJP: ``x̄ = ȳ s`` with ``s`` from :func:`softmax_custom_vjp`, so reverse-over-reverse uses its rule.

    >>> logsumexp_bwd(jnp.zeros(2), jnp.asarray(2.0))[0].tolist()
    [1.0, 1.0]
    """
    return (rules.logsumexp_cotangent(softmax_custom_vjp(x), y_bar),)


logsumexp_custom_vjp.defvjp(logsumexp_fwd, logsumexp_bwd)


def logsumexp_vjp(x: Any) -> Array:
    """``log Σ_j exp x_j`` over the last axis with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP ``x̄ = ȳ softmax(x)``.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(logsumexp_vjp)(jnp.asarray([0.0, -jnp.inf])).tolist()
    [1.0, 0.0]
    """
    x = jnp.asarray(x)
    rules.check_logsumexp(x, _ARRAY)
    return logsumexp_custom_vjp(x)


# --------------------------------------------------------------------------
# norm
# --------------------------------------------------------------------------


@jax.custom_jvp
def norm_custom_jvp(x: Array) -> Array:
    """``‖x‖`` over the last axis with the JVP rule :func:`norm_jvp_rule`."""
    return rules.norm(x, jax_ops)


@norm_custom_jvp.defjvp
def norm_jvp_rule(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    """JVP: ``ṙ = ⟨u, ẋ⟩`` with ``u = x / r`` (``u = 0`` at ``x = 0``); ``r`` from :func:`norm_custom_jvp`.

    >>> r, r_dot = norm_jvp_rule((jnp.zeros(2),), (jnp.ones(2),))
    >>> r.tolist(), r_dot.tolist()
    (0.0, 0.0)
    """
    (x,), (x_dot,) = primals, tangents
    r = norm_custom_jvp(x)
    return r, rules.norm_tangent(rules.norm_direction(x, r, jax_ops), x_dot)


def norm(x: Any) -> Array:
    """``‖x‖ = sqrt(Σ_j x_j²)`` over the last axis; ``jax.custom_jvp`` rule.

    JVP ``ṙ = ⟨u, ẋ⟩``, reverse mode ``x̄ = r̄ u``, with ``u = x / ‖x‖``; at
    ``x = 0`` the rule chooses ``u = 0``, so every derivative there (forward,
    reverse, any order) is 0 (``jnp.linalg.norm`` gives NaN).

    >>> import jax, jax.numpy as jnp
    >>> x = jnp.zeros(3)
    >>> jax.grad(norm)(x).tolist(), jax.hessian(norm)(x).tolist()
    ([0.0, 0.0, 0.0], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    """
    x = jnp.asarray(x)
    rules.check_norm(x, _ARRAY)
    return norm_custom_jvp(x)


@jax.custom_vjp
def norm_custom_vjp(x: Array) -> Array:
    """``‖x‖`` with the VJP rule :func:`norm_fwd`/:func:`norm_bwd`."""
    return rules.norm(x, jax_ops)


def norm_fwd(x: Array) -> tuple[Array, tuple[Array, Array]]:
    """Forward pass: ``r`` and the residuals ``(x, r)``.

    ``r`` is computed by :func:`norm_custom_vjp` itself, not by the square
    root: reverse-over-reverse differentiates this function too, and the
    square root's derivative at 0 is infinite (``0 · inf = nan``).

    >>> r, (x, r_saved) = norm_fwd(jnp.asarray([3.0, 4.0]))
    >>> r.tolist(), r_saved.tolist()
    (5.0, 5.0)
    """
    r = norm_custom_vjp(x)
    return r, (x, r)


def norm_bwd(residuals: tuple[Array, Array], r_bar: Array) -> tuple[Array]:
    """VJP: ``x̄ = r̄ u`` with ``u = x / r`` (``u = 0`` at ``x = 0``).

    >>> residuals = (jnp.asarray([3.0, 4.0]), jnp.asarray(5.0))
    >>> norm_bwd(residuals, jnp.asarray(1.0))[0].tolist()
    [0.6000000238418579, 0.800000011920929]
    """
    x, r = residuals
    return (rules.norm_cotangent(rules.norm_direction(x, r, jax_ops), r_bar),)


norm_custom_vjp.defvjp(norm_fwd, norm_bwd)


def norm_vjp(x: Any) -> Array:
    """``‖x‖`` over the last axis with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP ``x̄ = r̄ u`` with ``u = x / ‖x‖`` and ``u = 0`` at ``x = 0``; second
    derivatives (reverse over reverse) are finite at 0 as well.

    >>> import jax, jax.numpy as jnp
    >>> x = jnp.zeros(2)
    >>> jax.grad(norm_vjp)(x).tolist(), jax.jacrev(jax.grad(norm_vjp))(x).tolist()
    ([0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]])
    """
    x = jnp.asarray(x)
    rules.check_norm(x, _ARRAY)
    return norm_custom_vjp(x)
