"""Registry entries of the linear solvers family, with their SymPy derivations.

The entry ``cg_solve`` exercises both forms of the public function at once:
its example is ``x = M(θ)⁻¹ ((A + Aᵀ)/2)⁻¹ b``, a matrix solve
``y = cg_solve(A, b)`` followed by a matrix-free solve
``x = cg_solve(matvec, y, theta)`` with the operator
``M(θ) v = K v + exp(θ) ⊙ v + θ (θᵀ v)`` (``K`` the second-difference matrix,
applied without forming it). Every battery therefore runs through the rules of
both forms, and through their composition.

>>> [op.name for op in OPS]
['cg_solve']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from companion.derivation import Derivation, as_array, confirm_rules, flat, symbols
from companion.ops import BadInput, Op
from companion.ops.linear_solvers import rules
from companion.xp.sympy import sympy_ops

__all__ = ["OPS", "derive_cg_solve", "example_matvec"]


def example_matvec(v: Any, theta: Any, xp: Any) -> Any:
    """The registry's matrix-free operator ``M(θ) v = K v + exp(θ) ⊙ v + θ (θᵀ v)``.

    ``K v`` is the periodic second difference ``2 vᵢ − vᵢ₋₁ − vᵢ₊₁`` (indices
    mod ``n``), positive semidefinite; ``diag(exp θ)`` is positive definite and
    ``θ θᵀ`` semidefinite, so ``M(θ)`` is symmetric positive definite for every ``θ``.

    >>> example_matvec(np.array([1.0, 2.0, 4.0]), np.zeros(3), np)
    array([-3.,  1.,  9.])
    """
    n = v.shape[0]
    after, before = (np.arange(n) + 1) % n, (np.arange(n) - 1) % n
    return 2 * v - v[after] - v[before] + xp.exp(theta) * v + theta * (theta @ v)


def _bind(public: Any, xp: Any) -> Any:
    """``(A, theta, b) ↦ cg_solve(M(θ) ·, cg_solve(A, b), theta)`` in the framework of ``xp``."""
    matvec = lambda v, theta: example_matvec(v, theta, xp)  # noqa: E731
    return lambda A, theta, b: public(matvec, public(A, b, tol=_TOL), theta, tol=_TOL)


_TOL = 1e-13
"""The examples' tolerance: the batteries compare with dense solves to ``rtol = 1e-10``."""


def _reference(xp: Any, A: Any, theta: Any, b: Any) -> Any:
    """Two dense solves with the framework's own ``linalg.solve``; ``M(θ)`` formed column by column."""
    n = b.shape[0]
    M = xp.stack([example_matvec(e, theta, xp) for e in xp.eye(n, dtype=b.dtype)])  # M is symmetric
    return xp.linalg.solve(M, xp.linalg.solve((A + A.T) / 2, b))


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    G = rng.standard_normal((n, n))
    return G @ G.T / n + np.eye(n)


def _case(n: int) -> Any:
    return lambda rng: (_spd(rng, n), 0.5 * rng.standard_normal(n), rng.standard_normal(n))


def _cramer(S: sympy.Matrix) -> Any:
    """``r ↦ S⁻¹ r`` by the adjugate, for object arrays (independent of CG)."""
    inverse = S.adjugate() / S.det()
    return lambda r: as_array(inverse * sympy.Matrix(r)).reshape(-1)


def _jacobian_at(f: Any, params: Any) -> sympy.Matrix:
    """``∂ vec f(p) / ∂ vec p`` at ``p = params``, with ``f``'s other arguments held fixed.

    Taken with stand-in symbols and substituted afterwards: the fixed solution
    ``x`` inside ``f`` is itself a function of ``params``, and its dependence
    must not enter (the rules differentiate ``A(θ) x`` at fixed ``x``).
    """
    stand_in = symbols("p_", np.shape(params))
    J = flat(f(stand_in)).jacobian(flat(stand_in))
    return J.subs(dict(zip(flat(stand_in), flat(params))), simultaneous=True)


def _linear_vjp(f: Any, params: Any) -> Any:
    """``u ↦ (∂f/∂p)ᵀ u`` at ``p = params`` (other arguments of ``f`` fixed)."""
    J = _jacobian_at(f, params)
    return lambda u: (as_array(J.T * flat(u)).reshape(np.shape(params)),)


