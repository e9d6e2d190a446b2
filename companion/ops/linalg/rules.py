"""Linear-algebra rules, written once: ``matvec(A, x) = A x``, ``solve(A, b) = A⁻¹ b``,
``quad_form(x, Q) = xᵀ Q x``, ``inv(A) = A⁻¹`` and ``logdet(A) = log |det A|``.

``solve`` and ``logdet`` factorise ``A`` once (``xp.lu_factor``); their tangent
and cotangent formulas reuse those factors (``xp.lu_solve``). ``inv`` reuses
its output ``A⁻¹`` instead. ``<op>_tangent`` is the JVP formula,
``<op>_cotangents`` the VJP formula; ``needs`` (one flag per input) skips the
work for inputs that need no cotangent.

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> matvec(np.eye(2), np.array([1.0, 2.0]), numpy_ops)
array([1., 2.])
"""

from __future__ import annotations

from typing import Any, Sequence

from companion import _validate
from companion.xp import ArrayOps, numpy_ops  # noqa: F401  (numpy_ops: doctests)

__all__ = [
    "matvec",
    "matvec_tangent",
    "matvec_cotangents",
    "check_matvec",
    "solve",
    "solve_tangent",
    "solve_cotangents",
    "check_solve",
    "quad_form",
    "quad_form_tangent",
    "quad_form_cotangents",
    "check_quad_form",
    "inv",
    "inv_tangent",
    "inv_cotangents",
    "check_inv",
    "logdet",
    "logdet_tangent",
    "logdet_cotangents",
    "check_logdet",
]

Array = Any
Needs = Sequence[bool]

# --------------------------------------------------------------------------
# matvec(A, x) = A x
# --------------------------------------------------------------------------


def matvec(A: Array, x: Array, xp: ArrayOps) -> Array:
    """Primal: ``y = A x``.

    >>> import numpy as np
    >>> matvec(np.eye(2), np.array([1.0, 2.0]), numpy_ops)
    array([1., 2.])
    """
    return A @ x


def matvec_tangent(
    A: Array, x: Array, A_dot: Array, x_dot: Array, xp: ArrayOps
) -> Array:
    """JVP: ``ẏ = Ȧ x + A ẋ``.

    >>> import numpy as np
    >>> matvec_tangent(np.eye(2), np.ones(2), np.ones((2, 2)), np.ones(2), numpy_ops)
    array([3., 3.])
    """
    return A_dot @ x + A @ x_dot


