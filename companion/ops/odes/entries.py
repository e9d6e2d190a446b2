"""Registry entries of the odes family, with the SymPy derivation of the continuous adjoint.

>>> [op.name for op in OPS]
['odeint']
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import sympy

from companion.derivation import Derivation, flat, is_zero, same
from companion.ops import BadInput, Op
from companion.ops.odes import rules

__all__ = ["OPS", "derive_odeint", "hopf", "hopf_reference", "HOPF_STEPS"]

HOPF_STEPS = 80
"""RK4 steps per interval of the registry example: its RK4 error (and the continuous adjoint's
distance from the exact derivative) stays below the batteries' 1e-10 tolerance."""


def derive_odeint() -> Derivation:
    """The continuous adjoint and the variational equation of ``ẋ = θ x`` (outputs at ``t₀, t₁, t₂``).

    The truth is the closed form ``x(t) = x₀ e^{θ (t − t₀)}``; its Jacobians with respect to
    ``x₀``, ``t`` and ``θ`` are compared with the rules' formulas evaluated on the exact
    solutions of their ODEs (found by :func:`sympy.dsolve`, not assumed):

    * the adjoint ``ȧ = −(∂f/∂x)ᵀ a = −θ a`` with ``a(t₂) = w₂`` and a jump by ``w₁`` at ``t₁``:
      ``x̄₀ = a₀ + w₀``, ``θ̄`` the integral of ``a (∂f/∂θ) = a x`` from ``t₀`` to ``t₂``,
      ``t̄_i = w_i f(y_i)`` (i ≥ 1), ``t̄₀ = −a₀ f(y₀)``, where ``a₀`` is the adjoint at ``t₀``;
    * the variational equation ``v̇ = θ v + x θ̇``, ``v(t₀) = ẋ₀ − f(x₀) ṫ₀``, ``ẏ_i = v(t_i) + f(y_i) ṫ_i``;
    * the adjoint with the opposite sign (``ȧ = +θ a``, the classic slip) does **not** give ``x̄₀``;
    * the RK4 tangent rule (``rules.odeint_tangent``, one step, run on SymPy) is exactly the
      derivative of the RK4 step (``rules.odeint``) with respect to ``x₀`` and ``θ``.

    >>> d = derive_odeint()
    >>> d.confirmed
    True
    """
    s = sympy.Symbol("s", real=True)
    x0, th = sympy.symbols("x0 theta", real=True)
    t0, t1, t2 = sympy.symbols("t0 t1 t2", real=True)
    w = sympy.symbols("w0 w1 w2", real=True)
    ts = (t0, t1, t2)
    x = x0 * sympy.exp(th * (s - t0))
    ys = [x.subs(s, ti) for ti in ts]
    truth = np.array(ys, dtype=object)
    inputs = {"x0": np.array([x0], dtype=object), "t": np.array(ts, dtype=object), "theta": np.array([th], dtype=object)}
    out = flat(truth)
    jac = {k: out.jacobian(flat(v)) for k, v in inputs.items()}
    W = sympy.Matrix(w)

    # the adjoint, solved by dsolve on each interval, backward from a(t₂) = w₂
    a = sympy.Function("a")
    adjoint_ode = sympy.Eq(a(s).diff(s), -th * a(s))  # ȧ = −(∂f/∂x)ᵀ a
    a_late = sympy.dsolve(adjoint_ode, a(s), ics={a(t2): w[2]}).rhs  # on (t₁, t₂)
    a_early = sympy.dsolve(adjoint_ode, a(s), ics={a(t1): a_late.subs(s, t1) + w[1]}).rhs  # on (t₀, t₁)
    x0_bar = a_early.subs(s, t0) + w[0]
    th_bar = sympy.integrate(a_early * x, (s, t0, t1)) + sympy.integrate(a_late * x, (s, t1, t2))
    f_at = [th * y for y in ys]
    t_bar = [-a_early.subs(s, t0) * f_at[0], w[1] * f_at[1], w[2] * f_at[2]]
    wrong = sympy.dsolve(sympy.Eq(a(s).diff(s), th * a(s)), a(s), ics={a(t2): w[2]}).rhs
    wrong_x0_bar = wrong.subs(s, t0)

    # the variational equation, solved by dsolve forward from v(t₀) = ẋ₀ − f(x₀) ṫ₀
    x0_dot, th_dot = sympy.symbols("x0_dot_ theta_dot_", real=True)
    t_dot = sympy.symbols("t_dot_0 t_dot_1 t_dot_2", real=True)
    v = sympy.Function("v")
    v_sol = sympy.dsolve(
        sympy.Eq(v(s).diff(s), th * v(s) + x * th_dot), v(s), ics={v(t0): x0_dot - th * x0 * t_dot[0]}
    ).rhs
    jvp = [v_sol.subs(s, ti) + f_at[i] * t_dot[i] for i, ti in enumerate(ts)]
    J_v = jac["x0"] * sympy.Matrix([x0_dot]) + jac["t"] * sympy.Matrix(t_dot) + jac["theta"] * sympy.Matrix([th_dot])
    vjp = {"x0": np.array([x0_bar], dtype=object), "t": np.array(t_bar, dtype=object),
           "theta": np.array([th_bar], dtype=object)}

    # one RK4 step of the rules on SymPy: the tangent rule is the exact derivative for x₀ and θ
    from companion.symbolic import sympy_ops

    h = sympy.Symbol("h", positive=True)
    grid = np.array([sympy.Integer(0), h], dtype=object)
    X0, TH = np.array([x0], dtype=object), np.array(th, dtype=object)
    step = rules.odeint(lambda x, t, k: k * x, X0, grid, (TH,), 1, sympy_ops)[1, 0]
    _, step_dot = rules.odeint_tangent(
        lambda x, t, p, xd, pd: (p[0] * x, p[0] * xd + pd[0] * x), X0, grid, (TH,),
        np.array([x0_dot], dtype=object), np.zeros(2, dtype=object), (np.array(th_dot, dtype=object),),
        1, sympy_ops,
    )
    step_truth = sympy.diff(step, x0) * x0_dot + sympy.diff(step, th) * th_dot

    checks = {
        "x(t) solves ẋ = θ x": is_zero(x.diff(s) - th * x) and is_zero(x.subs(s, t0) - x0),
        "vjp = Jᵀ w (adjoint, jumps, θ̄ = ∫ a ∂f/∂θ, t̄)": all(
            same(vjp[k], jac[k].T * W) for k in inputs
        ),
        "jvp = J v (variational equation, ṫ terms)": same(np.array(jvp, dtype=object), J_v),
        "adjoint with the wrong sign fails": not is_zero(wrong_x0_bar - (jac["x0"].T * W)[0].subs({w[0]: 0, w[1]: 0})),
        "RK4 tangent = derivative of the RK4 step": is_zero(sympy.expand(step_dot[1, 0] - step_truth)),
        "RK4 step = Taylor polynomial of degree 4": is_zero(
            step - x0 * sum((th * h) ** k / sympy.factorial(k) for k in range(5))
        ),
    }
    return Derivation("odeint", inputs, truth, jac, {"x0": x0_dot, "t": t_dot, "theta": th_dot}, W,
                      np.array(jvp, dtype=object), vjp, checks)


