"""Registry entries of the matrix equations ops, with their SymPy derivations.

>>> [op.name for op in OPS]
['lyapunov']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from companion.derivation import Derivation, as_array, confirm_rules, symbols
from companion.ops import BadInput, Op
from companion.ops.matrix_equations import rules
from companion.xp.sympy import SympyOps

__all__ = ["OPS", "derive_lyapunov"]


class _ClosedFormSympyOps(SympyOps):
    """SymPy arithmetic whose solves are closed-form: ``K⁻¹ r = adj(K) r / det K``.

    The rules' Kronecker sum ``K`` is 4 × 4 for a 2 × 2 ``A``; SymPy's LU solve
    on it nests fractions that take minutes to simplify, while the adjugate over
    the (factored) determinant gives the same solve as polynomials over one
    denominator. ``eye`` is the identity as SymPy integers.
    """

    @staticmethod
    def eye(n: int, dtype: Any = None) -> np.ndarray:
        return as_array(sympy.eye(n))

    @staticmethod
    def lu_factor(A: np.ndarray) -> tuple[sympy.Matrix, sympy.Expr]:
        M = sympy.Matrix(A)
        return M.adjugate(), sympy.factor(M.det())

    @staticmethod
    def lu_solve(lu_factors: tuple[sympy.Matrix, sympy.Expr], rhs: np.ndarray, trans: bool = False) -> np.ndarray:
        adjugate, det = lu_factors
        z = (adjugate.T if trans else adjugate) * sympy.Matrix(rhs.reshape(rhs.shape[0], -1)) / det
        return as_array(z).reshape(rhs.shape)


_closed_form_ops = _ClosedFormSympyOps()


def derive_lyapunov() -> Derivation:
    """``lyapunov(A, Q) = P`` with ``A P + P Aᵀ + Q = 0``, for symbolic 2 × 2 ``A`` and ``Q`` (neither symmetric).

    The truth is SymPy's solution of the four scalar equations
    ``A P + P Aᵀ + Q = 0`` for the entries of ``P`` (:func:`sympy.solve`),
    independent of the Kronecker form the rules use. Takes about half a minute.

    >>> d = derive_lyapunov()
    >>> d.confirmed
    True
    >>> d.jacobians["Q"]  # doctest: +ELLIPSIS
    Matrix([...])
    """
    A, Q = symbols("A", (2, 2)), symbols("Q", (2, 2))
    unknowns = symbols("P", (2, 2))
    M, X = sympy.Matrix(A), sympy.Matrix(unknowns)
    (solution,) = sympy.solve(list(M * X + X * M.T + sympy.Matrix(Q)), list(unknowns.reshape(-1)), dict=True)
    truth = np.vectorize(lambda p: sympy.factor(solution[p]), otypes=[object])(unknowns)
    xp = _closed_form_ops
    P, lu_factors = rules.lyapunov(A, Q, xp)
    return confirm_rules(
        "lyapunov",
        {"A": A, "Q": Q},
        truth,
        P,
        lambda t: rules.lyapunov_tangent(lu_factors, P, t["A"], t["Q"], xp),
        lambda w: dict(zip(("A", "Q"), rules.lyapunov_cotangents(lu_factors, P, w, xp))),
    )


def _lyapunov_reference(xp: Any, A: Any, Q: Any) -> Any:
    """``P`` from the column-major Kronecker form ``(I ⊗ A + A ⊗ I) vec P = −vec Q``.

    Built with the frameworks' own ``eye``, ``kron`` and ``linalg.solve`` (``vec``
    stacks columns: ``vec P = Pᵀ.reshape(n * n)``), independent of the rules.
    """
    n = A.shape[0]
    I = xp.eye(n, dtype=A.dtype)
    K = xp.kron(I, A) + xp.kron(A, I)
    vec_P = -xp.linalg.solve(K, Q.T.reshape(n * n))
    return vec_P.reshape(n, n).T


def _stable(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random non-symmetric ``n × n`` matrix ``−n I + G``; stable (checked) for the seeds used."""
    A = rng.standard_normal((n, n)) - n * np.eye(n)
    if np.linalg.eigvals(A).real.max() >= 0:
        raise ValueError("lyapunov example: the random A is not stable; choose another seed")
    return A


_ints = np.arange(4).reshape(2, 2)

OPS: tuple[Op, ...] = (
    Op(
        name="lyapunov",
        family="matrix_equations",
        chapter="ch-matrix-equations",
        arg_names=("A", "Q"),
        formula="P with A P + P Aᵀ + Q = 0 (one LU of I ⊗ A + A ⊗ I)",
        reference=_lyapunov_reference,
        cases={
            "n3": lambda rng: (_stable(rng, 3), rng.standard_normal((3, 3))),
            "n4": lambda rng: (_stable(rng, 4), rng.standard_normal((4, 4))),
        },
        benchmark_cases={
            f"n={n}": lambda rng, n=n: (_stable(rng, n), rng.standard_normal((n, n))) for n in (8, 16, 32)
        },
        derive=derive_lyapunov,
        validate=rules.check_lyapunov,
        bad_inputs=(
            BadInput("A not square", (np.ones((3, 2)), np.ones((3, 2))), ValueError,
                     r"lyapunov: A must be a square matrix of shape \(n, n\); got shape \(3, 2\)"),
            BadInput("A is a vector", (np.ones(3), np.ones(3)), ValueError,
                     r"lyapunov: A must be a square matrix of shape \(n, n\); got shape \(3,\)"),
            BadInput("Q does not match A", (-np.eye(3), np.eye(2)), ValueError,
                     r"lyapunov: Q must have the shape \(n, n\) = \(3, 3\) of A; got shape \(2, 2\)"),
            BadInput("Q not square", (-np.eye(3), np.ones((3, 2))), ValueError,
                     r"lyapunov: Q must have the shape \(n, n\) = \(3, 3\) of A; got shape \(3, 2\)"),
            BadInput("integer A", (_ints, np.eye(2)), TypeError,
                     r"lyapunov: A must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (-np.eye(2, dtype=np.float32), np.eye(2)), TypeError,
                     r"lyapunov: A and Q must have the same dtype; got A is float32, Q is float64"),
            BadInput("half precision", (-np.eye(2, dtype=np.float16), np.eye(2, dtype=np.float16)), TypeError,
                     r"lyapunov: A and Q must have dtype float32 or float64 .*; got dtype float16"),
        ),
    ),
)