def matvec_cotangents(
    A: Array, x: Array, y_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``.

    >>> import numpy as np
    >>> A_bar, x_bar = matvec_cotangents(
    ...     np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 0.0]), numpy_ops
    ... )
    >>> A_bar
    array([[1., 2.],
           [0., 0.]])
    >>> x_bar
    array([1., 0.])
    """
    A_bar = y_bar[:, None] * x[None, :] if needs[0] else None
    x_bar = y_bar @ A if needs[1] else None  # = Aᵀ ȳ, without a transposed copy of A
    return A_bar, x_bar


def check_matvec(A: Any, x: Any, array_type: str = "an array") -> None:
    """``A`` of shape ``(m, n)`` and ``x`` of shape ``(n,)``, one floating dtype."""
    _validate.check_arrays("matvec", array_type, A=A, x=x)
    if A.ndim != 2:
        raise ValueError(
            f"matvec: A must be a matrix of shape (m, n); got shape {_validate.shape_of(A)}"
        )
    if x.ndim != 1 or x.shape[0] != A.shape[1]:
        raise ValueError(
            f"matvec: x must be a vector of shape (n,) = ({A.shape[1]},) to match A of shape "
            f"{_validate.shape_of(A)}; got shape {_validate.shape_of(x)}"
        )


# --------------------------------------------------------------------------
# solve(A, b) = A⁻¹ b, one LU factorisation shared by primal, JVP and VJP
# --------------------------------------------------------------------------


def solve(A: Array, b: Array, xp: ArrayOps) -> tuple[Array, Any]:
    """Primal: factorise ``A = P L U`` once, ``x = A⁻¹ b``; returns ``(x, lu_factors)``.

    >>> import numpy as np
    >>> x, lu_factors = solve(2 * np.eye(2), np.ones(2), numpy_ops)
    >>> x
    array([0.5, 0.5])
    """
    lu_factors = xp.lu_factor(A)
    x = xp.lu_solve(lu_factors, b)
    return x, lu_factors


def solve_tangent(
    lu_factors: Any, x: Array, A_dot: Array, b_dot: Array, xp: ArrayOps
) -> Array:
    """JVP: ``ẋ = A⁻¹ (ḃ − Ȧ x)``, reusing the factors of ``A``.

    >>> import numpy as np
    >>> x, lu_factors = solve(2 * np.eye(2), np.ones(2), numpy_ops)
    >>> solve_tangent(lu_factors, x, np.eye(2), np.zeros(2), numpy_ops)
    array([-0.25, -0.25])
    """
    return xp.lu_solve(lu_factors, b_dot - A_dot @ x)


def solve_cotangents(
    lu_factors: Any, x: Array, x_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ``, reusing the factors of ``A``.

    >>> import numpy as np
    >>> x, lu_factors = solve(2 * np.eye(2), np.ones(2), numpy_ops)
    >>> A_bar, b_bar = solve_cotangents(lu_factors, x, np.array([1.0, 0.0]), numpy_ops)
    >>> b_bar
    array([0.5, 0. ])
    >>> A_bar
    array([[-0.25, -0.25],
           [ 0.  ,  0.  ]])
    """
    b_bar = xp.lu_solve(lu_factors, x_bar, trans=True)
    A_bar = (
        _columns(-b_bar) @ _columns(x).T if needs[0] else None
    )  # negate the vector, not the matrix
    return A_bar, (b_bar if needs[1] else None)


def _columns(v: Array) -> Array:
    """View a vector ``(n,)`` as a column ``(n, 1)``; leave a matrix ``(n, k)`` alone."""
    return v[:, None] if v.ndim == 1 else v


def check_solve(A: Any, b: Any, array_type: str = "an array") -> None:
    """``A`` square ``(n, n)``; ``b`` of shape ``(n,)`` or ``(n, k)``; one float32/float64 dtype."""
    dtype = _validate.check_arrays("solve", array_type, A=A, b=b)
    _validate.check_lapack_dtype("solve", dtype, "A and b")
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(
            f"solve: A must be a square matrix of shape (n, n); got shape {_validate.shape_of(A)}"
        )
    n = A.shape[0]
    if b.ndim not in (1, 2) or b.shape[0] != n:
        raise ValueError(
            f"solve: b must have shape (n,) or (n, k) with n = {n} to match A of shape "
            f"{_validate.shape_of(A)}; got shape {_validate.shape_of(b)}"
        )


def _check_square(op: str, A: Any) -> None:
    """``A`` is a square matrix ``(n, n)``."""
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(
            f"{op}: A must be a square matrix of shape (n, n); got shape {_validate.shape_of(A)}"
        )


# --------------------------------------------------------------------------
# quad_form(x, Q) = xᵀ Q x, Q not assumed symmetric
# --------------------------------------------------------------------------


def quad_form(x: Array, Q: Array, xp: ArrayOps) -> Array:
    """Primal: the scalar ``y = xᵀ Q x`` (``Q`` need not be symmetric).

    >>> import numpy as np
    >>> quad_form(np.array([1.0, 2.0]), np.array([[1.0, 1.0], [0.0, 1.0]]), numpy_ops)
    np.float64(7.0)
    """
    return x @ (Q @ x)