# --------------------------------------------------------------------------
# The registry example: a Hopf (Stuart–Landau) oscillator with a time-varying frequency
# --------------------------------------------------------------------------


def hopf(xp: Any) -> Callable[..., Any]:
    """``f(x, t, μ, ω) = μ x − |x|² x + ω cos(t) J x`` with ``J x = (−x₂, x₁)``, written with ``xp``.

    >>> f = hopf(np)
    >>> f(np.array([1.0, 0.0]), 0.0, 0.5, 2.0).tolist()
    [-0.5, 2.0]
    """

    def f(x: Any, t: Any, mu: Any, omega: Any) -> Any:
        Jx = xp.stack([-x[1], x[0]])
        return mu * x - (x * x).sum() * x + omega * xp.cos(t) * Jx

    return f


def hopf_reference(xp: Any, x0: Any, mu: Any, omega: Any, t: Any) -> Any:
    """The closed-form solution of the Hopf example at the times ``t``, from built-ins only.

    In polar form ``r² = u`` solves the logistic equation ``u̇ = 2μu − 2u²`` and the angle turns
    by ``φ(t) = ω (sin t − sin t₀)``: ``x(t) = s(t) R(φ(t)) x₀`` with
    ``s² = e^{2μτ} / (1 + |x₀|² (e^{2μτ} − 1)/μ)``, ``τ = t − t₀``.

    >>> x0, t = np.array([0.3, -0.2]), np.array([0.0, 0.5])
    >>> ys = hopf_reference(np, x0, np.array(0.4), np.array(0.7), t)
    >>> np.allclose(ys[0], x0), ys.shape
    (True, (2, 2))
    """
    tau = t - t[0]
    u0 = (x0 * x0).sum()
    scale = xp.sqrt(xp.exp(2 * mu * tau) / (1 + u0 * xp.expm1(2 * mu * tau) / mu))
    phi = omega * (xp.sin(t) - xp.sin(t[0]))
    Jx0 = xp.stack([-x0[1], x0[0]])
    return scale[:, None] * (xp.cos(phi)[:, None] * x0 + xp.sin(phi)[:, None] * Jx0)


