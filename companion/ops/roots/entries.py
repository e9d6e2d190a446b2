"""Registry entries of the roots family, with their SymPy derivation.

>>> [op.name for op in OPS]
['root']
>>> derive_root().confirmed
True
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import sympy

from companion.derivation import Derivation, confirm_rules, symbols
from companion.ops import BadInput, Op
from companion.ops.roots import rules
from companion.xp.sympy import sympy_ops

__all__ = ["OPS", "derive_root", "example_F"]


def derive_root() -> Derivation:
    """``root`` on ``F(x, c) = (x₀² − c₀, x₀ x₁ − c₁)``, whose root is known in closed form:
    ``x = (√c₀, c₁ / √c₀)`` for ``c₀ > 0``.

    The truth is that closed form (it depends on ``c`` only, so its Jacobian in
    the starting point ``x0`` is zero). The rules run on SymPy with
    ``∂F/∂x`` and ``∂F/∂c`` from :meth:`sympy.Matrix.jacobian` at the closed-form
    root; ``primal`` confirms that the root is a fixed point of the rules'
    Newton step (so ``F`` vanishes there and Newton stays there).

    >>> d = derive_root()
    >>> d.jacobians["c"]
    Matrix([
    [            1/(2*sqrt(c0)),           0],
    [-c1/(2*c0**(3/2)), 1/sqrt(c0)]])
    >>> d.jacobians["x0"]
    Matrix([
    [0, 0],
    [0, 0]])
    """
    c = np.array([sympy.Symbol("c0", positive=True), sympy.Symbol("c1", real=True)], dtype=object)
    x0 = symbols("x0_", (2,))

    def F(x: Any, c: Any) -> Any:
        return np.array([x[0] ** 2 - c[0], x[0] * x[1] - c[1]], dtype=object)

    x_sym = symbols("x", (2,))
    F_x = sympy.Matrix(F(x_sym, c)).jacobian(sympy.Matrix(x_sym))  # ∂F/∂x, in the symbols x

    def jacobian(x: Any, c: Any) -> np.ndarray:
        return np.array(F_x.subs(dict(zip(x_sym, x))).tolist(), dtype=object)

    truth = np.array([sympy.sqrt(c[0]), c[1] / sympy.sqrt(c[0])], dtype=object)
    F_c = sympy.Matrix(F(x_sym, c)).jacobian(sympy.Matrix(c)).subs(dict(zip(x_sym, truth)))  # ∂F/∂c at the root
    lu_factors = sympy_ops.lu_factor(jacobian(truth, c))
    x_next, _, _ = rules.root_newton_step(F, jacobian, truth, (c,), sympy_ops)

    def F_vjp(v: Any) -> tuple[Any]:
        return (np.array((F_c.T * sympy.Matrix(v)).tolist(), dtype=object).reshape(2),)

    def jvp_rule(t: dict[str, Any]) -> Any:
        F_dot = np.array((F_c * sympy.Matrix(t["c"])).tolist(), dtype=object).reshape(2)
        return rules.root_tangent(lu_factors, F_dot, sympy_ops)

    def vjp_rule(w: Any) -> dict[str, Any]:
        return dict(zip(("x0", "c"), rules.root_cotangents(lu_factors, w, F_vjp, sympy_ops, (True, True))))

    return confirm_rules("root", {"x0": x0, "c": c}, truth, x_next, jvp_rule, vjp_rule)


def example_F(xp: Any) -> Callable[..., Any]:
    """The registry's example: ``F(x, A, b) = A x + tanh(x + b) − 1``, written with ``xp``
    (``torch``, ``jax.numpy`` or ``numpy``).

    ``∂F/∂x = A + diag(1 − tanh²(x + b))``: for the examples' diagonally dominant
    ``A`` with a positive diagonal it stays invertible, and Newton's method
    converges from the examples' starting points.
    """

    def F(x: Any, A: Any, b: Any) -> Any:
        return A @ x + xp.tanh(x + b) - 1

    return F


def _reference(xp: Any, x0: Any, A: Any, b: Any) -> Any:
    """Forty unrolled Newton steps with the hand-written Jacobian and ``xp.linalg.solve``:
    converged to rounding, and differentiated through by the framework."""
    x = x0
    for _ in range(40):
        t = xp.tanh(x + b)
        x = x - xp.linalg.solve(A + xp.diag(1 - t * t), A @ x + t - 1)
    return x


def _system(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return 0.5 * rng.standard_normal(n), 2 * np.eye(n) + 0.3 * rng.standard_normal((n, n)), rng.standard_normal(n)


_A, _b = 2 * np.eye(3), np.zeros(3)

OPS: tuple[Op, ...] = (
    Op(
        name="root",
        family="roots",
        chapter="ch-implicit-function-theorem",
        arg_names=("x0", "A", "b"),
        formula="x with F(x, θ) = 0 (Newton); example F = A x + tanh(x + b) − 1",
        reference=_reference,
        cases={"n=3": lambda rng: _system(rng, 3)},
        derive=derive_root,
        validate=lambda x0, A, b, array_type="an array": rules.check_root(
            example_F(np), x0, {"A": A, "b": b}, array_type
        ),
        bind=lambda public, xp: (lambda x0, A, b: public(example_F(xp), x0, A, b)),
        rule_functions={"value": "root_newton_step"},
        bad_inputs=(
            BadInput("x0 is a matrix", (np.ones((3, 3)), _A, _b), ValueError,
                     r"root: x0 must be a vector of shape \(n,\); got shape \(3, 3\)"),
            BadInput("integer x0", (np.ones(3, np.int64), _A, _b), TypeError,
                     r"root: x0 must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (np.ones(3, np.float32), _A, _b), TypeError,
                     r"root: x0 and A and b must have the same dtype; got x0 is float32, A is float64"),
            BadInput("F(x0) not shaped like x0", (np.ones(1), np.ones((3, 1)), np.zeros(1)), ValueError,
                     r"root: F\(x0, \*params\) must have the shape of x0, \(1,\) .*; got shape \(3,\)"),
        ),
    ),
)
