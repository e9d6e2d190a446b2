"""Matrix decompositions, written once against an array namespace ``xp``: ``cholesky`` and ``eigh``.

Both ops take a symmetric matrix. They read it through its **symmetric part**
``sym(A) = (A + Aᵀ)/2`` (as ``jax.numpy.linalg`` does by default), so each op
is a well-defined function of all ``n²`` entries of ``A`` and its derivative
rules are the exact derivatives of that function:

* a tangent ``Ȧ`` acts through ``sym(Ȧ)``: an antisymmetric ``Ȧ`` changes nothing;
* the cotangent ``Ā`` is **symmetric**, and for a symmetric ``Ȧ`` it satisfies
  ``⟨Ā, Ȧ⟩ = ⟨L̄, L̇⟩`` (``cholesky``) or ``⟨w̄, ẇ⟩ + ⟨V̄, V̇⟩`` (``eigh``).

``check_symmetric`` reads the values of ``A`` (so the adapters call it only
where values exist: eagerly) and rejects an ``A`` whose asymmetry is more than
round-off: ``max|A − Aᵀ| > √ε · max|A|``, ``ε`` the machine epsilon of
``A``'s dtype (about 1.5e-8 in float64, 3.5e-4 in float32).

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]), numpy_ops)
array([[2., 0.],
       [1., 2.]])
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from companion import _validate
from companion.xp import ArrayOps, numpy_ops  # noqa: F401  (numpy_ops: doctests)

__all__ = [
    "cholesky",
    "cholesky_tangent",
    "cholesky_cotangents",
    "cholesky_phi",
    "check_cholesky",
    "eigh",
    "eigh_tangent",
    "eigh_cotangents",
    "eigh_gap_reciprocals",
    "check_eigh",
]

Array = Any
Needs = Sequence[bool]


def _sym(A: Array) -> Array:
    """``sym(A) = (A + Aᵀ)/2``, exactly symmetric in floating point (``a + b = b + a``)."""
    return (A + A.T) / 2


# --------------------------------------------------------------------------
# cholesky(A) = L, lower triangular with positive diagonal, L Lᵀ = sym(A)
# --------------------------------------------------------------------------


def cholesky(A: Array, xp: ArrayOps) -> Array:
    """Primal: the lower-triangular ``L`` with ``L Lᵀ = sym(A)`` (the library's Cholesky).

    >>> cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]), numpy_ops)
    array([[2., 0.],
           [1., 2.]])
    """
    return xp.linalg.cholesky(_sym(A))


def cholesky_phi(X: Array, xp: ArrayOps) -> Array:
    """``Φ(X)``: the lower triangle of ``X`` with its diagonal halved,
    ``(tril(X) + tril(X, −1))/2``.

    ``Φ`` splits a symmetric ``S`` as ``S = Φ(S) + Φ(S)ᵀ``, and it is
    self-adjoint: ``⟨Φ(X), Y⟩ = ⟨X, Φ(Y)⟩``.

    >>> cholesky_phi(np.array([[2.0, 3.0], [4.0, 6.0]]), numpy_ops)
    array([[1., 0.],
           [4., 3.]])
    """
    return (xp.tril(X) + xp.tril(X, -1)) / 2


def cholesky_tangent(L: Array, A_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``L̇ = L Φ(L⁻¹ sym(Ȧ) L⁻ᵀ)``, by two triangular solves.

    From ``sym(Ȧ) = L̇ Lᵀ + L L̇ᵀ``: ``L⁻¹ sym(Ȧ) L⁻ᵀ = L⁻¹L̇ + (L⁻¹L̇)ᵀ`` with
    ``L⁻¹L̇`` lower triangular, so ``L⁻¹L̇ = Φ(L⁻¹ sym(Ȧ) L⁻ᵀ)``.

    >>> L = np.array([[2.0, 0.0], [1.0, 2.0]])
    >>> cholesky_tangent(L, np.eye(2), numpy_ops)
    array([[ 0.25  ,  0.    ],
           [-0.125 ,  0.3125]])
    """
    Y = xp.solve_triangular(L, _sym(A_dot), lower=True)  # L⁻¹ sym(Ȧ)
    S = xp.solve_triangular(L, Y.T, lower=True)  # L⁻¹ sym(Ȧ) L⁻ᵀ (symmetric)
    return xp.tril(
        L @ cholesky_phi(S, xp)
    )  # tril: exact zeros above the diagonal, even if L has nan