def _hopf_case(rng: np.random.Generator, n_times: int) -> tuple[np.ndarray, ...]:
    x0 = rng.uniform(0.05, 0.08, 2) * rng.choice([-1.0, 1.0], 2)
    mu = np.array(rng.uniform(0.02, 0.035))
    omega = np.array(rng.uniform(0.05, 0.08))
    t = np.cumsum(np.r_[rng.uniform(0.0, 0.1), rng.uniform(0.5, 0.6, n_times - 1)])
    return x0, mu, omega, t


def _bind(public: Callable[..., Any], xp: Any) -> Callable[..., Any]:
    f = hopf(xp)
    return lambda x0, mu, omega, t: public(f, x0, t, mu, omega, steps_per_interval=HOPF_STEPS)


def _validate_hopf(x0: Any, mu: Any, omega: Any, t: Any, array_type: str = "an array") -> None:
    rules.check_odeint(hopf(np), x0, t, (mu, omega), HOPF_STEPS, array_type, ("mu", "omega"))


_good = (np.array([0.3, -0.2]), np.array(0.3), np.array(0.4), np.array([0.0, 0.2, 0.4]))

OPS: tuple[Op, ...] = (
    Op(
        name="odeint",
        family="odes",
        chapter="ch-ode-adjoints",
        arg_names=("x0", "mu", "omega", "t"),
        formula="x(t_i) for ẋ = f(x, t, θ) by RK4; VJP: ȧ = −(∂f/∂x)ᵀa, dθ̄/dt = −(∂f/∂θ)ᵀa backward",
        reference=hopf_reference,
        cases={
            "3 times": lambda rng: _hopf_case(rng, 3),
        },
        derive=derive_odeint,
        validate=_validate_hopf,
        bind=_bind,
        bad_inputs=(
            BadInput("t is 2-D", (_good[0], _good[1], _good[2], np.zeros((2, 2))), ValueError,
                     r"odeint: t must be a 1-D array of times; got shape \(2, 2\)"),
            BadInput("t is a scalar", (_good[0], _good[1], _good[2], np.array(1.0)), ValueError,
                     r"odeint: t must be a 1-D array of times; got shape \(\)"),
            BadInput("x0 of a shape f does not take", (np.zeros(3), *_good[1:]), ValueError,
                     r"odeint: f\(x0, t\[0\], \*params\) .* x0 of shape \(3,\)"),
            BadInput("integer t", (*_good[:3], np.arange(3)), TypeError,
                     r"odeint: t must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (_good[0].astype(np.float32), *_good[1:]), TypeError,
                     r"odeint: x0 and t and (mu and omega|params\[0\] and params\[1\]) must have the same dtype; got x0 is float32"),
        ),
    ),
)
