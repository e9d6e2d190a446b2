"""Registry entries of the linear-algebra ops, with their SymPy derivations.

>>> [op.name for op in OPS]
['matvec', 'solve']
>>> derive_solve().confirmed, derive_solve((2, 2)).confirmed
(True, True)
"""

from __future__ import annotations

import numpy as np
import sympy

from companion.derivation import Derivation, as_array, confirm_rules, symbols
from companion.ops import BadInput, Op
from companion.ops.linalg import rules
from companion.xp.sympy import sympy_ops

__all__ = ["OPS", "derive_matvec", "derive_solve"]


def derive_matvec() -> Derivation:
    """``matvec(A, x) = A x`` for ``A`` of shape (3, 2) and ``x`` of shape (2,).

    >>> derive_matvec().jacobians["x"]
    Matrix([
    [A00, A01],
    [A10, A11],
    [A20, A21]])
    """
    A, x = symbols("A", (3, 2)), symbols("x", (2,))
    truth = as_array(sympy.Matrix(A) * sympy.Matrix(x)).reshape(3)
    return confirm_rules(
        "matvec",
        {"A": A, "x": x},
        truth,
        rules.matvec(A, x, sympy_ops),
        lambda t: rules.matvec_tangent(A, x, t["A"], t["x"], sympy_ops),
        lambda w: dict(zip(("A", "x"), rules.matvec_cotangents(A, x, w, sympy_ops))),
    )


def derive_solve(b_shape: tuple[int, ...] = (2,)) -> Derivation:
    """``solve(A, b) = A⁻¹ b`` for a symbolic 2×2 ``A`` and ``b`` of shape ``b_shape``.

    The truth is Cramer's rule (``adj(A) b / det A``), independent of the LU
    the rules use.

    >>> derive_solve((2, 3)).confirmed
    True
    """
    A, b = symbols("A", (2, 2)), symbols("b", b_shape)
    M = sympy.Matrix(A)
    truth = as_array(M.adjugate() * sympy.Matrix(b.reshape(2, -1)) / M.det()).reshape(b_shape)
    x, lu_factors = rules.solve(A, b, sympy_ops)
    return confirm_rules(
        "solve",
        {"A": A, "b": b},
        truth,
        x,
        lambda t: rules.solve_tangent(lu_factors, x, t["A"], t["b"], sympy_ops),
        lambda w: dict(zip(("A", "b"), rules.solve_cotangents(lu_factors, x, w, sympy_ops))),
    )


def _well_conditioned(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random ``n × n`` matrix with a dominant diagonal (condition number of order 1)."""
    return rng.standard_normal((n, n)) + n * np.eye(n)


_ints = np.arange(6).reshape(2, 3)

OPS: tuple[Op, ...] = (
    Op(
        name="matvec",
        family="linalg",
        arg_names=("A", "x"),
        formula="A x",
        reference=lambda xp, A, x: A @ x,
        cases={"4x3": lambda rng: (rng.standard_normal((4, 3)), rng.standard_normal(3))},
        derive=derive_matvec,
        validate=rules.check_matvec,
        bad_inputs=(
            BadInput("A is a vector", (np.ones(3), np.ones(3)), ValueError,
                     r"matvec: A must be a matrix of shape \(m, n\); got shape \(3,\)"),
            BadInput("x does not match A", (np.ones((4, 3)), np.ones(4)), ValueError,
                     r"matvec: x must be a vector of shape \(n,\) = \(3,\) .*; got shape \(4,\)"),
            BadInput("x is a matrix", (np.ones((4, 3)), np.ones((3, 1))), ValueError,
                     r"matvec: x must be a vector .*; got shape \(3, 1\)"),
            BadInput("integer A", (_ints, np.ones(3)), TypeError,
                     r"matvec: A must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (np.ones((2, 3)), np.ones(3, np.float32)), TypeError,
                     r"matvec: A and x must have the same dtype; got A is float64, x is float32"),
        ),
    ),
    Op(
        name="solve",
        family="linalg",
        arg_names=("A", "b"),
        formula="A⁻¹ b (one LU factorisation of A)",
        reference=lambda xp, A, b: xp.linalg.solve(A, b),
        cases={
            "vector_b": lambda rng: (_well_conditioned(rng, 4), rng.standard_normal(4)),
            "matrix_b": lambda rng: (_well_conditioned(rng, 4), rng.standard_normal((4, 2))),
        },
        derive=derive_solve,
        validate=rules.check_solve,
        bad_inputs=(
            BadInput("A not square", (np.ones((3, 2)), np.ones(3)), ValueError,
                     r"solve: A must be a square matrix of shape \(n, n\); got shape \(3, 2\)"),
            BadInput("b does not match A", (np.eye(3), np.ones(2)), ValueError,
                     r"solve: b must have shape \(n,\) or \(n, k\) with n = 3 .*; got shape \(2,\)"),
            BadInput("b has 3 dimensions", (np.eye(3), np.ones((3, 1, 1))), ValueError,
                     r"solve: b must have shape .*; got shape \(3, 1, 1\)"),
            BadInput("integer b", (np.eye(2), np.ones(2, np.int64)), TypeError,
                     r"solve: b must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (np.eye(2, dtype=np.float32), np.ones(2)), TypeError,
                     r"solve: A and b must have the same dtype; got A is float32, b is float64"),
            BadInput("half precision", (np.eye(2, dtype=np.float16), np.ones(2, np.float16)), TypeError,
                     r"solve: A and b must have dtype float32 or float64 .*; got dtype float16"),
        ),
    ),
)
