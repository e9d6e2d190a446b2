"""Registry entries of the linear-algebra ops, with their SymPy derivations.

>>> [op.name for op in OPS]
['matvec', 'solve', 'quad_form', 'inv', 'logdet']
>>> derive_solve().confirmed, derive_solve((2, 2)).confirmed
(True, True)
>>> derive_quad_form().confirmed, derive_inv().confirmed, derive_logdet().confirmed
(True, True, True)
"""

from __future__ import annotations

import numpy as np
import sympy

from companion.derivation import Derivation, as_array, confirm_rules, symbols
from companion.ops import BadInput, Op
from companion.ops.linalg import rules
from companion.xp.sympy import sympy_ops

__all__ = ["OPS", "derive_matvec", "derive_solve", "derive_quad_form", "derive_inv", "derive_logdet"]


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


def derive_quad_form(n: int = 3) -> Derivation:
    """``quad_form(x, Q) = xᵀ Q x`` for ``x`` of shape ``(n,)`` and a general (non-symmetric) ``Q``.

    >>> derive_quad_form(2).jacobians["x"]
    Matrix([[2*Q00*x0 + Q01*x1 + Q10*x1, Q01*x0 + Q10*x0 + 2*Q11*x1]])
    """
    x, Q = symbols("x", (n,)), symbols("Q", (n, n))
    truth = np.array((sympy.Matrix(x).T * sympy.Matrix(Q) * sympy.Matrix(x))[0, 0], dtype=object)
    return confirm_rules(
        "quad_form",
        {"x": x, "Q": Q},
        truth,
        rules.quad_form(x, Q, sympy_ops),
        lambda t: rules.quad_form_tangent(x, Q, t["x"], t["Q"], sympy_ops),
        lambda w: dict(zip(("x", "Q"), rules.quad_form_cotangents(x, Q, w, sympy_ops))),
    )


def derive_inv(n: int = 2) -> Derivation:
    """``inv(A) = A⁻¹`` for a symbolic ``n × n`` ``A``.

    The truth is the adjugate formula ``Y = adj(A) / det A``, independent of the
    LU solve the primal uses (the ``primal`` check confirms that the two
    agree). The JVP and VJP rules are functions of the output; they run on
    ``Y`` in the adjugate form, which SymPy simplifies much faster than the
    nested fractions of its LU solve (``n = 3`` takes seconds instead of
    minutes).

    >>> d = derive_inv()
    >>> d.jacobians["A"].shape, d.confirmed
    ((4, 4), True)
    """
    A = symbols("A", (n, n))
    M = sympy.Matrix(A)
    Y = as_array(M.adjugate() / M.det())
    return confirm_rules(
        "inv",
        {"A": A},
        Y,
        rules.inv(A, sympy_ops),
        lambda t: rules.inv_tangent(Y, t["A"], sympy_ops),
        lambda w: dict(zip(("A",), rules.inv_cotangents(Y, w, sympy_ops))),
    )


def derive_logdet(n: int = 2) -> Derivation:
    """``logdet(A) = log |det A|`` for a symbolic ``n × n`` ``A``, of either sign of determinant.

    For a real ``A``, ``log |det A| = log((det A)²) / 2``: the truth is written so,
    which SymPy differentiates to ``(det A)' / det A`` without the ``sign(det A)``
    that ``Abs`` brings, and which holds whatever the sign of ``det A``. The
    determinant is Berkowitz's expansion. SymPy's namespace computes the
    primal the same way (it has no floating LU), so the ``primal`` check is a
    consistency check; the batteries check ``Σ log |U_ii|`` numerically
    against ``slogdet``. The JVP and VJP rules run SymPy's LU solves.

    >>> d = derive_logdet(3)
    >>> d.confirmed
    True
    >>> derive_logdet(1).jacobians["A"]
    Matrix([[1/A00]])
    """
    A = symbols("A", (n, n))
    truth = np.array(sympy.log(sympy.Matrix(A).det(method="berkowitz") ** 2) / 2, dtype=object)
    y, lu_factors = rules.logdet(A, sympy_ops)
    return confirm_rules(
        "logdet",
        {"A": A},
        truth,
        y,
        lambda t: rules.logdet_tangent(lu_factors, t["A"], sympy_ops),
        lambda w: dict(zip(("A",), rules.logdet_cotangents(A, lu_factors, w, sympy_ops))),
    )


