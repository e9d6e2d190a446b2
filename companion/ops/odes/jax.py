"""JAX adapters of the ODE family: ``odeint`` (``jax.custom_jvp``) and ``odeint_vjp``
(``jax.custom_vjp``).

``odeint`` carries a JVP rule (the variational equation integrated with ``x``);
JAX obtains reverse mode by transposing it, which stores the trajectory (the
exact derivative of the RK4 steps with respect to ``x0`` and ``params``; for the
times, the continuous ``f(y_i, t_i)``). ``odeint_vjp`` carries the continuous
adjoint as its VJP rule (``x`` recomputed backward, nothing stored but the
outputs): reverse mode only. The loops are ``jax.lax.fori_loop``, so both run
under ``jit`` and ``vmap`` and differentiate again (the rules are written in
differentiable JAX operations).

``f`` and ``steps_per_interval`` are ``nondiff_argnums``; ``f`` is first
passed through :func:`jax.closure_convert`, so arrays it closes over (also
traced ones, inside ``jax.grad`` or ``jit``) become explicit parameters of the
rule and receive their gradients. ``params`` may be pytrees of arrays.
Strictly increasing ``t`` is checked where its values are known; under
``jit`` they are not, and a ``t`` that is not increasing gives NaN states.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.odes import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "odeint",
    "odeint_vjp",
    "odeint_discrete",
    "odeint_custom_jvp",
    "odeint_jvp_rule",
    "odeint_custom_vjp",
    "odeint_fwd",
    "odeint_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"
_loop = jax.lax.fori_loop


def _f_jvp(f: Callable[..., Array]) -> Callable[..., tuple[Array, Array]]:
    """``(x, τ, θ, ẋ, θ̇) ↦ (f, (∂f/∂x) ẋ + (∂f/∂θ) θ̇)`` by ``jax.jvp``."""

    def f_jvp(
        x: Array,
        tau: Array,
        params: tuple[Array, ...],
        x_dot: Array,
        params_dot: tuple[Array, ...],
    ):
        return jax.jvp(lambda x, *p: f(x, tau, *p), (x, *params), (x_dot, *params_dot))

    return f_jvp


def _f_vjp(
    f: Callable[..., Array],
) -> Callable[..., tuple[Array, Array, tuple[Array, ...]]]:
    """``(x, τ, θ, a) ↦ (f, (∂f/∂x)ᵀa, (∂f/∂θ)ᵀa)`` by ``jax.vjp``."""

    def f_vjp(x: Array, tau: Array, params: tuple[Array, ...], a: Array):
        fx, pullback = jax.vjp(lambda x, *p: f(x, tau, *p), x, *params)
        x_bar, *p_bar = pullback(a)
        return fx, x_bar, tuple(p_bar)

    return f_vjp


@functools.partial(jax.jit, static_argnums=(0, 1))
def _solve(
    f: Callable[..., Array], steps: int, x0: Array, t: Array, params: tuple[Array, ...]
) -> Array:
    """``rules.odeint`` compiled once per ``(f, steps)`` and shapes (eager calls reuse
    it)."""
    return rules.odeint(f, x0, t, params, steps, jax_ops, _loop)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _tangent(
    f: Callable[..., Array],
    steps: int,
    primals: tuple[Any, ...],
    tangents: tuple[Any, ...],
) -> Any:
    """``rules.odeint_tangent``, compiled once per ``(f, steps)`` and shapes."""
    (x0, t, params), (x0_dot, t_dot, params_dot) = primals, tangents
    return rules.odeint_tangent(
        _f_jvp(f), x0, t, params, x0_dot, t_dot, params_dot, steps, jax_ops, _loop
    )


@functools.partial(jax.jit, static_argnums=(0, 1))
def _cotangents(
    f: Callable[..., Array],
    steps: int,
    ys: Array,
    t: Array,
    params: tuple[Array, ...],
    ys_bar: Array,
) -> Any:
    """``rules.odeint_cotangents``, compiled once per ``(f, steps)`` and shapes."""
    return rules.odeint_cotangents(
        f, _f_vjp(f), ys, t, params, ys_bar, steps, jax_ops, fori_loop=_loop
    )


# --------------------------------------------------------------------------
# custom_jvp: forward mode by the variational equation
# --------------------------------------------------------------------------


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1))
def odeint_custom_jvp(
    f: Callable[..., Array], steps: int, x0: Array, t: Array, params: tuple[Array, ...]
) -> Array:
    """RK4 states ``x(t_i)`` of ``ẋ = f(x, t, *params)`` (flat ``params``), with the
    JVP rule :func:`odeint_jvp_rule`."""
    return _solve(f, steps, x0, t, params)


@odeint_custom_jvp.defjvp
def odeint_jvp_rule(
    f: Callable[..., Array],
    steps: int,
    primals: tuple[Any, ...],
    tangents: tuple[Any, ...],
) -> tuple[Array, Array]:
    """JVP: ``v̇ = (∂f/∂x) v + (∂f/∂θ) θ̇``, ``v(t₀) = ẋ₀ − f(x₀, t₀) ṫ₀``;
    ``ẏ_i = v(t_i) + f(y_i, t_i) ṫ_i``.

    >>> decay = lambda x, t, k: -k * x
    >>> t, k = jnp.asarray([0.0, 1.0]), jnp.asarray(1.0)
    >>> primals = (jnp.ones(1), t, (k,))
    >>> tangents = (jnp.zeros(1), jnp.zeros(2), (jnp.ones(()),))
    >>> _, ys_dot = odeint_jvp_rule(decay, 40, primals, tangents)
    >>> round(float(ys_dot[1, 0]), 6)  # d/dk e^{−k} = −e^{−1}
    -0.367879
    """
    return _tangent(f, steps, tuple(primals), tuple(tangents))


# --------------------------------------------------------------------------
# custom_vjp: reverse mode by the continuous adjoint
# --------------------------------------------------------------------------


@functools.partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def odeint_custom_vjp(
    f: Callable[..., Array], steps: int, x0: Array, t: Array, params: tuple[Array, ...]
) -> Array:
    """RK4 states ``x(t_i)`` of ``ẋ = f(x, t, *params)`` (flat ``params``), with the
    VJP rule :func:`odeint_fwd`/:func:`odeint_bwd`."""
    return _solve(f, steps, x0, t, params)


def odeint_fwd(
    f: Callable[..., Array], steps: int, x0: Array, t: Array, params: tuple[Array, ...]
) -> tuple[Array, tuple[Array, Array, tuple[Array, ...]]]:
    """Forward pass: the states and the residuals ``(ys, t, params)``: the outputs
    only, no trajectory.

    >>> t = jnp.asarray([0.0, 1.0])
    >>> ys, _ = odeint_fwd(lambda x, t: -x, 10, jnp.ones(1), t, ())
    >>> ys.shape
    (2, 1)
    """
    ys = _solve(f, steps, x0, t, params)
    return ys, (ys, t, params)


def odeint_bwd(
    f: Callable[..., Array],
    steps: int,
    residuals: tuple[Array, Array, tuple[Array, ...]],
    ys_bar: Array,
) -> tuple[Array, Array, tuple[Array, ...]]:
    """VJP, the continuous adjoint: ``ȧ = −(∂f/∂x)ᵀa``, ``dθ̄/dt = −(∂f/∂θ)ᵀa``,
    integrated backward together with ``x``, ``a`` jumping by ``ȳ_i`` at ``t_i``;
    ``t̄_i = ⟨ȳ_i, f(y_i, t_i)⟩``, ``t̄₀ = −⟨a₀, f(y₀, t₀)⟩`` (``a₀``: the adjoint at
    ``t₀`` before ``ȳ₀`` is added).

    >>> decay = lambda x, t, k: -k * x
    >>> t, k = jnp.asarray([0.0, 1.0]), jnp.asarray(1.0)
    >>> ys, res = odeint_fwd(decay, 40, jnp.ones(1), t, (k,))
    >>> ys_bar = jnp.asarray([[0.0], [1.0]])
    >>> x0_bar, t_bar, (k_bar,) = odeint_bwd(decay, 40, res, ys_bar)
    >>> round(float(k_bar), 6), round(float(x0_bar[0]), 6)  # −e^{−1}, e^{−1}
    (-0.367879, 0.367879)
    """
    ys, t, params = residuals
    x0_bar, t_bar, *p_bar = _cotangents(f, steps, ys, t, params, ys_bar)
    return x0_bar, t_bar, tuple(p_bar)


odeint_custom_vjp.defvjp(odeint_fwd, odeint_bwd)


# --------------------------------------------------------------------------
# public functions
# --------------------------------------------------------------------------


def _prepare(
    f: Any, x0: Any, t: Any, params: tuple[Any, ...], steps: Any
) -> tuple[
    Callable[..., Array], Array, Array, tuple[Array, ...], Callable[[Array], Array]
]:
    """Validate; flatten the parameter pytrees; closure-convert ``f``; a guard for the
    values of ``t``."""
    x0, t = jnp.asarray(x0), jnp.asarray(t)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    leaves = [jnp.asarray(p) for p in leaves]
    names = [
        f"params[{i}]" if len(leaves) == len(params) else f"params leaf {i}"
        for i in range(len(leaves))
    ]
    rules.check_odeint(f, x0, t, leaves, steps, _ARRAY, names)

    flat_f = _flat(f, treedef)

    try:
        fx = jax.eval_shape(flat_f, x0, t[0], *leaves)
    except Exception as err:  # noqa: BLE001 - re-raised with the shapes, chained
        message = rules.f_error(f"raised {type(err).__name__} ({err})", x0)
        raise ValueError(message) from err
    if not hasattr(fx, "shape") or tuple(fx.shape) != tuple(x0.shape):
        shape = tuple(getattr(fx, "shape", ()))
        raise ValueError(
            rules.f_error(f"returned {type(fx).__name__} of shape {shape}", x0)
        )
    if fx.dtype != x0.dtype:  # the RK4 loop's state must keep one dtype
        raise TypeError(
            f"odeint: f(x0, t[0], *params) must return x0's dtype {x0.dtype}; "
            f"it returned {fx.dtype}"
        )
    converted, consts = jax.closure_convert(flat_f, x0, t[0], *leaves)
    if not consts:
        # nothing traced is closed over: keep the cached f (compiled code is reused)
        return flat_f, x0, t, tuple(leaves), _increasing_guard(t)
    dtypes = [c.dtype for c in consts]
    if any(jnp.issubdtype(d, jnp.floating) and d != x0.dtype for d in dtypes):
        # a captured float joins the adjoint loop's state, which must keep x0's dtype:
        # pass it cast to x0's dtype and cast it back inside f (differentiably: its
        # cotangent is cast back too)
        consts = [
            c.astype(x0.dtype) if jnp.issubdtype(c.dtype, jnp.floating) else c
            for c in consts
        ]
        n, plain = len(leaves), converted

        def cast_back(x: Array, tau: Array, *p: Array) -> Array:
            return plain(x, tau, *p[:n], *(c.astype(d) for c, d in zip(p[n:], dtypes)))

        converted = cast_back
    return converted, x0, t, (*leaves, *consts), _increasing_guard(t)


@functools.lru_cache(maxsize=128)
def _flat(f: Callable[..., Array], treedef: Any) -> Callable[..., Array]:
    """``f`` as a function of the flat parameter leaves; one object per
    ``(f, treedef)``, so that ``jit``'s cache (keyed on the static ``f``) serves
    repeated calls."""

    def flat_f(x: Array, tau: Array, *p: Array) -> Array:
        return f(x, tau, *jax.tree_util.tree_unflatten(treedef, p))

    return flat_f


def _increasing_guard(t: Array) -> Callable[[Array], Array]:
    """Raise now if ``t``'s values are known and not strictly increasing; under ``jit``
    return a map that turns the states into NaN when they are not."""
    if t.shape[0] < 2:
        return lambda ys: ys
    increasing = jnp.all(t[1:] > t[:-1])
    try:
        known = bool(increasing)
    except jax.errors.ConcretizationTypeError:  # under jit: the values are not known
        return lambda ys: jnp.where(increasing, ys, jnp.nan)
    if not known:
        raise ValueError(f"odeint: t must be strictly increasing; got {t.tolist()}")
    return lambda ys: ys


def odeint(
    f: Callable[..., Array],
    x0: Any,
    t: Any,
    *params: Any,
    steps_per_interval: int = 100,
) -> Array:
    """The states ``x(t_0), …, x(t_N)`` of ``dx/dt = f(x, t, *params)``,
    ``x(t_0) = x0``, by RK4 with ``steps_per_interval`` steps between consecutive
    times; ``jax.custom_jvp`` rule (the variational equation), reverse mode by JAX's
    transposition of it.

    >>> t = jnp.linspace(0, 1, 3)
    >>> ys = odeint(lambda x, t, k: -k * x, jnp.ones(1), t, jnp.asarray(2.0))
    >>> ys.shape, round(float(ys[-1, 0]), 6)  # e^{−2}
    ((3, 1), 0.135335)
    """
    f_flat, x0, t, leaves, guard = _prepare(f, x0, t, params, steps_per_interval)
    return guard(odeint_custom_jvp(f_flat, steps_per_interval, x0, t, leaves))


def odeint_vjp(
    f: Callable[..., Array],
    x0: Any,
    t: Any,
    *params: Any,
    steps_per_interval: int = 100,
) -> Array:
    """:func:`odeint` with a ``jax.custom_vjp`` rule, the continuous adjoint: **reverse
    mode only**, nothing stored for the backward pass but the outputs.

    >>> k, t = jnp.asarray(1.0), jnp.asarray([0.0, 1.0])
    >>> decay = lambda x, t, k: -k * x
    >>> g = jax.grad(lambda k: odeint_vjp(decay, jnp.ones(1), t, k)[-1, 0])
    >>> round(float(g(k)), 5)  # d/dk e^{−k} = −e^{−1}
    -0.36788
    """
    f_flat, x0, t, leaves, guard = _prepare(f, x0, t, params, steps_per_interval)
    return guard(odeint_custom_vjp(f_flat, steps_per_interval, x0, t, leaves))


def odeint_discrete(
    f: Callable[..., Array],
    x0: Any,
    t: Any,
    *params: Any,
    steps_per_interval: int = 100,
) -> Array:
    """The same RK4 solution, differentiated by JAX through every step
    (discretise-then-differentiate).

    >>> t = jnp.asarray([0.0, 1.0])
    >>> ys = odeint_discrete(lambda x, t: -x, jnp.ones(1), t, steps_per_interval=1)
    >>> ys[-1].round(6).tolist()
    [0.375]
    """
    f_flat, x0, t, leaves, guard = _prepare(f, x0, t, params, steps_per_interval)
    ys = rules.odeint(f_flat, x0, t, tuple(leaves), steps_per_interval, jax_ops, _loop)
    return guard(ys)
