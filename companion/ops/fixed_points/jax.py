"""JAX adapters of the fixed points: ``fixed_point`` (custom_jvp) and ``fixed_point_vjp`` (custom_vjp).

Both iterate ``x_{k+1} = f(x_k, θ)`` in a ``jax.lax.while_loop`` (so they run
under ``jit`` and ``vmap``) and return NaN where the iteration has not reached
``tol`` within ``max_iter`` steps: under ``jit`` JAX cannot raise on a value.

``f`` is a static argument (``nondiff_argnums``) *after*
``jax.closure_convert``: the public functions hoist every traced value ``f``
closes over into an extra parameter, so the custom rules differentiate with
respect to it too and no tracer leaks into a static argument.

* ``fixed_point``: the JVP rule solves ``ẋ = (∂f/∂x) ẋ + (∂f/∂θ) θ̇`` with
  ``jax.lax.custom_linear_solve``, whose ``solve`` iterates the tangent map and
  whose ``transpose_solve`` iterates the adjoint map ``u = x̄ + (∂f/∂x)ᵀ u``:
  reverse mode transposes the JVP into that adjoint solve (VJPs of ``f`` only).
* ``fixed_point_vjp``: the backward pass solves ``u = x̄ + (∂f/∂x)ᵀ u`` by calling
  ``fixed_point_vjp`` itself on the adjoint map, then ``θ̄ = (∂f/∂θ)ᵀ u``; being
  built of custom_vjp calls and ``jax.vjp``, it is differentiable again.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.fixed_points import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = ["fixed_point", "fixed_point_vjp"]

Array = Any
_ARRAY = "an array"


def _iterate(f: Callable[..., Array], x0: Array, params: tuple[Any, ...], tol: float, max_iter: int) -> Array:
    """:func:`companion.rules.fixed_point` in a ``while_loop``; NaN where the residual stays above ``tol``."""

    def cond(state: tuple[Array, Array, Array]) -> Array:
        _, residual, k = state
        return (residual > tol) & (k < max_iter)

    def body(state: tuple[Array, Array, Array]) -> tuple[Array, Array, Array]:
        x, _, k = state
        fx, residual = rules.fixed_point_step(f, x, params, jax_ops)
        return fx, residual.astype(x.real.dtype), k + 1

    init = (x0, jnp.asarray(jnp.inf, x0.real.dtype), jnp.asarray(0))
    x, residual, _ = jax.lax.while_loop(cond, body, init)
    return jnp.where(residual <= tol, x, jnp.nan)


# --------------------------------------------------------------------------
# fixed_point: custom_jvp; the tangent solve is a custom_linear_solve
# --------------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2))
def fixed_point_custom_jvp(f: Callable[..., Array], tol: float, max_iter: int, x0: Array, params: tuple[Any, ...]) -> Array:
    """``x* = f(x*, *params)`` with the JVP rule :func:`fixed_point_jvp_rule`."""
    return _iterate(f, x0, params, tol, max_iter)


@fixed_point_custom_jvp.defjvp
def fixed_point_jvp_rule(
    f: Callable[..., Array], tol: float, max_iter: int,
    primals: tuple[Array, Any], tangents: tuple[Array, Any],
) -> tuple[Array, Array]:
    """JVP: ``ẋ = (∂f/∂x) ẋ + (∂f/∂θ) θ̇``, a linear solve
    ``(I − ∂f/∂x) ẋ = (∂f/∂θ) θ̇`` by iteration.

    ``jax.lax.custom_linear_solve`` gets both iterations: ``solve`` (the tangent
    map ``v ↦ b + (∂f/∂x) v``) and ``transpose_solve`` (the adjoint map
    ``u ↦ x̄ + (∂f/∂x)ᵀ u``), which reverse mode uses. The primal is
    ``fixed_point_custom_jvp`` again, so higher derivatives use this rule too.

    >>> f = lambda x, a: a * x + 1.0
    >>> primals = (jnp.zeros(1), (jnp.asarray(0.5),))
    >>> tangents = (jnp.zeros(1), (jnp.asarray(1.0),))
    >>> x, x_dot = fixed_point_jvp_rule(f, 1e-14, 200, primals, tangents)
    >>> x.tolist(), x_dot.tolist()  # x = 1/(1 − a), ẋ = 1/(1 − a)² ȧ
    ([2.0], [4.0])
    """
    x0, params = primals
    _, params_dot = tangents
    x = fixed_point_custom_jvp(f, tol, max_iter, x0, params)
    b = jax.jvp(lambda p: f(x, *p), (params,), (params_dot,))[1]

    def matvec(v: Array) -> Array:  # (I − ∂f/∂x) v
        return v - jax.jvp(lambda x: f(x, *params), (x,), (v,))[1]

    def solve(matvec: Callable[[Array], Array], b: Array) -> Array:  # v = b + (∂f/∂x) v
        def step(v: Array, b: Array) -> Array:
            return rules.fixed_point_tangent_map(v, b, lambda v: v - matvec(v))

        return _iterate(step, b, (b,), tol, max_iter)

    def transpose_solve(vecmat: Callable[[Array], Array], x_bar: Array) -> Array:
        def step(u: Array, x_bar: Array) -> Array:  # u = x̄ + (∂f/∂x)ᵀ u
            return rules.fixed_point_adjoint_map(u, x_bar, lambda u: u - vecmat(u))

        return _iterate(step, x_bar, (x_bar,), tol, max_iter)

    x_dot = jax.lax.custom_linear_solve(matvec, b, solve, transpose_solve)
    return x, x_dot


def _prepare(f: Any, x0: Any, params: tuple[Any, ...], tol: float | None, max_iter: int) -> tuple[Any, ...]:
    """Validate, choose ``tol``, and closure-convert ``f`` (traced values it closes over become parameters)."""
    x0 = jnp.asarray(x0)
    params = jax.tree_util.tree_map(jnp.asarray, params)
    leaves = jax.tree_util.tree_leaves(params)
    if all(isinstance(p, jax.Array) for p in params):
        dtype = rules.check_fixed_point(f, x0, params, _ARRAY)
    else:  # pytrees: check x0 and the leaves
        dtype = rules.check_fixed_point(f, x0, leaves, _ARRAY, [f"params leaf {i}" for i in range(len(leaves))])
    tol = rules.default_tol(dtype) if tol is None else tol
    rules.check_fixed_point_options(tol, max_iter)
    fx = jax.eval_shape(f, x0, *params)
    rules.check_fixed_point_value(fx, x0)
    converted, consts = jax.closure_convert(lambda x, *p: f(x, *p), x0, *params)
    return converted, tol, max_iter, x0, (*params, *consts)


def fixed_point(f: Callable[..., Array], x0: Any, *params: Any, tol: float | None = None,
                max_iter: int = rules.DEFAULT_MAX_ITER) -> Array:
    """The fixed point ``x* = f(x*, *params)`` by iteration from ``x0``; ``jax.custom_jvp`` rule.

    JVP ``ẋ = (∂f/∂x) ẋ + (∂f/∂θ) θ̇`` and, by transposition, VJP
    ``u = x̄ + (∂f/∂x)ᵀ u``, ``θ̄ = (∂f/∂θ)ᵀ u``, each solved by iteration with
    JVPs or VJPs of ``f``; nothing is unrolled. ``params`` may be pytrees;
    traced values that ``f`` closes over are differentiated too
    (``jax.closure_convert``). ``x0`` gets no derivative.

    **Non-convergence.** The iteration stops when
    ``‖f(x) − x‖_∞ ≤ tol (1 + ‖f(x)‖_∞)`` (default ``tol``: 64 machine epsilons of
    the dtype). JAX cannot raise on a value under ``jit``, so if that takes more
    than ``max_iter`` iterations the result is **NaN** (every entry), and so is
    every derivative. Check ``jnp.isfinite(x).all()`` where that can happen.

    >>> import jax, jax.numpy as jnp
    >>> W, b = jnp.asarray([[0.5, 0.0], [0.25, 0.5]]), jnp.ones(2)
    >>> f = lambda x, W, b: W @ x + b
    >>> fixed_point(f, jnp.zeros(2), W, b).round(4).tolist()  # (I − W)⁻¹ b, float32
    [2.0, 3.0]
    >>> jax.grad(lambda b: fixed_point(f, jnp.zeros(2), W, b).sum())(b).round(
    ...     4
    ... ).tolist()  # (I − W)⁻ᵀ 1
    [3.0, 2.0]
    >>> fixed_point(f, jnp.zeros(2), 3 * W, b, max_iter=20).tolist()
    [nan, nan]
    """
    converted, tol, max_iter, x0, all_params = _prepare(f, x0, params, tol, max_iter)
    return fixed_point_custom_jvp(converted, tol, max_iter, x0, all_params)


# --------------------------------------------------------------------------
# fixed_point_vjp: custom_vjp; the backward pass is a fixed_point_vjp itself
# --------------------------------------------------------------------------


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def fixed_point_custom_vjp(
    f: Callable[..., Array],
    tol: float,
    max_iter: int,
    x0: Array,
    params: tuple[Any, ...],
) -> Array:
    """``x* = f(x*, *params)`` with the VJP rule :func:`fixed_point_fwd`/:func:`fixed_point_bwd`."""
    return _iterate(f, x0, params, tol, max_iter)


def fixed_point_fwd(
    f: Callable[..., Array],
    tol: float,
    max_iter: int,
    x0: Array,
    params: tuple[Any, ...],
) -> tuple[Array, tuple[Array, tuple[Any, ...]]]:
    """Forward pass: the fixed point; the residuals are ``x*`` and the parameters (no iterates).

    ``x*`` comes from ``fixed_point_custom_vjp`` itself, not from the bare
    ``while_loop``: differentiating the backward pass (second order) then
    differentiates ``x*`` by this rule again, where reverse mode through a
    ``while_loop`` would fail.

    >>> x, (x_res, params) = fixed_point_fwd(
    ...     lambda x, a: a * x + 1.0, 1e-14, 200, jnp.zeros(1), (jnp.asarray(0.5),)
    ... )
    >>> x.tolist()
    [2.0]
    """
    x = fixed_point_custom_vjp(f, tol, max_iter, x0, params)
    return x, (x, params)


def _adjoint_map(
    f: Callable[..., Array], u: Array, x_bar: Array, x: Array, params: tuple[Any, ...]
) -> Array:
    """``u ↦ x̄ + (∂f/∂x)ᵀ u`` at ``(x, θ)``, with explicit arguments (differentiable in all of them)."""
    _, vjp_x = jax.vjp(lambda x: f(x, *params), x)
    return rules.fixed_point_adjoint_map(u, x_bar, lambda u: vjp_x(u)[0])


def fixed_point_bwd(
    f: Callable[..., Array],
    tol: float,
    max_iter: int,
    residuals: tuple[Array, tuple[Any, ...]],
    x_bar: Array,
) -> tuple[Array, tuple[Any, ...]]:
    """VJP: ``u = x̄ + (∂f/∂x)ᵀ u`` (a ``fixed_point_vjp`` of the adjoint map),
    ``θ̄ = (∂f/∂θ)ᵀ u``.

    >>> f = lambda x, a: a * x + 1.0
    >>> x, residuals = fixed_point_fwd(f, 1e-14, 200, jnp.zeros(1), (jnp.asarray(0.5),))
    >>> x0_bar, (a_bar,) = fixed_point_bwd(f, 1e-14, 200, residuals, jnp.ones(1))
    >>> x0_bar.tolist(), a_bar.tolist()  # u = 1/(1 − a) = 2, ā = u x = 4
    ([0.0], 4.0)
    """
    x, params = residuals
    adjoint = functools.partial(_adjoint_map, f)
    u = fixed_point_custom_vjp(adjoint, tol, max_iter, x_bar, (x_bar, x, params))
    _, vjp_params = jax.vjp(lambda p: f(x, *p), params)
    (params_bar,) = rules.fixed_point_cotangents(u, vjp_params)
    return jnp.zeros_like(x), params_bar


fixed_point_custom_vjp.defvjp(fixed_point_fwd, fixed_point_bwd)


def fixed_point_vjp(
    f: Callable[..., Array],
    x0: Any,
    *params: Any,
    tol: float | None = None,
    max_iter: int = rules.DEFAULT_MAX_ITER,
) -> Array:
    """The fixed point ``x* = f(x*, *params)``; ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP: ``u = x̄ + (∂f/∂x)ᵀ u`` by iteration with VJPs of ``f`` (the backward pass
    calls ``fixed_point_vjp`` on the adjoint map, so it is differentiable again),
    then ``θ̄ = (∂f/∂θ)ᵀ u``. Same arguments, closure conversion and NaN on
    non-convergence as :func:`fixed_point`.

    >>> import jax, jax.numpy as jnp
    >>> W, b = jnp.asarray([[0.5, 0.0], [0.25, 0.5]]), jnp.ones(2)
    >>> f = lambda x, W, b: W @ x + b
    >>> loss = lambda b: fixed_point_vjp(f, jnp.zeros(2), W, b).sum()
    >>> jax.grad(loss)(b).round(4).tolist()
    [3.0, 2.0]
    """
    converted, tol, max_iter, x0, all_params = _prepare(f, x0, params, tol, max_iter)
    return fixed_point_custom_vjp(converted, tol, max_iter, x0, all_params)