def _well_conditioned(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random ``n × n`` matrix with a dominant diagonal (condition number of order 1)."""
    return rng.standard_normal((n, n)) + n * np.eye(n)


def _negative_det(rng: np.random.Generator, n: int) -> np.ndarray:
    """A well-conditioned ``n × n`` matrix with ``det A < 0`` (one row's sign chosen so)."""
    A = _well_conditioned(rng, n)
    A[0] *= -np.linalg.slogdet(A)[0]  # slogdet: det A overflows for large n
    return A


_ints = np.arange(6).reshape(2, 3)

OPS: tuple[Op, ...] = (
    Op(
        name="matvec",
        family="linalg",
        chapter="ch-forward-rules",
        arg_names=("A", "x"),
        formula="A x",
        reference=lambda xp, A, x: A @ x,
        cases={"4x3": lambda rng: (rng.standard_normal((4, 3)), rng.standard_normal(3))},
        benchmark_cases={
            f"n={n}": lambda rng, n=n: (rng.standard_normal((n, n)), rng.standard_normal(n)) for n in (256, 1024, 2048)
        },
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
        chapter="ch-reverse-rules",
        arg_names=("A", "b"),
        formula="A⁻¹ b (one LU factorisation of A)",
        reference=lambda xp, A, b: xp.linalg.solve(A, b),
        cases={
            "vector_b": lambda rng: (_well_conditioned(rng, 4), rng.standard_normal(4)),
            "matrix_b": lambda rng: (_well_conditioned(rng, 4), rng.standard_normal((4, 2))),
        },
        benchmark_cases={
            **{f"n={n}": lambda rng, n=n: (_well_conditioned(rng, n), rng.standard_normal(n)) for n in (256, 1024, 2048)},
            "n=2048, k=16": lambda rng: (_well_conditioned(rng, 2048), rng.standard_normal((2048, 16))),
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
    Op(
        name="quad_form",
        family="linalg",
        arg_names=("x", "Q"),
        formula="xᵀ Q x (Q not symmetric)",
        reference=lambda xp, x, Q: x @ Q @ x,
        cases={"nonsymmetric_Q": lambda rng: (rng.standard_normal(4), rng.standard_normal((4, 4)))},
        benchmark_cases={
            f"n={n}": lambda rng, n=n: (rng.standard_normal(n), rng.standard_normal((n, n))) for n in (1024, 4096)
        },
        derive=derive_quad_form,
        validate=rules.check_quad_form,
        chapter="ch-products",
        bad_inputs=(
            BadInput("x is a matrix", (np.ones((3, 3)), np.eye(3)), ValueError,
                     r"quad_form: x must be a vector of shape \(n,\); got shape \(3, 3\)"),
            BadInput("Q not square", (np.ones(3), np.ones((3, 2))), ValueError,
                     r"quad_form: Q must be a square matrix of shape \(n, n\) = \(3, 3\) .*; "
                     r"got shape \(3, 2\)"),
            BadInput("Q does not match x", (np.ones(2), np.eye(3)), ValueError,
                     r"quad_form: Q must be .* to match x of shape \(2,\); got shape \(3, 3\)"),
            BadInput("integer x", (np.ones(2, np.int64), np.eye(2)), TypeError,
                     r"quad_form: x must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (np.ones(2, np.float32), np.eye(2)), TypeError,
                     r"quad_form: x and Q must have the same dtype; got x is float32, Q is float64"),
        ),
    ),
    Op(
        name="inv",
        family="linalg",
        arg_names=("A",),
        formula="A⁻¹ (one LU factorisation; rules from the output)",
        reference=lambda xp, A: xp.linalg.inv(A),
        cases={
            "positive_det": lambda rng: (_well_conditioned(rng, 4),),
            "negative_det": lambda rng: (_negative_det(rng, 4),),
        },
        derive=derive_inv,
        validate=rules.check_inv,
        chapter="ch-inverses",
        benchmark_cases={
            f"n={n}": lambda rng, n=n: (_well_conditioned(rng, n),) for n in (256, 1024)
        },
        bad_inputs=(
            BadInput("A not square", (np.ones((3, 2)),), ValueError,
                     r"inv: A must be a square matrix of shape \(n, n\); got shape \(3, 2\)"),
            BadInput("A is a vector", (np.ones(3),), ValueError,
                     r"inv: A must be a square matrix .*; got shape \(3,\)"),
            BadInput("A is a batch", (np.ones((2, 3, 3)),), ValueError,
                     r"inv: A must be a square matrix .*; got shape \(2, 3, 3\)"),
            BadInput("integer A", (np.eye(2, dtype=np.int64),), TypeError,
                     r"inv: A must have a real floating dtype .*; got dtype int64"),
            BadInput("half precision", (np.eye(2, dtype=np.float16),), TypeError,
                     r"inv: A must have dtype float32 or float64 .*; got dtype float16"),
        ),
    ),
    Op(
        name="logdet",
        family="linalg",
        arg_names=("A",),
        formula="log |det A| (one LU factorisation, any sign of det A)",
        reference=lambda xp, A: xp.linalg.slogdet(A)[1],
        cases={
            "positive_det": lambda rng: (_well_conditioned(rng, 4),),
            "negative_det": lambda rng: (_negative_det(rng, 4),),
        },
        derive=derive_logdet,
        validate=rules.check_logdet,
        chapter="ch-inverses",
        benchmark_cases={
            f"n={n}": lambda rng, n=n: (_negative_det(rng, n),) for n in (256, 1024)
        },
        bad_inputs=(
            BadInput("A not square", (np.ones((3, 2)),), ValueError,
                     r"logdet: A must be a square matrix of shape \(n, n\); got shape \(3, 2\)"),
            BadInput("A is a vector", (np.ones(3),), ValueError,
                     r"logdet: A must be a square matrix .*; got shape \(3,\)"),
            BadInput("A is a batch", (np.ones((2, 3, 3)),), ValueError,
                     r"logdet: A must be a square matrix .*; got shape \(2, 3, 3\)"),
            BadInput("integer A", (np.eye(2, dtype=np.int64),), TypeError,
                     r"logdet: A must have a real floating dtype .*; got dtype int64"),
            BadInput("half precision", (np.eye(2, dtype=np.float16),), TypeError,
                     r"logdet: A must have dtype float32 or float64 .*; got dtype float16"),
        ),
    ),
)