def derive_cg_solve() -> Derivation:
    """Both forms on a symbolic 2×2 instance: ``(A, θ, b) ↦ (((A + Aᵀ)/2)⁻¹ b, M(θ)⁻¹ b)``.

    The output stacks the matrix form and the matrix-free form of the
    registry's operator ``M(θ)`` (one shared ``b``), so one Jacobian confirms
    both rules: ``Ā = −(u xᵀ + x uᵀ)/2`` and ``θ̄ = −(∂(M(θ) z)/∂θ)ᵀ u``, and
    ``b̄`` as the sum of the two solves' ``u``. The truth is Cramer's rule
    (the adjugate); the rules run with SymPy's LU solve (``Matrix.LUsolve``)
    as the solve and SymPy's Jacobians of ``matvec`` at the fixed solution as
    its derivatives (what ``jax.vjp``/``torch.func.vjp`` compute). The
    ``primal`` check compares the two exact solves; CG itself is checked
    numerically by the batteries, against dense solves (its exact iterates on
    a symbolic matrix grow too large for SymPy to simplify in reasonable time).

    >>> d = derive_cg_solve()
    >>> d.confirmed, d.jacobians["A"].shape, d.jacobians["theta"].shape
    (True, (4, 4), (4, 2))
    """
    A, theta, b = symbols("A", (2, 2)), symbols("t", (2,)), symbols("b", (2,))
    S = sympy.Matrix((A + A.T) / 2)
    M = sympy.Matrix(np.stack([example_matvec(e, theta, sympy_ops) for e in np.eye(2, dtype=int)]))
    truth = np.concatenate([_cramer(S)(b), _cramer(M)(b)])
    solve_S, solve_M = _lu(S), _lu(M)
    x, z = solve_S(b), solve_M(b)

    def jvp(t: dict[str, Any]) -> Any:
        x_dot = rules.cg_solve_tangent(solve_S, t["b"], rules.sym_matvec(x, t["A"]), sympy_ops)
        J_theta = _jacobian_at(lambda t: example_matvec(z, t, sympy_ops), theta)
        M_dot_z = as_array(J_theta * flat(t["theta"])).reshape(2)
        return np.concatenate([x_dot, rules.cg_solve_tangent(solve_M, t["b"], M_dot_z, sympy_ops)])

    def vjp(w: Any) -> dict[str, Any]:
        b_bar_1, (A_bar,) = rules.cg_solve_cotangents(
            solve_S, w[:2], _linear_vjp(lambda a: rules.sym_matvec(x, a), A), sympy_ops
        )
        b_bar_2, (theta_bar,) = rules.cg_solve_cotangents(
            solve_M, w[2:], _linear_vjp(lambda t: example_matvec(z, t, sympy_ops), theta), sympy_ops
        )
        return {"A": A_bar, "theta": theta_bar, "b": b_bar_1 + b_bar_2}

    return confirm_rules("cg_solve", {"A": A, "theta": theta, "b": b}, truth, np.concatenate([x, z]), jvp, vjp)


def _lu(S: sympy.Matrix) -> Any:
    """``r ↦ S⁻¹ r`` by SymPy's LU solve."""
    return lambda r: as_array(S.LUsolve(sympy.Matrix(r))).reshape(-1)


def _check(A: Any, theta: Any, b: Any, array_type: str = "an array") -> None:
    """The checks of both calls of the example: the matrix solve, then the matrix-free one."""
    rules.check_cg_solve(A, b, (), array_type)
    rules.check_cg_solve(lambda v, t: v, b, (theta,), array_type)


_N = 3
_GOOD = _case(_N)(np.random.default_rng(0))

OPS: tuple[Op, ...] = (
    Op(
        name="cg_solve",
        family="linear_solvers",
        arg_names=("A", "theta", "b"),
        formula="x = A⁻¹ b by CG, A = (A + Aᵀ)/2 or v ↦ A(θ) v; example M(θ)⁻¹ A⁻¹ b",
        reference=_reference,
        cases={"n=4": _case(4)},
        derive=derive_cg_solve,
        validate=_check,
        bad_inputs=(
            BadInput("A not square", (np.ones((3, 2)), _GOOD[1], _GOOD[2]), ValueError,
                     r"cg_solve: A must be a square matrix of shape \(n, n\); got shape \(3, 2\)"),
            BadInput("b of the wrong length", (_GOOD[0], _GOOD[1], np.ones(4)), ValueError,
                     r"cg_solve: b must be a vector of shape \(n,\) = \(3,\) to match A"),
            BadInput("b a matrix", (_GOOD[0], _GOOD[1], np.ones((3, 1))), ValueError,
                     r"cg_solve: b must be a vector of shape \(n,\) = \(3,\) to match A of shape \(3, 3\); "
                     r"got shape \(3, 1\)"),
            BadInput("integer A", (np.eye(3, dtype=np.int64), _GOOD[1], _GOOD[2]), TypeError,
                     r"cg_solve: A must have a real floating dtype .*; got dtype int64"),
            BadInput("A and b of different dtypes", (_GOOD[0].astype(np.float32), _GOOD[1], _GOOD[2]),
                     TypeError, r"cg_solve: A and b must have the same dtype; got A is float32, b is float64"),
            BadInput("integer params", (_GOOD[0], np.arange(3), _GOOD[2]), TypeError,
                     r"cg_solve: params\[0\] must have a real floating dtype .*; got dtype int64"),
        ),
        symmetric_args=("A",),
        chapter="ch-linear-solvers",
        bind=_bind,
    ),
)
