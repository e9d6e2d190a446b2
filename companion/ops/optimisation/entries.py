"""Registry entries of the optimisation family, with their SymPy derivations.

>>> [op.name for op in OPS]
['eq_qp']
>>> derive_eq_qp().confirmed
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from companion.derivation import Derivation, as_array, confirm_rules, symbols
from companion.ops import BadInput, Op
from companion.ops.optimisation import rules
from companion.xp.sympy import SympyOps

__all__ = ["OPS", "derive_eq_qp", "eq_qp_closed_form"]


def eq_qp_closed_form(Q: Any, c: Any, A: Any, b: Any) -> sympy.Matrix:
    """The minimiser in closed form (range-space method), for an invertible ``S = (Q + Qᵀ)/2``.

    ``λ = −(A S⁻¹ Aᵀ)⁻¹ (b + A S⁻¹ c)``, ``x = −S⁻¹ (c + Aᵀ λ)``: eliminate
    ``x`` from the stationarity condition ``S x + c + Aᵀ λ = 0`` and substitute
    into ``A x = b``. No KKT matrix, no LU: independent of the rules.

    >>> a = sympy.Symbol("a", positive=True)
    >>> eq_qp_closed_form(sympy.eye(2), [0, 0], [[1, a]], [1]).T
    Matrix([[1/(a**2 + 1), a/(a**2 + 1)]])
    """
    Q, A = sympy.Matrix(Q), sympy.Matrix(A)
    c, b = sympy.Matrix(np.asarray(c, dtype=object).tolist()), sympy.Matrix(np.asarray(b, dtype=object).tolist())
    S_inv = ((Q + Q.T) / 2).inv()
    lam = -(A * S_inv * A.T).inv() * (b + A * S_inv * c)
    return (-S_inv * (c + A.T * lam)).applyfunc(sympy.cancel)


class _AdjugateOps(SympyOps):
    """The SymPy namespace with the KKT solves done as ``K⁻¹ r = adj(K) r / det K``.

    SymPy's ``LUsolve`` on the symbolic KKT matrix gives nested fractions whose
    simplification takes minutes; with the adjugate every entry has the one
    denominator ``det K`` and cancels in seconds. The rules run unchanged: only
    how a solve with the factors is carried out differs.
    """

    @staticmethod
    def lu_factor(K: Any) -> tuple[sympy.Matrix, sympy.Expr]:
        M = sympy.Matrix(K)
        return M.adjugate(), M.det()

    @staticmethod
    def lu_solve(factors: tuple[sympy.Matrix, sympy.Expr], rhs: Any, trans: bool = False) -> Any:
        adj, det = factors
        z = ((adj.T if trans else adj) * sympy.Matrix(rhs.reshape(rhs.shape[0], -1)) / det).applyfunc(sympy.cancel)
        return as_array(z).reshape(rhs.shape)


_sympy_kkt_ops = _AdjugateOps()


def derive_eq_qp(n: int = 2, m: int = 1) -> Derivation:
    """``eq_qp(Q, c, A, b)`` for a symbolic general (non-symmetric) ``Q`` ``(n, n)``, ``A`` ``(m, n)``.

    The truth is the closed form ``eq_qp_closed_form``; the rules solve the KKT system
    symbolically (by the adjugate: ``_AdjugateOps``). Confirms that the rules' value
    equals the closed form, that the JVP is its Jacobian applied to a tangent and the
    VJP its transpose applied to a cotangent, for every entry of ``Q`` (so the symmetric
    ``Q̄`` is the whole gradient, not a convention).

    >>> d = derive_eq_qp()
    >>> d.jacobians["Q"].shape, d.confirmed
    ((2, 4), True)
    """
    Q, c, A, b = symbols("Q", (n, n)), symbols("c", (n,)), symbols("A", (m, n)), symbols("b", (m,))
    truth = as_array(eq_qp_closed_form(Q, c, A, b)).reshape(n)
    ops = _sympy_kkt_ops
    x, lam, factors = rules.eq_qp(Q, c, A, b, ops)
    names = ("Q", "c", "A", "b")
    return confirm_rules(
        "eq_qp",
        dict(zip(names, (Q, c, A, b))),
        truth,
        x,
        lambda t: rules.eq_qp_tangent(factors, x, lam, t["Q"], t["c"], t["A"], t["b"], ops)[0],
        lambda w: dict(zip(names, rules.eq_qp_cotangents(factors, x, lam, w, ops))),
    )


def _reference(xp: Any, Q: Any, c: Any, A: Any, b: Any) -> Any:
    """The KKT system assembled with ``xp.concatenate`` and solved by the built-in ``xp.linalg.solve``."""
    n = Q.shape[-1]
    S = (Q + Q.T) / 2
    K = xp.concatenate([
        xp.concatenate([S, A.T], axis=1),
        xp.concatenate([A, xp.zeros_like(A @ A.T)], axis=1),
    ], axis=0)
    return xp.linalg.solve(K, xp.concatenate([-c, b], axis=0))[:n]


def _nonsymmetric(rng: np.random.Generator, n: int = 4, m: int = 2) -> tuple[np.ndarray, ...]:
    """A non-symmetric ``Q`` whose symmetric part is positive definite, and a full-rank ``A``."""
    M = rng.standard_normal((n, n))
    Q = M @ M.T / n + np.eye(n) + 0.5 * (M - M.T)
    return Q, rng.standard_normal(n), rng.standard_normal((m, n)), rng.standard_normal(m)


def _indefinite(rng: np.random.Generator, n: int = 3, m: int = 1) -> tuple[np.ndarray, ...]:
    """A symmetric ``Q`` with a negative eigenvalue, positive definite on the null space of ``A``.

    ``Q = Z P Zᵀ − Y Yᵀ`` with ``Z`` an orthonormal basis of the null space of
    ``A``, ``Y`` one of the row space and ``P`` positive definite: the problem
    has a unique minimiser although ``Q`` is not positive definite.
    """
    A = rng.standard_normal((m, n))
    basis, _ = np.linalg.qr(np.concatenate([A.T, rng.standard_normal((n, n - m))], axis=1))
    Y, Z = basis[:, :m], basis[:, m:]
    L = rng.standard_normal((n - m, n - m))
    Q = Z @ (L @ L.T + np.eye(n - m)) @ Z.T - Y @ Y.T
    return Q, rng.standard_normal(n), A, rng.standard_normal(m)


def _benchmark(n: int, m: int) -> Any:
    def make(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        M = rng.standard_normal((n, n))
        Q = M @ M.T / n + np.eye(n)
        return Q, rng.standard_normal(n), rng.standard_normal((m, n)), rng.standard_normal(m)

    return make


_SHAPES = r"eq_qp: "

OPS: tuple[Op, ...] = (
    Op(
        name="eq_qp",
        family="optimisation",
        chapter="ch-optimisation-layers",
        arg_names=("Q", "c", "A", "b"),
        formula="argmin ½ xᵀQx + cᵀx s.t. Ax = b (one LU of the KKT matrix)",
        reference=_reference,
        cases={
            "nonsymmetric_Q": _nonsymmetric,
            "indefinite_Q": _indefinite,
        },
        benchmark_cases={"n=256, m=64": _benchmark(256, 64), "n=1024, m=256": _benchmark(1024, 256)},
        derive=derive_eq_qp,
        validate=rules.check_eq_qp,
        bad_inputs=(
            BadInput("Q not square", (np.ones((3, 2)), np.ones(3), np.ones((1, 3)), np.ones(1)), ValueError,
                     _SHAPES + r"Q must be a square matrix of shape \(n, n\); got shape \(3, 2\)"),
            BadInput("c does not match Q", (np.eye(3), np.ones(2), np.ones((1, 3)), np.ones(1)), ValueError,
                     _SHAPES + r"c must be a vector of shape \(n,\) = \(3,\) .*; got shape \(2,\)"),
            BadInput("A has the wrong number of columns", (np.eye(3), np.ones(3), np.ones((1, 2)), np.ones(1)),
                     ValueError, _SHAPES + r"A must be a matrix of shape \(m, n\) with n = 3 .*; got shape \(1, 2\)"),
            BadInput("as many constraints as unknowns", (np.eye(2), np.ones(2), np.eye(2), np.ones(2)), ValueError,
                     _SHAPES + r"A must have 1 <= m < n rows .*; got m = 2 rows for n = 2"),
            BadInput("b does not match A", (np.eye(3), np.ones(3), np.ones((1, 3)), np.ones(2)), ValueError,
                     _SHAPES + r"b must be a vector of shape \(m,\) = \(1,\) .*; got shape \(2,\)"),
            BadInput("b a matrix", (np.eye(3), np.ones(3), np.ones((1, 3)), np.ones((1, 1))), ValueError,
                     _SHAPES + r"b must be a vector of shape \(m,\) .*; got shape \(1, 1\)"),
            BadInput("integer c", (np.eye(3), np.ones(3, np.int64), np.ones((1, 3)), np.ones(1)), TypeError,
                     _SHAPES + r"c must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (np.eye(3), np.ones(3), np.ones((1, 3), np.float32), np.ones(1)),
                     TypeError, _SHAPES + r"Q and c and A and b must have the same dtype; got .*A is float32"),
            BadInput("half precision",
                     tuple(np.asarray(a, np.float16) for a in (np.eye(3), np.ones(3), np.ones((1, 3)), np.ones(1))),
                     TypeError, _SHAPES + r"Q, c, A and b must have dtype float32 or float64 .*; got dtype float16"),
        ),
    ),
)