def quad_form_tangent(
    x: Array, Q: Array, x_dot: Array, Q_dot: Array, xp: ArrayOps
) -> Array:
    """JVP: ``ẏ = ẋᵀ (Q + Qᵀ) x + xᵀ Q̇ x``.

    Both ``ẋᵀ Q x`` and ``xᵀ Q ẋ`` contribute; ``(Q + Qᵀ) x`` is ``Q x + xᵀ Q``,
    computed without forming ``Qᵀ``.

    >>> import numpy as np
    >>> x, Q = np.array([1.0, 2.0]), np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> quad_form_tangent(x, Q, np.array([1.0, 0.0]), np.zeros((2, 2)), numpy_ops)
    np.float64(4.0)
    """
    return x_dot @ (Q @ x + x @ Q) + x @ (Q_dot @ x)


def quad_form_cotangents(
    x: Array, Q: Array, y_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``x̄ = ȳ (Q + Qᵀ) x``, ``Q̄ = ȳ x xᵀ``.

    Not ``2 ȳ Q x``: that holds only for a symmetric ``Q``.

    >>> import numpy as np
    >>> x, Q = np.array([1.0, 2.0]), np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> x_bar, Q_bar = quad_form_cotangents(x, Q, np.array(1.0), numpy_ops)
    >>> x_bar
    array([4., 5.])
    >>> Q_bar
    array([[1., 2.],
           [2., 4.]])
    """
    x_bar = y_bar * (Q @ x + x @ Q) if needs[0] else None
    Q_bar = (y_bar * x)[:, None] * x[None, :] if needs[1] else None
    return x_bar, Q_bar


def check_quad_form(x: Any, Q: Any, array_type: str = "an array") -> None:
    """``x`` of shape ``(n,)`` and ``Q`` of shape ``(n, n)``, one floating dtype."""
    _validate.check_arrays("quad_form", array_type, x=x, Q=Q)
    if x.ndim != 1:
        raise ValueError(
            f"quad_form: x must be a vector of shape (n,); got shape {_validate.shape_of(x)}"
        )
    n = x.shape[0]
    if Q.ndim != 2 or Q.shape[0] != n or Q.shape[1] != n:
        raise ValueError(
            f"quad_form: Q must be a square matrix of shape (n, n) = ({n}, {n}) to match x of shape "
            f"{_validate.shape_of(x)}; got shape {_validate.shape_of(Q)}"
        )


# --------------------------------------------------------------------------
# inv(A) = A⁻¹: one LU factorisation in the primal; the rules reuse the output
# --------------------------------------------------------------------------


def inv(A: Array, xp: ArrayOps) -> Array:
    """Primal: ``Y = A⁻¹``: factorise ``A = P L U`` once and solve ``A Y = I`` with the factors.

    >>> import numpy as np
    >>> inv(np.array([[2.0, 0.0], [0.0, 4.0]]), numpy_ops)
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    return xp.lu_solve(xp.lu_factor(A), xp.eye_like(A))


def inv_tangent(Y: Array, A_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``Ẏ = −A⁻¹ Ȧ A⁻¹ = −Y Ȧ Y``, from the output ``Y = A⁻¹``.

    The rules reuse the output, not the LU factors: ``Y`` exists anyway (it is
    the result), so nothing else is kept between the passes, and the rule is
    two matrix products of ``n³`` multiply-adds each, as many as two solves
    with the factors and ``n`` right-hand sides would cost.

    >>> import numpy as np
    >>> Y = inv(np.array([[2.0, 0.0], [0.0, 4.0]]), numpy_ops)
    >>> inv_tangent(Y, np.array([[1.0, 0.0], [0.0, 0.0]]), numpy_ops)
    array([[-0.25,  0.  ],
           [ 0.  ,  0.  ]])
    """
    return -(Y @ A_dot) @ Y


def inv_cotangents(
    Y: Array, Y_bar: Array, xp: ArrayOps, needs: Needs = (True,)
) -> tuple[Array | None]:
    """VJP: ``Ā = −A⁻ᵀ Ȳ A⁻ᵀ = −Yᵀ Ȳ Yᵀ``, from the output ``Y = A⁻¹``.

    >>> import numpy as np
    >>> Y = inv(np.array([[2.0, 1.0], [0.0, 4.0]]), numpy_ops)
    >>> (A_bar,) = inv_cotangents(Y, np.array([[0.0, 1.0], [0.0, 0.0]]), numpy_ops)
    >>> A_bar
    array([[ 0.0625  , -0.125   ],
           [-0.015625,  0.03125 ]])
    """
    return (-(Y.T @ Y_bar) @ Y.T if needs[0] else None,)


def check_inv(A: Any, array_type: str = "an array") -> None:
    """``A`` square ``(n, n)`` with dtype float32 or float64."""
    dtype = _validate.check_arrays("inv", array_type, A=A)
    _validate.check_lapack_dtype("inv", dtype, "A")
    _check_square("inv", A)


# --------------------------------------------------------------------------
# logdet(A) = log |det A|: one LU factorisation shared by primal, JVP and VJP
# --------------------------------------------------------------------------


def logdet(A: Array, xp: ArrayOps) -> tuple[Array, Any]:
    """Primal: factorise ``A = P L U`` once, ``y = log |det A| = Σ log |U_ii|``; returns
    ``(y, lu_factors)``.

    ``|det P| = 1`` and ``det L = 1``, so only the diagonal of ``U`` counts, and
    taking ``|U_ii|`` makes the sign of ``det A`` irrelevant: any invertible
    ``A``, not only a symmetric positive definite one.

    >>> import numpy as np
    >>> A = np.array([[0.0, 2.0], [3.0, 0.0]])  # det A = −6
    >>> y, lu_factors = logdet(A, numpy_ops)
    >>> bool(np.isclose(y, np.log(6.0)))
    True
    """
    lu_factors = xp.lu_factor(A)
    return xp.lu_logabsdet(lu_factors), lu_factors


def logdet_tangent(lu_factors: Any, A_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``ẏ = tr(A⁻¹ Ȧ)`` (Jacobi's formula), reusing the factors of ``A``.

    >>> import numpy as np
    >>> y, lu_factors = logdet(np.array([[0.0, 2.0], [3.0, 0.0]]), numpy_ops)
    >>> logdet_tangent(lu_factors, np.array([[0.0, 1.0], [0.0, 0.0]]), numpy_ops)
    np.float64(0.5)
    """
    return xp.lu_solve(lu_factors, A_dot).diagonal().sum()


def logdet_cotangents(
    A: Array, lu_factors: Any, y_bar: Array, xp: ArrayOps, needs: Needs = (True,)
) -> tuple[Array | None]:
    """VJP: ``Ā = ȳ A⁻ᵀ``, by a solve with ``Aᵀ`` that reuses the factors of ``A``.

    ``A`` gives only the size, dtype and device of the identity ``ȳ I`` that is solved
    for.

    >>> import numpy as np
    >>> A = np.array([[0.0, 2.0], [3.0, 0.0]])
    >>> y, lu_factors = logdet(A, numpy_ops)
    >>> (A_bar,) = logdet_cotangents(A, lu_factors, np.array(1.0), numpy_ops)
    >>> A_bar  # A⁻¹ = [[0, 1/3], [1/2, 0]], transposed
    array([[0.        , 0.5       ],
           [0.33333333, 0.        ]])
    """
    return (
        xp.lu_solve(lu_factors, y_bar * xp.eye_like(A), trans=True)
        if needs[0]
        else None,
    )


def check_logdet(A: Any, array_type: str = "an array") -> None:
    """``A`` square ``(n, n)`` with dtype float32 or float64."""
    dtype = _validate.check_arrays("logdet", array_type, A=A)
    _validate.check_lapack_dtype("logdet", dtype, "A")
    _check_square("logdet", A)