def cholesky_cotangents(
    L: Array, L_bar: Array, xp: ArrayOps, needs: Needs = (True,)
) -> tuple[Array | None]:
    """VJP: ``Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``, symmetric, by two triangular solves.

    The adjoint of the JVP: ``⟨L̄, L Φ(S)⟩ = ⟨Φ(Lᵀ L̄), S⟩`` (``Φ`` is
    self-adjoint) with ``S = L⁻¹ sym(Ȧ) L⁻ᵀ``, so ``⟨L̄, L̇⟩ = ⟨G, sym(Ȧ)⟩ =
    ⟨sym(G), Ȧ⟩`` for ``G = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹``.

    >>> L = np.array([[2.0, 0.0], [1.0, 2.0]])
    >>> cholesky_cotangents(L, np.array([[0.0, 0.0], [1.0, 0.0]]), numpy_ops)[
    ...     0
    ... ]  # L₁₀ = a₁₀/√a₀₀
    array([[-0.125,  0.25 ],
           [ 0.25 ,  0.   ]])
    >>> cholesky_cotangents(L, np.eye(2), numpy_ops, needs=(False,))
    (None,)
    """
    if not needs[0]:
        return (None,)
    P = cholesky_phi(L.T @ L_bar, xp)
    Z = xp.solve_triangular(L, P, lower=True, trans=True)  # L⁻ᵀ P
    G = xp.solve_triangular(L, Z.T, lower=True, trans=True).T  # (L⁻ᵀ Zᵀ)ᵀ = L⁻ᵀ P L⁻¹
    return (_sym(G),)


def _check_square(op: str, A: Any, array_type: str) -> None:
    """``A``: a float32/float64 square matrix ``(n, n)``, ``n ≥ 1``."""
    dtype = _validate.check_arrays(op, array_type, A=A)
    if dtype not in _validate.LAPACK:
        raise TypeError(
            f"{op}: A must have dtype float32 or float64 (LAPACK's real types); got dtype {dtype}"
        )
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
        raise ValueError(
            f"{op}: A must be a square matrix of shape (n, n) with n ≥ 1; got shape {_validate.shape_of(A)}"
        )


def check_cholesky(A: Any, array_type: str = "an array") -> None:
    """``A``: a float32/float64 square matrix ``(n, n)`` (shape and dtype; symmetry is a value check).

    >>> check_cholesky(np.ones((2, 3)))
    Traceback (most recent call last):
        ...
    ValueError: cholesky: A must be a square matrix ...; got shape (2, 3)
    """
    _check_square("cholesky", A, array_type)


def check_symmetric(op: str, A: Any, xp: ArrayOps) -> None:
    """Reject an ``A`` with non-finite entries or ``max|A − Aᵀ| > √ε · max|A|``.

    ``ε`` is the machine epsilon of ``A``'s dtype. Reads values, so it cannot
    run on traced arrays (``jax.jit``) or batched tensors (``torch.func.vmap``).

    >>> check_symmetric(
    ...     "cholesky", np.array([[1.0, 0.0], [1e-9, 1.0]]), numpy_ops
    ... )  # round-off: accepted
    >>> check_symmetric("cholesky", np.array([[1.0, 0.0], [1e-6, 1.0]]), numpy_ops)
    Traceback (most recent call last):
        ...
    ValueError: cholesky: A must be symmetric, max|A − Aᵀ| ≤ √ε·max|A| = 1.49e-08 (ε = 2.22e-16 for float64); got max|A − Aᵀ| = 1e-06 ...
    """
    dtype = _validate.dtype_name(A)
    eps = float(np.finfo(dtype).eps)
    scale = float(xp.max(xp.abs(A)))
    if not math.isfinite(scale):
        raise ValueError(f"{op}: A must be finite; got an A with inf or nan entries")
    tol = math.sqrt(eps) * scale
    asymmetry = float(xp.max(xp.abs(A - A.T)))
    if asymmetry > tol:
        raise ValueError(
            f"{op}: A must be symmetric, max|A − Aᵀ| ≤ √ε·max|A| = {tol:.3g} (ε = {eps:.3g} for {dtype}); "
            f"got max|A − Aᵀ| = {asymmetry:.3g} (if that is round-off, pass (A + Aᵀ)/2)"
        )


# --------------------------------------------------------------------------
# eigh(A) = (w, V): sym(A) = V diag(w) Vᵀ, w ascending, Vᵀ V = I
# --------------------------------------------------------------------------


def eigh(A: Array, xp: ArrayOps) -> tuple[Array, Array]:
    """Primal: ``(w, V)`` with ``V diag(w) Vᵀ = sym(A)``, ``w`` ascending, ``V`` orthogonal (the library's).

    Each column of ``V`` is defined up to its sign (and, for a repeated
    eigenvalue, up to a rotation within the eigenspace); the library picks one.

    >>> w, V = eigh(np.array([[2.0, 1.0], [1.0, 2.0]]), numpy_ops)
    >>> w
    array([1., 3.])
    """
    w, V = xp.linalg.eigh(_sym(A))
    return w, V


