"""Linear-algebra rules, written once: ``matvec(A, x) = A x`` and ``solve(A, b) = A⁻¹ b``.

``solve`` factorises ``A`` once (``xp.lu_factor``); its tangent and cotangent
formulas reuse those factors (``xp.lu_solve``). ``<op>_tangent`` is the JVP
formula, ``<op>_cotangents`` the VJP formula; ``needs`` (one flag per input)
skips the work for inputs that need no cotangent.

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


def matvec_tangent(A: Array, x: Array, A_dot: Array, x_dot: Array, xp: ArrayOps) -> Array:
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
    >>> A_bar, x_bar = matvec_cotangents(np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 0.0]), numpy_ops)
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
        raise ValueError(f"matvec: A must be a matrix of shape (m, n); got shape {_validate.shape_of(A)}")
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


def solve_tangent(lu_factors: Any, x: Array, A_dot: Array, b_dot: Array, xp: ArrayOps) -> Array:
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
    A_bar = _columns(-b_bar) @ _columns(x).T if needs[0] else None  # negate the vector, not the matrix
    return A_bar, (b_bar if needs[1] else None)


def _columns(v: Array) -> Array:
    """View a vector ``(n,)`` as a column ``(n, 1)``; leave a matrix ``(n, k)`` alone."""
    return v[:, None] if v.ndim == 1 else v


def check_solve(A: Any, b: Any, array_type: str = "an array") -> None:
    """``A`` square ``(n, n)``; ``b`` of shape ``(n,)`` or ``(n, k)``; one float32/float64 dtype."""
    dtype = _validate.check_arrays("solve", array_type, A=A, b=b)
    _validate.check_lapack_dtype("solve", dtype, "A and b")
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"solve: A must be a square matrix of shape (n, n); got shape {_validate.shape_of(A)}")
    n = A.shape[0]
    if b.ndim not in (1, 2) or b.shape[0] != n:
        raise ValueError(
            f"solve: b must have shape (n,) or (n, k) with n = {n} to match A of shape "
            f"{_validate.shape_of(A)}; got shape {_validate.shape_of(b)}"
        )
