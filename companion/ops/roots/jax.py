"""JAX adapters of the root finder: ``root`` (``jax.custom_jvp``) and ``root_vjp``
(``jax.custom_vjp``).

The primal is Newton's method in a ``jax.lax.while_loop`` (``∂F/∂x`` by
``jax.jacfwd`` of ``F``), so it runs under ``jit`` and ``vmap``; the rules apply
the implicit function theorem at the root (:mod:`companion.ops.roots.rules`).
``F``, ``tol`` and ``max_iter`` are ``nondiff_argnums``: the public functions first
pass ``F`` through :func:`jax.closure_convert`, which hoists the traced values
``F`` closes over into explicit parameters, so the function the custom rules see
closes over nothing traced, and closed-over traced values get their derivatives
as parameters do. ``params`` may be pytrees.

JAX cannot raise on a value under ``jit``: when Newton's method stops without a
root (``max_iter`` steps without ``‖F(x_k, θ)‖∞ ≤ tol``, or a non-finite residual,
as a singular ``∂F/∂x`` gives), ``root`` returns a vector of NaN, eagerly and
under ``jit`` alike, and its derivatives are NaN too.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion import _validate  # noqa: E402
from companion.ops.roots import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "root",
    "root_vjp",
    "root_custom_jvp",
    "root_jvp_rule",
    "root_custom_vjp",
    "root_fwd",
    "root_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


def _newton(
    F: Callable[..., Array],
    x0: Array,
    params: tuple[Any, ...],
    tol: float,
    max_iter: int,
) -> Array:
    """Newton's method in a ``while_loop``; NaN where it stops without a root."""
    jacobian = jax.jacfwd(F)

    def keep_going(state: tuple[Array, Array, Array, Array]) -> Array:
        k, _, done, failed = state
        return (k < max_iter) & ~done & ~failed

    def step(
        state: tuple[Array, Array, Array, Array],
    ) -> tuple[Array, Array, Array, Array]:
        k, x, _, _ = state
        x_next, r, _ = rules.root_newton_step(F, jacobian, x, params, jax_ops)
        return k + 1, x_next, r <= tol, ~jnp.isfinite(r)

    init = (jnp.asarray(0), x0, jnp.asarray(False), jnp.asarray(False))
    _, x, done, _ = jax.lax.while_loop(keep_going, step, init)
    return jnp.where(done, x, jnp.nan)


def _at_root(F: Callable[..., Array], x: Array, params: tuple[Any, ...]) -> Any:
    """The LU factors of ``∂F/∂x`` at the root."""
    return jax_ops.lu_factor(jax.jacfwd(F)(x, *params))


# --------------------------------------------------------------------------
# custom_jvp: forward mode, and reverse mode by transposition
# --------------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2))
def root_custom_jvp(
    F: Callable[..., Array], tol: float, max_iter: int, x0: Array, *params: Any
) -> Array:
    """``x`` with ``F(x, *params) = 0`` by Newton's method, with the JVP rule
    :func:`root_jvp_rule`."""
    return _newton(F, x0, params, tol, max_iter)


@root_custom_jvp.defjvp
def root_jvp_rule(
    F: Callable[..., Array],
    tol: float,
    max_iter: int,
    primals: tuple[Any, ...],
    tangents: tuple[Any, ...],
) -> tuple[Array, Array]:
    """JVP: ``ẋ = −(∂F/∂x)⁻¹ (∂F/∂θ) θ̇`` at the root; the tangent of ``x0`` does not
    enter.

    ``(∂F/∂θ) θ̇`` is ``jax.jvp`` of ``F`` in its parameters, ``x`` held fixed.
    The root comes from :func:`root_custom_jvp` itself, so a derivative of this
    rule (a second derivative) differentiates the root by this rule again.

    >>> F = lambda x, c: x * x - c
    >>> c, c_dot = jnp.array([4.0]), jnp.array([1.0])
    >>> x, x_dot = jax.jvp(lambda c: root(F, jnp.ones(1), c), (c,), (c_dot,))
    >>> x.tolist(), x_dot.tolist()
    ([2.0], [0.25])
    """
    x0, *params = primals
    _, *params_dot = tangents
    x = root_custom_jvp(F, tol, max_iter, x0, *params)
    _, F_dot = jax.jvp(lambda *p: F(x, *p), tuple(params), tuple(params_dot))
    return x, rules.root_tangent(_at_root(F, x, tuple(params)), F_dot, jax_ops)


def _prepared(
    F: Any, x0: Any, params: tuple[Any, ...], tol: Any, max_iter: Any
) -> tuple[Any, ...]:
    """Validate; closure-convert ``F``; returns
    ``(F, tol, max_iter, x0, *params, *hoisted)``."""
    x0 = jnp.asarray(x0)
    params = jax.tree_util.tree_map(jnp.asarray, params)
    names = rules.param_names(F, len(params))
    leaves = {
        name + jax.tree_util.keystr(path): leaf
        for name, p in zip(names, params)
        for path, leaf in jax.tree_util.tree_flatten_with_path(p)[0]
    }
    rules.check_root(F, x0, leaves, _ARRAY)
    tol = rules.default_tol(_validate.dtype_name(x0)) if tol is None else tol
    rules.check_iteration(tol, max_iter)
    rules.check_residual(jax.eval_shape(F, x0, *params), x0)
    F_closed, hoisted = jax.closure_convert(F, x0, *params)
    return (F_closed, float(tol), max_iter, x0, *params, *hoisted)