def eigh_gap_reciprocals(w: Array, xp: ArrayOps) -> Array:
    """``F_ij = 1/(w_j − w_i)`` for ``w_i ≠ w_j``, and ``0`` where ``w_i = w_j`` (the
    diagonal, ties).

    The mask keeps ``F`` finite, so ``F ∘ 0 = 0``: a zero eigenvector
    cotangent contributes nothing even at a repeated eigenvalue. (The inner
    ``where`` keeps ``1/0`` out of the computation, so derivatives of ``F`` stay
    finite too.)

    >>> eigh_gap_reciprocals(np.array([1.0, 1.0, 3.0]), numpy_ops)
    array([[ 0. ,  0. ,  0.5],
           [ 0. ,  0. ,  0.5],
           [-0.5, -0.5,  0. ]])
    """
    gap = w[None, :] - w[:, None]  # gap_ij = w_j − w_i
    tie = gap == 0
    return xp.where(tie, 0, 1 / xp.where(tie, 1, gap))


def eigh_tangent(w: Array, V: Array, A_dot: Array, xp: ArrayOps) -> tuple[Array, Array]:
    """JVP: ``ẇ = diag(Vᵀ sym(Ȧ) V)``, ``V̇ = V (F ∘ (Vᵀ sym(Ȧ) V))``, ``F`` with
    entries ``1/(w_j − w_i)``.

    ``F`` is :func:`eigh_gap_reciprocals`, zero where ``w_i = w_j``.

    From ``M = Vᵀ sym(Ȧ) V = Ω diag(w) − diag(w) Ω + diag(ẇ)`` with the
    antisymmetric ``Ω = Vᵀ V̇``: ``M_ij = (w_j − w_i) Ω_ij``.

    >>> w, V = np.array([1.0, 3.0]), np.eye(2)
    >>> w_dot, V_dot = eigh_tangent(w, V, np.array([[0.0, 1.0], [1.0, 0.0]]), numpy_ops)
    >>> w_dot, V_dot
    (array([0., 0.]), array([[ 0. ,  0.5],
           [-0.5,  0. ]]))
    """
    AV = _sym(A_dot) @ V
    M = V.T @ AV
    w_dot = (V * AV).sum(0)  # the diagonal of M
    V_dot = V @ (eigh_gap_reciprocals(w, xp) * M)
    return w_dot, V_dot


def eigh_cotangents(
    w: Array,
    V: Array,
    w_bar: Array | None,
    V_bar: Array | None,
    xp: ArrayOps,
    needs: Needs = (True,),
) -> tuple[Array | None]:
    """VJP: ``Ā = sym(V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ)``, ``F`` with entries
    ``1/(w_j − w_i)``.

    ``F`` is :func:`eigh_gap_reciprocals`, zero where ``w_i = w_j``.

    The adjoint of the JVP: with ``M = Vᵀ sym(Ȧ) V``, ``⟨w̄, ẇ⟩ + ⟨V̄, V̇⟩`` is
    ``⟨diag(w̄), M⟩ + ⟨F ∘ (Vᵀ V̄), M⟩``, that is
    ``⟨V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ, sym(Ȧ)⟩``.
    A cotangent given as ``None`` (an output the loss does not use) is zero,
    and its term is skipped. With ``V̄ = 0`` the result is finite even at a
    repeated eigenvalue (``F`` is masked there); with ``V̄ ≠ 0`` it is in general
    not a gradient at a repeated eigenvalue, where ``V`` is not a function of
    ``A``. (It is one for a loss that depends only on the eigenspace, such as a
    projector onto it, when the tie is exact: the tied block of ``F ∘ (Vᵀ V̄)``
    is then antisymmetric and ``sym`` removes it, whatever ``F`` is there.)

    >>> w, V = np.array([1.0, 3.0]), np.eye(2)
    >>> eigh_cotangents(w, V, np.array([1.0, 2.0]), None, numpy_ops)[0]
    array([[1., 0.],
           [0., 2.]])
    >>> eigh_cotangents(w, V, None, np.array([[0.0, 1.0], [0.0, 0.0]]), numpy_ops)[0]
    array([[0.  , 0.25],
           [0.25, 0.  ]])
    """
    if not needs[0] or (w_bar is None and V_bar is None):
        return (None,)
    terms = []
    if w_bar is not None:
        terms.append((V * w_bar[None, :]) @ V.T)  # V diag(w̄) Vᵀ
    if V_bar is not None:
        terms.append(V @ (eigh_gap_reciprocals(w, xp) * (V.T @ V_bar)) @ V.T)
    return (_sym(sum(terms[1:], terms[0])),)


def check_eigh(A: Any, array_type: str = "an array") -> None:
    """``A``: a float32/float64 square matrix ``(n, n)`` (shape and dtype; symmetry is a value check).

    >>> check_eigh(np.eye(2, dtype=np.int64))
    Traceback (most recent call last):
        ...
    TypeError: eigh: A must have a real floating dtype (...); got dtype int64
    """
    _check_square("eigh", A, array_type)
