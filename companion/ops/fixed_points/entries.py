"""Registry entries of the fixed points, with their SymPy derivation.

The example map is a small deep-equilibrium layer, ``x ↦ tanh(W x + b)`` with
``‖W‖₂ = 1/4`` (a contraction); the reference finds its fixed point with the
frameworks' own functions, a few plain iterations then Newton steps with a
dense solve, which converges to machine precision (and so do its derivatives).

>>> [op.name for op in OPS]
['fixed_point']
>>> derive_fixed_point().confirmed
True
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import sympy

from companion.derivation import Derivation, as_array, confirm_rules, flat, symbols
from companion.ops import BadInput, Op
from companion.ops.fixed_points import rules

__all__ = ["OPS", "derive_fixed_point"]


def _solve_fixed_point(g: Callable[[np.ndarray], np.ndarray], shape: tuple[int, ...], name: str) -> np.ndarray:
    """The exact solution ``v`` of the linear fixed-point equation ``v = g(v)`` (SymPy's linsolve)."""
    v = symbols(name, shape)
    (solution,) = sympy.linsolve(list(flat(np.asarray(g(v), dtype=object)) - flat(v)), list(flat(v)))
    return np.array(list(solution), dtype=object).reshape(shape)


def derive_fixed_point() -> Derivation:
    """``x* = A x* + c`` for a symbolic 2×2 ``A`` and 2-vector ``c``: closed form ``x* = (I − A)⁻¹ c``.

    The truth is that closed form, differentiated by SymPy. The rules are
    run as the adapters run them, with the iterations replaced by the exact
    solution of the same linear fixed-point equations: ``x*`` is a fixed
    point of ``f``; the tangent is the fixed point of
    :func:`~companion.rules.fixed_point_tangent_map` with
    ``b = Ȧ x* + ċ`` and ``(∂f/∂x) v = A v``; the adjoint ``u`` is the
    fixed point of :func:`~companion.rules.fixed_point_adjoint_map` with
    ``(∂f/∂x)ᵀ u = Aᵀ u``, and ``Ā = u x*ᵀ``, ``c̄ = u``
    (:func:`~companion.rules.fixed_point_cotangents`). ``x0`` has zero
    derivatives.

    >>> derive_fixed_point().checks
    {'primal': True, 'jvp = J v': True, 'vjp = Jᵀ w': True, '<w, J v> = <vjp(w), v>': True}
    """
    x0, A, c = symbols("x0_", (2,)), symbols("A", (2, 2)), symbols("c", (2,))
    truth = as_array((sympy.eye(2) - sympy.Matrix(A)).inv() * flat(c)).reshape(2)
    truth = np.vectorize(sympy.simplify, otypes=[object])(truth)

    def f(x: np.ndarray, A: np.ndarray, c: np.ndarray) -> np.ndarray:
        return A @ x + c

    fx = np.vectorize(sympy.simplify, otypes=[object])(f(truth, A, c))  # x* = f(x*)

    def jvp_rule(t: dict[str, np.ndarray]) -> np.ndarray:
        b = t["A"] @ truth + t["c"]  # (∂f/∂θ) θ̇
        return _solve_fixed_point(lambda v: rules.fixed_point_tangent_map(v, b, lambda v: A @ v), (2,), "v")

    def vjp_rule(w: np.ndarray) -> dict[str, np.ndarray]:
        u = _solve_fixed_point(lambda u: rules.fixed_point_adjoint_map(u, w, lambda u: A.T @ u), (2,), "u")
        A_bar, c_bar = rules.fixed_point_cotangents(u, lambda u: (u[:, None] * truth[None, :], u))
        return {"x0": np.zeros(2, dtype=object) * 0, "A": A_bar, "c": c_bar}

    return confirm_rules("fixed_point", {"x0": x0, "A": A, "c": c}, truth, fx, jvp_rule, vjp_rule)


# --------------------------------------------------------------------------
# The registry entry: a contractive tanh layer x ↦ tanh(W x + b)
# --------------------------------------------------------------------------


def _layer(xp: Any) -> Callable[..., Any]:
    """The example map ``f(x, W, b) = tanh(W x + b)``, written with ``xp``."""
    return lambda x, W, b: xp.tanh(W @ x + b)


def _bind(public: Callable[..., Any], xp: Any) -> Callable[..., Any]:
    return lambda x0, W, b: public(_layer(xp), x0, W, b)


def _reference(xp: Any, x0: Any, W: Any, b: Any) -> Any:
    """The fixed point of ``x ↦ tanh(W x + b)`` from built-ins: 10 plain iterations from ``x0``,
    then 5 Newton steps on ``x − tanh(W x + b) = 0`` with a dense solve.

    Newton converges quadratically (and so do the derivatives of its iterates), so this
    reaches machine precision with a short graph, which the frameworks' own autodiff
    differentiates to any order.
    """
    x = x0
    for _ in range(10):
        x = xp.tanh(W @ x + b)
    eye = xp.eye(W.shape[-1], dtype=W.dtype)
    for _ in range(5):
        t = xp.tanh(W @ x + b)
        J = (1 - t * t)[:, None] * W  # ∂f/∂x
        x = x - xp.linalg.solve(eye - J, x - t)
    return x


def _contraction(rng: np.random.Generator, n: int, norm: float = 0.25) -> np.ndarray:
    """A random ``n×n`` matrix of spectral norm ``norm``."""
    W = rng.standard_normal((n, n))
    return norm * W / np.linalg.norm(W, 2)


def _case(n: int) -> Callable[[np.random.Generator], tuple[np.ndarray, ...]]:
    return lambda rng: (rng.standard_normal(n), _contraction(rng, n), rng.standard_normal(n))


OPS = (
    Op(
        name="fixed_point",
        family="fixed_points",
        arg_names=("x0", "W", "b"),
        formula="x* = f(x*, θ); example f(x, W, b) = tanh(W x + b), ‖W‖₂ = 1/4",
        reference=_reference,
        cases={"n=3": _case(3), "n=2": _case(2)},
        derive=derive_fixed_point,
        validate=lambda x0, W, b, array_type="an array": rules.check_fixed_point(
            _layer(np), x0, (W, b), array_type
        ),
        bad_inputs=(
            BadInput(
                "integer x0", (np.arange(3), np.eye(3) / 4, np.ones(3)), TypeError,
                r"fixed_point: x0 must have a real floating dtype",
            ),
            BadInput(
                "float32 W with float64 x0", (np.zeros(3), np.eye(3, dtype=np.float32) / 4, np.ones(3)),
                TypeError, r"fixed_point: x0 and W and b must have the same dtype; got x0 is float64, W is float32",
            ),
            BadInput(
                "f maps R³ to R²", (np.zeros(3), np.ones((2, 3)) / 4, np.ones(2)), ValueError,
                r"fixed_point: f\(x0, \*params\) must have x0's shape \(3,\) and dtype float64; got shape \(2,\)",
            ),
        ),
        chapter="ch-fixed-points",
        rule_functions={"value": "fixed_point", "jvp": "fixed_point_tangent_map", "vjp": "fixed_point_adjoint_map"},
        benchmark_cases={"n=256": _case(256)},
        bind=_bind,
    ),
)
