"""The formulas of the ODE family, written once: ``odeint`` by fixed-step RK4, its JVP
(the variational equation) and its VJP (the continuous adjoint).

``odeint(f, x0, t, params)`` returns the states ``x(t_0), …, x(t_N)`` of
``dx/dt = f(x, t, *params)``, ``x(t_0) = x0``, taking ``steps`` classical
Runge–Kutta (RK4) steps between consecutive times. A state of the integrator is
a tuple of arrays (``(x,)``, ``(x, v)`` or ``(x, a, θ̄_1, …)``), so one RK4
step serves the ODE, its tangent system and its adjoint system alike.

The user's ``f`` is differentiated by the framework: an adapter passes
``f_jvp(x, t, params, x_dot, params_dot) -> (f, ḟ)`` or
``f_vjp(x, t, params, a) -> (f, (∂f/∂x)ᵀa, ((∂f/∂θ)ᵀa, …))``, and a loop
``fori_loop(lower, upper, body, state)`` (a Python loop by default,
``jax.lax.fori_loop`` in JAX).

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> decay = lambda x, t, k: -k * x
>>> x0, t, k = np.array([1.0]), np.array([0.0, 1.0]), np.array(1.0)
>>> ys = odeint(decay, x0, t, (k,), 20, numpy_ops)
>>> ys.shape, bool(abs(ys[1, 0] - np.exp(-1.0)) < 1e-7)
((2, 1), True)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from companion import _validate
from companion.xp import ArrayOps

__all__ = [
    "odeint",
    "odeint_tangent",
    "odeint_cotangents",
    "rk4_step",
    "rk4_interval",
    "python_fori_loop",
    "check_odeint",
    "f_error",
]

Array = Any
State = tuple[Any, ...]
Needs = Sequence[bool]


def python_fori_loop(
    lower: int, upper: int, body: Callable[[Any, State], State], state: State
) -> State:
    """``state = body(i, state)`` for ``i = lower, …, upper − 1`` (the loop of
    ``jax.lax.fori_loop``).

    >>> python_fori_loop(0, 3, lambda i, s: (s[0] + i,), (10,))
    (13,)
    """
    for i in range(lower, upper):
        state = body(i, state)
    return state


def rk4_step(F: Callable[[State, Any], State], s: State, tau: Any, h: Any) -> State:
    """One classical Runge–Kutta step of ``ds/dt = F(s, t)`` from ``(s, τ)`` with step
    ``h`` (``h < 0`` steps backward): ``s + h (k_1 + 2 k_2 + 2 k_3 + k_4)/6``.

    >>> rk4_step(lambda s, t: (3 * t ** 2,), (0.0,), 0.0, 1.0)  # exact for cubics
    (1.0,)
    """
    k1 = F(s, tau)
    k2 = F(tuple(x + (h / 2) * k for x, k in zip(s, k1)), tau + h / 2)
    k3 = F(tuple(x + (h / 2) * k for x, k in zip(s, k2)), tau + h / 2)
    k4 = F(tuple(x + h * k for x, k in zip(s, k3)), tau + h)
    return tuple(
        x + (h / 6) * (a + 2 * b + 2 * c + d)
        for x, a, b, c, d in zip(s, k1, k2, k3, k4)
    )


def rk4_interval(
    F: Callable[[State, Any], State], s: State, t_a: Any, t_b: Any, steps: int,
    fori_loop: Callable[..., State] = python_fori_loop,
) -> State:
    """``steps`` RK4 steps of ``ds/dt = F(s, t)`` from ``t_a`` to ``t_b`` (``t_b < t_a``
    integrates backward).

    >>> # 2⁵ = 32 up to O(h⁴)
    >>> rk4_interval(lambda s, t: (5 * t ** 4,), (0.0,), 0.0, 2.0, 2)[0]
    32.08333333333333
    """
    h = (t_b - t_a) / steps
    return fori_loop(0, steps, lambda k, s: rk4_step(F, s, t_a + k * h, h), s)


def odeint(
    f: Callable[..., Array],
    x0: Array,
    t: Array,
    params: tuple[Array, ...],
    steps: int,
    xp: ArrayOps,
    fori_loop: Callable[..., State] = python_fori_loop,
) -> Array:
    """Primal: ``y_i = x(t_i)`` where ``ẋ = f(x, t, θ)``, ``x(t₀) = x₀`` (RK4, ``steps``
    steps per interval).

    The output stacks ``x₀, x(t₁), …, x(t_N)``: shape ``(len(t), *x0.shape)``.

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> grow = lambda x, t: x
    >>> ys = odeint(grow, np.ones(1), np.array([0.0, 1.0]), (), 1, numpy_ops)
    >>> ys.ravel().tolist()  # 1 + 1 + 1/2 + 1/6 + 1/24
    [1.0, 2.708333333333333]
    """

    def F(s: State, tau: Array) -> State:
        return (f(s[0], tau, *params),)

    ys, x = [x0], x0
    for i in range(t.shape[0] - 1):
        (x,) = rk4_interval(F, (x,), t[i], t[i + 1], steps, fori_loop)
        ys.append(x)
    return xp.stack(ys)


def odeint_tangent(
    f_jvp: Callable[..., tuple[Array, Array]],
    x0: Array,
    t: Array,
    params: tuple[Array, ...],
    x0_dot: Array,
    t_dot: Array,
    params_dot: tuple[Array, ...],
    steps: int,
    xp: ArrayOps,
    fori_loop: Callable[..., State] = python_fori_loop,
) -> tuple[Array, Array]:
    """JVP: ``v̇ = (∂f/∂x) v + (∂f/∂θ) θ̇``, ``v(t₀) = ẋ₀ − f(x₀, t₀) ṫ₀``;
    ``ẏ_i = v(t_i) + f(y_i, t_i) ṫ_i``.

    The variational equation is integrated by the same RK4 steps as ``x``, in
    the augmented state ``(x, v)``; returns ``(ys, ys_dot)``. For ``x₀`` and
    ``θ`` this is exactly the derivative of the RK4 output; for the times it is
    the continuous derivative ``∂x(t_i)/∂t_i = f(x(t_i), t_i)``, within ``O(h⁴)``
    of the discrete one.

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> decay = lambda x, t, p, x_dot, p_dot: (-p[0] * x, -p[0] * x_dot - p_dot[0] * x)
    >>> t, k = np.array([0.0, 1.0]), np.array(1.0)
    >>> x0_dot, t_dot, k_dot = np.zeros(1), np.zeros(2), np.array(1.0)
    >>> ys, ys_dot = odeint_tangent(decay, np.ones(1), t, (k,), x0_dot, t_dot, (k_dot,),
    ...                             40, numpy_ops)
    >>> # d/dk e^{−k t} = −t e^{−k t}
    >>> round(float(ys_dot[1, 0]), 8), round(-float(np.exp(-1.0)), 8)
    (-0.36787944, -0.36787944)
    """

    def F(s: State, tau: Array) -> State:
        return f_jvp(s[0], tau, params, s[1], params_dot)

    f0 = f_jvp(x0, t[0], params, x0_dot, params_dot)[0]
    x, v = x0, x0_dot - f0 * t_dot[0]
    ys, ys_dot = [x0], [x0_dot]
    for i in range(t.shape[0] - 1):
        x, v = rk4_interval(F, (x, v), t[i], t[i + 1], steps, fori_loop)
        fi = f_jvp(x, t[i + 1], params, v, params_dot)[0]
        ys.append(x)
        ys_dot.append(v + fi * t_dot[i + 1])
    return xp.stack(ys), xp.stack(ys_dot)


def odeint_cotangents(
    f: Callable[..., Array],
    f_vjp: Callable[..., tuple[Array, Array, tuple[Array, ...]]],
    ys: Array,
    t: Array,
    params: tuple[Array, ...],
    ys_bar: Array,
    steps: int,
    xp: ArrayOps,
    needs: Needs | None = None,
    fori_loop: Callable[..., State] = python_fori_loop,
) -> tuple[Array | None, ...]:
    """VJP: ``ȧ = −(∂f/∂x)ᵀa``, ``dθ̄/dt = −(∂f/∂θ)ᵀa`` backward from
    ``a(t_N) = ȳ_N``, ``θ̄(t_N) = 0``; ``a`` jumps by ``ȳ_i`` at ``t_i``;
    ``x̄₀ = a(t₀)``, ``t̄_i = ⟨ȳ_i, f(y_i, t_i)⟩`` (i ≥ 1),
    ``t̄₀ = −⟨a₀, f(y₀, t₀)⟩``.

    The continuous adjoint: the augmented state ``(x, a, θ̄)`` is integrated
    backward from ``t_N`` to ``t₀`` by RK4 with the same steps as the forward
    pass, recomputing ``x`` backward (restarted from ``y_i`` at each output
    time) instead of storing the trajectory; ``a₀`` is the adjoint at ``t₀``
    before ``ȳ₀`` is added. Returns ``(x̄₀, t̄, θ̄₁, …)`` with
    ``None`` where ``needs`` (one flag per input ``x0, t, *params``) is false.

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> k = np.array(1.0)
    >>> decay = lambda x, t, k: -k * x
    >>> decay_vjp = lambda x, t, p, a: (-p[0] * x, -p[0] * a, ((-a * x).sum(),))
    >>> t = np.array([0.0, 1.0])
    >>> ys = odeint(decay, np.ones(1), t, (k,), 40, numpy_ops)
    >>> ys_bar = np.array([[0.0], [1.0]])
    >>> x0_bar, t_bar, k_bar = odeint_cotangents(decay, decay_vjp, ys, t, (k,), ys_bar,
    ...                                          40, numpy_ops)
    >>> # e^{−1}, −e^{−1}, ∓e^{−1}
    >>> x0_bar.round(8).tolist(), round(float(k_bar), 8), t_bar.round(8).tolist()
    ([0.36787944], -0.36787944, [0.36787944, -0.36787944])
    """
    n = t.shape[0]
    needs = tuple(needs) if needs is not None else (True,) * (2 + len(params))
    with_params = any(needs[2:])

    def F(s: State, tau: Array) -> State:
        fx, x_a, p_a = f_vjp(s[0], tau, params, s[1])
        return (fx, -x_a, *(-g for g in p_a)) if with_params else (fx, -x_a)

    a = ys_bar[n - 1]
    p_bar = tuple(p * 0 for p in params) if with_params else ()
    t_bar = (
        [(ys_bar[n - 1] * f(ys[n - 1], t[n - 1], *params)).sum()]
        if n > 1 and needs[1]
        else []
    )
    for i in range(n - 1, 0, -1):
        _, a, *p_bar = rk4_interval(
            F, (ys[i], a, *p_bar), t[i], t[i - 1], steps, fori_loop
        )
        if needs[1]:
            f_prev = f(ys[i - 1], t[i - 1], *params)
            t_bar.append(
                (ys_bar[i - 1] * f_prev).sum() if i > 1 else -(a * f_prev).sum()
            )
        a = a + ys_bar[i - 1]
    if n == 1:
        t_bar = [(ys_bar[0] * 0).sum()]
    x0_bar = a if needs[0] else None
    t_bar_out = xp.stack(t_bar[::-1]) if needs[1] else None
    params_bar = (
        tuple(g if need else None for g, need in zip(p_bar, needs[2:]))
        if with_params
        else (None,) * len(params)
    )
    return (x0_bar, t_bar_out, *params_bar)


def f_error(what: str, x0: Any) -> str:
    """The message of a ``ValueError`` for an ``f`` that does not map ``x0`` to an array
    of its shape.

    >>> import numpy as np
    >>> f_error("returned ndarray of shape (2,)", np.zeros(3))
    "odeint: f(x0, t[0], *params) must return an array of x0's shape; it returned
    ndarray of shape (2,) for x0 of shape (3,)"
    """
    return (
        f"odeint: f(x0, t[0], *params) must return an array of x0's shape; it {what} "
        f"for x0 of shape {_validate.shape_of(x0)}"
    )


def check_odeint(
    f: Any,
    x0: Any,
    t: Any,
    params: Sequence[Any],
    steps_per_interval: Any,
    array_type: str = "an array",
    param_names: Sequence[str] | None = None,
) -> None:
    """``f`` callable; ``x0``, ``t`` and every parameter floating arrays of one dtype;
    ``t`` 1-D with at least one entry; ``steps_per_interval`` a positive int. (The
    values of ``t``, strictly increasing, are checked by the adapters where they can
    be read.)

    >>> import numpy as np
    >>> check_odeint(lambda x, t: x, np.ones(2), np.ones((2, 2)), (), 10)
    Traceback (most recent call last):
        ...
    ValueError: odeint: t must be a 1-D array of times; got shape (2, 2)
    """
    if not callable(f):
        raise TypeError(
            f"odeint: f must be a callable f(x, t, *params); got {type(f).__name__}"
        )
    if isinstance(steps_per_interval, bool) or not isinstance(steps_per_interval, int):
        raise TypeError(
            "odeint: steps_per_interval must be an int; "
            f"got {type(steps_per_interval).__name__}"
        )
    if steps_per_interval < 1:
        raise ValueError(
            f"odeint: steps_per_interval must be at least 1; got {steps_per_interval}"
        )
    names = (
        list(param_names)
        if param_names is not None
        else [f"params[{i}]" for i in range(len(params))]
    )
    _validate.check_arrays("odeint", array_type, x0=x0, t=t, **dict(zip(names, params)))
    if len(t.shape) != 1 or t.shape[0] < 1:
        raise ValueError(
            f"odeint: t must be a 1-D array of times; got shape {_validate.shape_of(t)}"
        )
