"""Matrix equations rules, written once: the continuous Lyapunov equation ``lyapunov``.

``P = lyapunov(A, Q)`` solves ``A P + P Aᵀ + Q = 0`` for ``P``. Neither ``A`` nor
``Q`` needs to be symmetric (``P`` is symmetric exactly when ``Q`` is).

**Method: the Kronecker form, one LU factorisation.** Written on the row-major
vectorisation ``vec`` (``vec P = P.reshape(n * n)``), the map ``X ↦ A X + X Aᵀ`` is the
n² × n² matrix ``K = A ⊗ I + I ⊗ A`` (the Kronecker sum; the same matrix for the
column-major ``vec``), so ``K vec P = −vec Q``. The primal factorises ``K`` once
(``xp.lu_factor``); the JVP solves a second Lyapunov equation with the same ``A``
(``K``) and the VJP one with ``Aᵀ`` (``Kᵀ``, a transposed solve with the same
factors), so no derivative factorises again.

**Cost and limits.** ``K`` has n⁴ entries and its LU factorisation costs about
(2/3) n⁶ flops; each further solve costs about 2 n⁴. That is fine up to n ≈ 30 (a
900 × 900 LU) and wasteful beyond: the Bartels–Stewart algorithm (a real Schur
decomposition of ``A`` and a triangular sweep, as in
``scipy.linalg.solve_continuous_lyapunov``) costs O(n³), but PyTorch has no Schur
decomposition, and a rule built on it would need its own differentiable sweep. The
equation has a unique solution exactly when ``λᵢ + λⱼ ≠ 0`` for every pair of
eigenvalues of ``A`` (``K`` has the eigenvalues ``λᵢ + λⱼ``); a stable ``A`` (every
eigenvalue with a negative real part) guarantees it, and then ``P`` is the integral
of ``e^{tA} Q e^{tAᵀ}`` over t ≥ 0. Stability is not required and not
checked. The accuracy degrades with the condition number of ``K``, large when some
``λᵢ + λⱼ`` is close to 0 (a nearly unstable ``A``) or when ``A`` is far from normal.
Only real ``A`` and ``Q`` are handled; complex eigenvalues of ``A`` are no concern
(nothing is diagonalised).

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> A, Q = np.array([[-1.0, 1.0], [0.0, -1.0]]), np.array([[1.0, 1.0], [0.0, 1.0]])
>>> P, lu_factors = lyapunov(A, Q, numpy_ops)
>>> P  # not symmetric, since Q is not
array([[1.  , 0.75],
       [0.25, 0.5 ]])
"""

from __future__ import annotations

from typing import Any, Sequence

from companion import _validate
from companion.xp import ArrayOps, numpy_ops  # noqa: F401  (numpy_ops: doctests)

__all__ = [
    "lyapunov",
    "lyapunov_tangent",
    "lyapunov_cotangents",
    "lyapunov_operator",
    "check_lyapunov",
]

Array = Any
Needs = Sequence[bool]

# --------------------------------------------------------------------------
# lyapunov(A, Q) = P with A P + P Aᵀ + Q = 0, one LU factorisation of the Kronecker sum
# --------------------------------------------------------------------------


def lyapunov_operator(A: Array, xp: ArrayOps) -> Array:
    """The n² × n² matrix ``K = A ⊗ I + I ⊗ A`` of ``X ↦ A X + X Aᵀ`` on ``vec X``.

    ``vec X = X.reshape(n * n)`` (row-major). Entry ``((i, j), (k, l))`` is
    ``A[i, k] δ[j, l] + δ[i, k] A[j, l]``, built by broadcasting; ``Kᵀ`` is the
    matrix of ``X ↦ Aᵀ X + X A``.

    >>> import numpy as np
    >>> A = np.array([[1.0, 2.0], [3.0, 4.0]])
    >>> lyapunov_operator(A, numpy_ops)
    array([[2., 2., 2., 0.],
           [3., 5., 0., 2.],
           [3., 0., 5., 2.],
           [0., 3., 3., 8.]])
    >>> X = np.array([[1.0, -1.0], [0.5, 2.0]])
    >>> K_vec_X = lyapunov_operator(A, numpy_ops) @ X.reshape(4)
    >>> bool(np.allclose(K_vec_X, (A @ X + X @ A.T).reshape(4)))
    True
    """
    n = A.shape[0]
    I = xp.eye(n, dtype=A.dtype)
    K = (A[:, None, :, None] * I[None, :, None, :]  # A[i, k] δ[j, l]
         + I[:, None, :, None] * A[None, :, None, :])  # δ[i, k] A[j, l]
    return K.reshape(n * n, n * n)


