"""JAX adapters of the family: ``cg_solve`` (``jax.custom_jvp``) and ``cg_solve_vjp`` (``jax.custom_vjp``).

The CG loop is a ``jax.lax.while_loop`` over
:func:`~companion.ops.linear_solvers.rules.cg_step`, so it runs under ``jit``
and ``vmap``. ``matvec`` is closure-converted (``jax.closure_convert``): traced
values it closes over become explicit parameters and get their gradients.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.linear_solvers import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = ["cg_solve", "cg_solve_vjp"]

_ARRAY = "an array"
Array = Any
Matvec = Callable[..., Array]


def cg_loop(matvec: Callable[[Array], Array], b: Array, tol: float, max_iter: int) -> Array:
    """CG from ``x₀ = 0`` until ``‖r‖ ≤ tol ‖b‖`` or ``max_iter`` steps, in a ``lax.while_loop``.

    JAX cannot raise on a value under ``jit``: a system that has not converged
    (or met ``pᵀ A p ≤ 0``, an ``A`` that is not positive definite) returns NaN.

    >>> A = jnp.asarray([[4.0, 1.0], [1.0, 3.0]])
    >>> cg_loop(lambda v: A @ v, jnp.asarray([5.0, 4.0]), 1e-6, 10).round(6).tolist()
    [1.0, 1.0]
    >>> cg_loop(lambda v: A @ v, jnp.asarray([5.0, 4.0]), 1e-6, 1).tolist()
    [nan, nan]
    """
    state = rules.cg_init(b, jax_ops)
    threshold = tol**2 * state.rr

    def keep_going(carry: tuple[Any, ...]) -> Array:
        k, state, broke = carry
        return (k < max_iter) & (state.rr > threshold) & ~broke

    def step(carry: tuple[Any, ...]) -> tuple[Any, ...]:
        k, state, _ = carry
        state, pAp = rules.cg_step(matvec, state, jax_ops)
        return k + 1, state, ~(pAp > 0)

    _, state, broke = jax.lax.while_loop(keep_going, step, (0, state, jnp.asarray(False)))
    return jnp.where((state.rr <= threshold) & ~broke, state.x, jnp.nan)


def _linear_solve(matvec: Matvec, tol: float, max_iter: int, params: tuple[Array, ...], r: Array) -> Array:
    """``A⁻¹ r`` as ``jax.lax.custom_linear_solve`` with CG: linear in ``r``, so JAX can transpose it."""
    return jax.lax.custom_linear_solve(
        lambda v: matvec(v, *params), r, solve=lambda mv, rhs: cg_loop(mv, rhs, tol, max_iter), symmetric=True
    )


def _matvec_vjp(matvec: Matvec, x: Array, params: tuple[Array, ...]) -> Callable[[Array], tuple[Array, ...]]:
    """``u ↦ (∂(A(θ) x)/∂θ)ᵀ u`` at the fixed ``x``."""
    return jax.vjp(lambda *p: matvec(x, *p), *params)[1]


# --------------------------------------------------------------------------
# custom_jvp
# --------------------------------------------------------------------------


@partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2))
def cg_solve_custom_jvp(matvec: Matvec, tol: float, max_iter: int, b: Array, params: tuple[Array, ...]) -> Array:
    """``A(θ)⁻¹ b`` by CG with the JVP rule :func:`cg_solve_jvp_rule`."""
    return cg_loop(lambda v: matvec(v, *params), b, tol, max_iter)


@cg_solve_custom_jvp.defjvp
def cg_solve_jvp_rule(
    matvec: Matvec, tol: float, max_iter: int,
    primals: tuple[Array, Any], tangents: tuple[Array, Any],
) -> tuple[Array, Array]:
    """JVP: ``ẋ = A⁻¹ (ḃ − Ȧ x)``, the solve a ``custom_linear_solve``
    with CG (transposable).

    >>> mv = lambda v, d: d * v
    >>> primals = (jnp.ones(2), (jnp.asarray([2.0, 4.0]),))
    >>> tangents = (jnp.zeros(2), (jnp.asarray([1.0, 0.0]),))
    >>> x, x_dot = cg_solve_jvp_rule(mv, 1e-12, 10, primals, tangents)
    >>> x.tolist(), x_dot.tolist()
    ([0.5, 0.25], [-0.25, 0.0])
    """
    b, params = primals
    b_dot, params_dot = tangents
    x = cg_solve_custom_jvp(matvec, tol, max_iter, b, params)
    A_dot_x = jax.jvp(lambda *p: matvec(x, *p), params, params_dot)[1]
    solve = partial(_linear_solve, matvec, tol, max_iter, params)
    return x, rules.cg_solve_tangent(solve, b_dot, A_dot_x, jax_ops)


def _prepare(A: Any, b: Any, params: tuple[Any, ...], tol: Any, max_iter: Any) -> tuple[Any, ...]:
    """Validate; return ``(matvec, b, params, treedef, max_iter)`` with ``matvec`` closure-converted
    and the parameters flattened to their leaves (then the hoisted closure values)."""
    if not callable(A) or hasattr(A, "shape"):
        try:
            A = jnp.asarray(A)
        except (TypeError, ValueError):
            pass  # check_cg_solve names A and what it got
    b = jnp.asarray(b) if isinstance(b, (list, tuple, float, int)) else b
    leaves, treedef = jax.tree.flatten(params)
    leaves = [jnp.asarray(p) if isinstance(p, (list, tuple, float, int)) else p for p in leaves]
    rules.check_cg_solve(A, b, leaves, _ARRAY)
    rules.check_cg_options(tol, max_iter)
    max_iter = 10 * b.shape[0] if max_iter is None else max_iter
    if not callable(A):
        return rules.sym_matvec, b, (A,), max_iter
    flat = lambda v, *leaves: A(v, *jax.tree.unflatten(treedef, leaves))  # noqa: E731
    converted, consts = jax.closure_convert(flat, b, *leaves)
    return converted, b, (*leaves, *consts), max_iter


def cg_solve(A: Any, b: Any, *params: Any, tol: float = 1e-10, max_iter: int | None = None) -> Array:
    """``x = A⁻¹ b`` for a symmetric positive definite ``A`` by conjugate gradients; ``jax.custom_jvp`` rule.

    ``A`` is a matrix ``(n, n)``, read through its symmetric part
    ``(A + Aᵀ)/2``, or a function ``A(v, *params)`` returning ``A(θ) v``
    (``params`` may be pytrees; traced values ``A`` closes over are
    closure-converted into parameters, so they get gradients too). CG stops
    when ``‖b − A x‖ ≤ tol ‖b‖``; ``max_iter`` defaults to ``10 n``. The JVP
    ``ẋ = A⁻¹ (ḃ − Ȧ x)`` solves with ``jax.lax.custom_linear_solve`` and CG,
    which reverse mode transposes into ``u = A⁻¹ x̄``, ``b̄ = u``,
    ``θ̄ = −(∂(A(θ) x)/∂θ)ᵀ u`` (``Ā = −(u xᵀ + x uᵀ)/2`` for a matrix).

    **Non-convergence.** JAX cannot raise on a value under ``jit``: if CG has
    not reached ``tol`` after ``max_iter`` steps (or met ``pᵀ A p ≤ 0``), the
    solution is NaN, and so is every derivative that needs that solve. Test
    ``jnp.isnan(x).any()`` where that can happen.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[4.0, 1.0], [1.0, 3.0]])
    >>> b = jnp.asarray([5.0, 4.0])
    >>> cg_solve(A, b).round(6).tolist()
    [1.0, 1.0]
    >>> g = jax.grad(lambda d: cg_solve(lambda v, d: d * v, b, d).sum())(
    ...     jnp.asarray([5.0, 2.0])
    ... )
    >>> [round(float(v), 4) for v in g]  # −b/d², in float32
    [-0.2, -1.0]
    >>> cg_solve(A, b, max_iter=1).tolist()
    [nan, nan]
    """
    matvec, b, params, max_iter = _prepare(A, b, params, tol, max_iter)
    return cg_solve_custom_jvp(matvec, float(tol), max_iter, b, params)


# --------------------------------------------------------------------------
# custom_vjp
# --------------------------------------------------------------------------


@partial(jax.custom_vjp, nondiff_argnums=(0, 1, 2))
def cg_solve_custom_vjp(
    matvec: Matvec, tol: float, max_iter: int, b: Array, params: tuple[Array, ...]
) -> Array:
    """``A(θ)⁻¹ b`` by CG with the VJP rule :func:`cg_solve_fwd`/:func:`cg_solve_bwd`."""
    return cg_loop(lambda v: matvec(v, *params), b, tol, max_iter)


def cg_solve_fwd(
    matvec: Matvec, tol: float, max_iter: int, b: Array, params: tuple[Array, ...]
) -> tuple[Array, tuple[Array, tuple[Array, ...]]]:
    """Forward pass: ``x``; the residuals are ``x`` and the parameters.

    ``x`` comes from :func:`cg_solve_custom_vjp` itself, so that reverse over
    reverse differentiates it with this rule, not through the loop.

    >>> x, (x_saved, params) = cg_solve_fwd(
    ...     lambda v, d: d * v, 1e-12, 10, jnp.ones(2), (jnp.asarray([2.0, 4.0]),)
    ... )
    >>> x.tolist()
    [0.5, 0.25]
    """
    x = cg_solve_custom_vjp(matvec, tol, max_iter, b, params)
    return x, (x, params)


def cg_solve_bwd(
    matvec: Matvec,
    tol: float,
    max_iter: int,
    residuals: tuple[Array, tuple[Array, ...]],
    x_bar: Array,
) -> tuple[Array, tuple[Array, ...]]:
    """VJP: ``u = A⁻¹ x̄`` (a CG solve), ``b̄ = u``,
    ``θ̄ = −(∂(A(θ) x)/∂θ)ᵀ u``.

    >>> mv, d = lambda v, d: d * v, jnp.asarray([2.0, 4.0])
    >>> x, residuals = cg_solve_fwd(mv, 1e-12, 10, jnp.ones(2), (d,))
    >>> x_bar = jnp.asarray([1.0, 0.0])
    >>> b_bar, (d_bar,) = cg_solve_bwd(mv, 1e-12, 10, residuals, x_bar)
    >>> b_bar.tolist(), d_bar.tolist()
    ([0.5, 0.0], [-0.25, -0.0])
    """
    x, params = residuals
    solve = partial(_self_solve, matvec, tol, max_iter, params)
    b_bar, params_bar = rules.cg_solve_cotangents(
        solve, x_bar, _matvec_vjp(matvec, x, params), jax_ops
    )
    return b_bar, params_bar  # type: ignore[return-value]


def _self_solve(
    matvec: Matvec, tol: float, max_iter: int, params: tuple[Array, ...], r: Array
) -> Array:
    """``A⁻¹ r`` by :func:`cg_solve_custom_vjp` itself, so that it is differentiable again."""
    return cg_solve_custom_vjp(matvec, tol, max_iter, r, params)


cg_solve_custom_vjp.defvjp(cg_solve_fwd, cg_solve_bwd)


def cg_solve_vjp(
    A: Any, b: Any, *params: Any, tol: float = 1e-10, max_iter: int | None = None
) -> Array:
    """``x = A⁻¹ b`` by CG with a ``jax.custom_vjp`` rule: **reverse mode only**.

    Arguments and non-convergence (NaN) as for :func:`cg_solve`. VJP:
    ``u = A⁻¹ x̄``, ``b̄ = u``, ``θ̄ = −(∂(A(θ) x)/∂θ)ᵀ u``; every solve, also in
    reverse over reverse, is this function again.

    >>> import jax, jax.numpy as jnp
    >>> A, b = jnp.asarray([[4.0, 1.0], [1.0, 3.0]]), jnp.asarray([5.0, 4.0])
    >>> b_bar = jax.grad(lambda b: cg_solve_vjp(A, b).sum())(b)  # A⁻¹ 1, A symmetric
    >>> [round(float(v), 4) for v in b_bar]
    [0.1818, 0.2727]
    """
    matvec, b, params, max_iter = _prepare(A, b, params, tol, max_iter)
    return cg_solve_custom_vjp(matvec, float(tol), max_iter, b, params)