def root(
    F: Callable[..., Any],
    x0: Any,
    *params: Any,
    tol: float | None = None,
    max_iter: int = 50,
) -> Array:
    """``x`` with ``F(x, *params) = 0`` for ``x`` of shape ``(n,)``, by Newton's method
    from ``x0``; a ``jax.custom_jvp`` rule.

    ``F(x, *params)`` returns an array of ``x``'s shape; ``params`` may be
    pytrees. Newton's step ``x_{k+1} = x_k − J(x_k)⁻¹ F(x_k, θ)`` uses
    ``J = ∂F/∂x`` formed by ``jax.jacfwd`` (``n`` forward passes of ``F``: meant
    for small ``n``), in a ``while_loop`` that stops after the step taken from the
    first iterate with ``‖F(x_k, θ)‖∞ ≤ tol`` (default: the square root of the
    dtype's epsilon). JVP ``ẋ = −J⁻¹ (∂F/∂θ) θ̇`` (reverse mode by JAX's
    transposition of it); zero for ``x0``. Traced values ``F`` closes over are
    differentiated like parameters (:func:`jax.closure_convert`).

    Without a root after ``max_iter`` steps (or with a non-finite residual), the
    result is NaN, eagerly and under ``jit``.

    >>> import jax, jax.numpy as jnp
    >>> F = lambda x, c: x * x - c
    >>> root(F, jnp.ones(2), jnp.array([4.0, 16.0])).tolist()
    [2.0, 4.0]
    >>> c = jnp.array([4.0, 16.0])
    >>> jax.grad(lambda c: root(F, jnp.ones(2), c).sum())(c).tolist()  # 1 / (2 √c)
    [0.25, 0.125]
    >>> c = jnp.array([-4.0, 9.0])  # no real √−4
    >>> jax.jit(root, static_argnums=0)(F, jnp.ones(2), c).tolist()
    [nan, nan]
    """
    F_closed, tol, max_iter, x0, *params = _prepared(F, x0, params, tol, max_iter)
    return root_custom_jvp(F_closed, tol, max_iter, x0, *params)


# --------------------------------------------------------------------------
# custom_vjp: reverse mode only
# --------------------------------------------------------------------------


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def root_custom_vjp(
    F: Callable[..., Array], tol: float, max_iter: int, x0: Array, *params: Any
) -> Array:
    """``x`` with ``F(x, *params) = 0`` by Newton's method, with the VJP rule
    :func:`root_fwd`/:func:`root_bwd`."""
    return _newton(F, x0, params, tol, max_iter)


def root_fwd(
    F: Callable[..., Array], tol: float, max_iter: int, x0: Array, *params: Any
) -> tuple[Array, tuple[Array, tuple[Any, ...]]]:
    """Forward pass: the root (from :func:`root_custom_vjp` itself, so that
    reverse-over-reverse differentiates it by this rule again, not through the
    ``while_loop``); the residuals are the root and the parameters.

    >>> F = lambda x, c: x * x - c
    >>> x, (x_saved, params) = root_fwd(F, 1e-8, 50, jnp.ones(1), jnp.array([4.0]))
    >>> x.tolist()
    [2.0]
    """
    x = root_custom_vjp(F, tol, max_iter, x0, *params)
    return x, (x, params)


def root_bwd(
    F: Callable[..., Array],
    tol: float,
    max_iter: int,
    residuals: tuple[Array, tuple[Any, ...]],
    x_bar: Array,
) -> tuple[Any, ...]:
    """VJP: ``u = (∂F/∂x)⁻ᵀ x̄``, ``θ̄ = −(∂F/∂θ)ᵀ u``, ``x̄₀ = 0``.

    ``(∂F/∂θ)ᵀ`` is ``jax.vjp`` of ``F`` in its parameters at the root.

    >>> F = lambda x, c: x * x - c
    >>> x, residuals = root_fwd(F, 1e-8, 50, jnp.ones(1), jnp.array([4.0]))
    >>> [g.tolist() for g in root_bwd(F, 1e-8, 50, residuals, jnp.array([1.0]))]
    [[0.0], [0.25]]
    """
    x, params = residuals
    _, F_vjp = jax.vjp(lambda *p: F(x, *p), *params)
    needs = (True,) * (1 + len(params))
    return rules.root_cotangents(_at_root(F, x, params), x_bar, F_vjp, jax_ops, needs)


root_custom_vjp.defvjp(root_fwd, root_bwd)


def root_vjp(
    F: Callable[..., Any],
    x0: Any,
    *params: Any,
    tol: float | None = None,
    max_iter: int = 50,
) -> Array:
    """:func:`root` with a ``jax.custom_vjp`` rule: **reverse mode only**. VJP:
    ``u = (∂F/∂x)⁻ᵀ x̄``, ``θ̄ = −(∂F/∂θ)ᵀ u``, ``x̄₀ = 0``.

    >>> import jax, jax.numpy as jnp
    >>> F = lambda x, c: x * x - c
    >>> jax.grad(lambda c: root_vjp(F, jnp.ones(1), c).sum())(jnp.array([4.0])).tolist()
    [0.25]
    """
    F_closed, tol, max_iter, x0, *params = _prepared(F, x0, params, tol, max_iter)
    return root_custom_vjp(F_closed, tol, max_iter, x0, *params)