def _solve_lyapunov(
    lu_factors: Any, R: Array, xp: ArrayOps, trans: bool = False
) -> Array:
    """``Z`` with ``A Z + Z Aᵀ = R`` (``Aᵀ Z + Z A = R`` if ``trans``) by K's LU."""
    n = R.shape[0]
    return xp.lu_solve(lu_factors, R.reshape(n * n), trans=trans).reshape(n, n)


def lyapunov(A: Array, Q: Array, xp: ArrayOps) -> tuple[Array, Any]:
    """Primal: factorise ``K = A ⊗ I + I ⊗ A`` once, solve ``A P + P Aᵀ = −Q``.

    Returns ``(P, lu_factors)``.

    >>> import numpy as np
    >>> A = np.array([[-1.0, 1.0], [0.0, -1.0]])
    >>> Q = np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> P, lu_factors = lyapunov(A, Q, numpy_ops)
    >>> P
    array([[1.  , 0.75],
           [0.25, 0.5 ]])
    >>> bool(np.allclose(A @ P + P @ A.T + Q, 0.0))
    True
    """
    lu_factors = xp.lu_factor(lyapunov_operator(A, xp))
    P = _solve_lyapunov(lu_factors, -Q, xp)
    return P, lu_factors


def lyapunov_tangent(
    lu_factors: Any, P: Array, A_dot: Array, Q_dot: Array, xp: ArrayOps
) -> Array:
    """JVP: ``Ṗ`` solves ``A Ṗ + Ṗ Aᵀ = −(Ȧ P + P Ȧᵀ + Q̇)``, with the primal's factors.

    >>> import numpy as np
    >>> A = np.array([[-1.0, 1.0], [0.0, -1.0]])
    >>> Q = np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> P, lu_factors = lyapunov(A, Q, numpy_ops)
    >>> A_dot, Q_dot = np.eye(2), np.zeros((2, 2))
    >>> lyapunov_tangent(lu_factors, P, A_dot, Q_dot, numpy_ops)
    array([[1.75, 1.  ],
           [0.5 , 0.5 ]])
    """
    return _solve_lyapunov(lu_factors, -(A_dot @ P + P @ A_dot.T + Q_dot), xp)


def lyapunov_cotangents(
    lu_factors: Any, P: Array, P_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``W`` solves ``Aᵀ W + W A + P̄ = 0``; ``Q̄ = W``, ``Ā = W Pᵀ + Wᵀ P``.

    The adjoint equation is a transposed solve with the primal's factors. No
    symmetry is assumed: for a symmetric ``Q`` (so a symmetric ``P``) *and* a
    symmetric cotangent ``P̄`` (so a symmetric ``W``), ``Ā`` reduces to ``2 W P``,
    which is wrong for any other ``Q`` or ``P̄``.

    >>> import numpy as np
    >>> A = np.array([[-1.0, 1.0], [0.0, -1.0]])
    >>> Q = np.array([[1.0, 1.0], [0.0, 1.0]])
    >>> P, lu_factors = lyapunov(A, Q, numpy_ops)
    >>> P_bar = np.array([[1.0, 2.0], [0.0, 1.0]])
    >>> A_bar, Q_bar = lyapunov_cotangents(lu_factors, P, P_bar, numpy_ops)
    >>> Q_bar
    array([[0.5 , 1.25],
           [0.25, 1.25]])
    >>> A_bar
    array([[2.  , 1.25],
           [2.75, 2.25]])
    """
    W = _solve_lyapunov(lu_factors, -P_bar, xp, trans=True)  # Aᵀ W + W A = −P̄
    A_bar = W @ P.T + W.T @ P if needs[0] else None
    return A_bar, (W if needs[1] else None)


def check_lyapunov(A: Any, Q: Any, array_type: str = "an array") -> None:
    """``A`` square ``(n, n)``; ``Q`` of the same shape; one float32/float64 dtype.

    Only shapes and dtypes are checked (statically, so also under ``jit``). The
    eigenvalues of ``A`` are not: neither stability nor ``λᵢ + λⱼ ≠ 0``.

    >>> import numpy as np
    >>> check_lyapunov(np.eye(3), np.eye(2))
    Traceback (most recent call last):
        ...
    ValueError: lyapunov: Q must have the shape (n, n) = (3, 3) of A; got shape (2, 2)
    """
    dtype = _validate.check_arrays("lyapunov", array_type, A=A, Q=Q)
    _validate.check_lapack_dtype("lyapunov", dtype, "A and Q")
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"lyapunov: A must be a square matrix of shape (n, n); got shape {_validate.shape_of(A)}")
    if _validate.shape_of(Q) != _validate.shape_of(A):
        raise ValueError(
            f"lyapunov: Q must have the shape (n, n) = {_validate.shape_of(A)} of A; "
            f"got shape {_validate.shape_of(Q)}"
        )
