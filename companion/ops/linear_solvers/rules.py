"""The formulas of the family, written once against an array namespace: ``cg_solve``.

``cg_solve`` solves ``A x = b`` for a symmetric positive definite ``A`` by
conjugate gradients (Hestenes and Stiefel). ``A`` is a matrix, read through its
symmetric part ``(A + Aᵀ)/2``, or an operator ``v ↦ A(θ) v`` given as a function
``matvec(v, *params)``. The matrix form is the operator ``sym_matvec(v, A)``, so
one set of rules serves both.

The derivatives are solves with the same operator: the JVP is
``ẋ = A⁻¹ (ḃ − Ȧ x)`` and the VJP is ``u = A⁻¹ x̄`` (``A⁻ᵀ = A⁻¹``), ``b̄ = u``,
``θ̄ = −(∂(A(θ) x)/∂θ)ᵀ u``. The rules take the solve (``solve(r) = A⁻¹ r``) and
the derivatives of ``matvec`` at fixed ``x`` as functions, which each framework
supplies; the CG iteration itself is :func:`cg_init` and :func:`cg_step`.

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
>>> x, iterations = cg_solve(lambda v: A @ v, np.array([1.0, 2.0]), numpy_ops, max_iter=2)
>>> np.allclose(A @ x, [1.0, 2.0]), iterations
(True, 2)
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

from companion import _validate
from companion.xp import ArrayOps, numpy_ops  # noqa: F401  (numpy_ops: doctests)

__all__ = [
    "CGState",
    "cg_init",
    "cg_step",
    "cg_solve",
    "cg_solve_tangent",
    "cg_solve_cotangents",
    "sym_matvec",
    "check_cg_solve",
    "check_cg_options",
]

Array = Any
Needs = Sequence[bool]


class CGState(NamedTuple):
    """The state of conjugate gradients after ``k`` steps: the iterate ``x``, the
    residual ``r = b − A x``, the search direction ``p`` and ``rr = rᵀ r``."""

    x: Array
    r: Array
    p: Array
    rr: Array


def cg_init(b: Array, xp: ArrayOps) -> CGState:
    """The start of CG from ``x₀ = 0``: ``r₀ = p₀ = b``, ``rr = bᵀ b``.

    >>> import numpy as np
    >>> cg_init(np.array([3.0, 4.0]), numpy_ops).rr
    np.float64(25.0)
    """
    return CGState(0 * b, b, b, b @ b)


def cg_step(
    matvec: Callable[[Array], Array], state: CGState, xp: ArrayOps, active: Any = None
) -> tuple[CGState, Array]:
    """One CG step; returns the new state and ``pᵀ A p`` (positive for an SPD ``A``).

    ``α = rᵀr / pᵀAp``, ``x ← x + α p``, ``r ← r − α A p``,
    ``β = r_newᵀ r_new / rᵀ r``, ``p ← r_new + β p``. Where ``active``
    (a boolean array) is false, ``α = β = 0``: the iterate stays where it
    is, which lets a batch of systems run a common number of steps.

    >>> import numpy as np
    >>> A = np.diag([1.0, 2.0])
    >>> start = cg_init(np.array([1.0, 0.0]), numpy_ops)
    >>> state, pAp = cg_step(lambda v: A @ v, start, numpy_ops)
    >>> state.x, pAp
    (array([1., 0.]), np.float64(1.0))
    """
    x, r, p, rr = state
    Ap = matvec(p)
    pAp = p @ Ap
    alpha = rr / pAp if active is None else xp.where(active, rr / pAp, 0 * rr)
    x = x + alpha * p
    r = r - alpha * Ap
    rr_new = r @ r
    beta = rr_new / rr if active is None else xp.where(active, rr_new / rr, 0 * rr)
    return CGState(x, r, r + beta * p, rr_new), pAp


def cg_solve(
    matvec: Callable[[Array], Array], b: Array, xp: ArrayOps, tol: float | None = None, max_iter: int = 1
) -> tuple[Array, int]:
    """Primal: ``x = A⁻¹ b`` by conjugate gradients, stopping when ``‖r‖ ≤ tol ‖b‖``.

    A plain loop, for NumPy and SymPy (the frameworks drive :func:`cg_step`
    themselves). ``tol=None`` runs exactly ``max_iter`` steps: in exact
    arithmetic ``n`` steps solve an ``n × n`` SPD system. Returns ``(x, steps)``.

    >>> import numpy as np
    >>> A = np.array([[4.0, 1.0], [1.0, 3.0]])
    >>> x, k = cg_solve(
    ...     lambda v: A @ v, np.array([1.0, 2.0]), numpy_ops, tol=1e-12, max_iter=10
    ... )
    >>> np.allclose(x, np.linalg.solve(A, [1.0, 2.0])), k
    (True, 2)
    """
    state = cg_init(b, xp)
    threshold = None if tol is None else tol**2 * state.rr
    for k in range(max_iter):
        if threshold is not None and state.rr <= threshold:
            return state.x, k
        state, _ = cg_step(matvec, state, xp)
    return state.x, max_iter


def cg_solve_tangent(
    solve: Callable[[Array], Array], b_dot: Array, A_dot_x: Array, xp: ArrayOps
) -> Array:
    """JVP: ``ẋ = A⁻¹ (ḃ − Ȧ x)``, one more CG solve with the same ``A``.

    ``Ȧ x`` is the derivative of ``θ ↦ A(θ) x`` along ``θ̇`` at the fixed
    solution ``x`` (for the matrix form, ``(Ȧ + Ȧᵀ)/2 x``); ``solve(r) = A⁻¹ r``.

    >>> import numpy as np
    >>> A = np.diag([2.0, 4.0])
    >>> x = np.array([0.5, 0.25])  # A⁻¹ [1, 1]
    >>> cg_solve_tangent(lambda r: r / np.diag(A), np.zeros(2), np.eye(2) @ x, numpy_ops)
    array([-0.25  , -0.0625])
    """
    return solve(b_dot - A_dot_x)


def cg_solve_cotangents(
    solve: Callable[[Array], Array],
    x_bar: Array,
    matvec_vjp: Callable[[Array], Sequence[Array]],
    xp: ArrayOps,
    needs: Needs = (True, True),
) -> tuple[Array | None, tuple[Array, ...] | None]:
    """VJP: ``u = A⁻¹ x̄``, ``b̄ = u``, ``θ̄ = −(∂(A(θ) x)/∂θ)ᵀ u``.

    ``u`` solves with ``Aᵀ``, which is ``A`` (symmetric): the same CG solve
    as the forward pass. ``matvec_vjp(u)`` is ``(∂(A(θ) x)/∂θ)ᵀ u`` at the fixed
    solution ``x``, one cotangent per parameter. For the matrix form
    ``A(θ) x = (A + Aᵀ)/2 x`` it gives ``Ā = −(u xᵀ + x uᵀ)/2``.
    ``needs = (b, params)`` skips ``matvec_vjp`` when no parameter needs a
    cotangent; ``u`` is needed either way.

    >>> import numpy as np
    >>> A, x = np.diag([2.0, 4.0]), np.array([0.5, 0.25])
    >>> b_bar, (A_bar,) = cg_solve_cotangents(
    ...     lambda r: r / np.diag(A),
    ...     np.array([1.0, 0.0]),
    ...     lambda u: ((u[:, None] * x + x[:, None] * u) / 2,),
    ...     numpy_ops,
    ... )
    >>> b_bar
    array([0.5, 0. ])
    >>> A_bar + 0.0  # + 0.0 turns -0.0 into 0.0
    array([[-0.25  , -0.0625],
           [-0.0625,  0.    ]])
    """
    u = solve(x_bar)
    params_bar = tuple(-g for g in matvec_vjp(u)) if needs[1] else None
    return (u if needs[0] else None), params_bar


def sym_matvec(v: Array, A: Array) -> Array:
    """The matrix form's operator: ``(A + Aᵀ)/2 v = (A v + vᵀ A)/2`` (no transposed copy of ``A``).

    >>> import numpy as np
    >>> sym_matvec(np.array([1.0, 0.0]), np.array([[2.0, 2.0], [0.0, 2.0]]))
    array([2., 1.])
    """
    return (A @ v + v @ A) / 2


def check_cg_options(tol: Any, max_iter: Any) -> None:
    """``tol`` a positive real number, ``max_iter`` a positive int or None.

    >>> check_cg_options(0.0, None)
    Traceback (most recent call last):
        ...
    ValueError: cg_solve: tol must be a positive number (...); got 0.0
    """
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol > 0:
        raise ValueError(
            f"cg_solve: tol must be a positive number (the relative residual ‖b − A x‖/‖b‖ to reach); got {tol!r}"
        )
    if max_iter is not None and (
        isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1
    ):
        raise ValueError(
            f"cg_solve: max_iter must be a positive int or None (10 n); got {max_iter!r}"
        )


def check_cg_solve(
    A: Any, b: Any, params: Sequence[Any], array_type: str = "an array"
) -> None:
    """``A`` a square ``(n, n)`` matrix or a callable ``matvec(v, *params)``; ``b`` of shape ``(n,)``;
    ``params`` (matrix-free form only) arrays; one real floating dtype throughout.

    >>> import numpy as np
    >>> check_cg_solve(np.eye(2), np.ones(3), ())
    Traceback (most recent call last):
        ...
    ValueError: cg_solve: b must be a vector of shape (n,) = (2,) ...; got shape (3,)
    """
    if callable(A) and not hasattr(A, "shape"):
        named = {"b": b, **{f"params[{i}]": p for i, p in enumerate(params)}}
        _validate.check_arrays("cg_solve", array_type, **named)
        if b.ndim != 1:
            raise ValueError(
                f"cg_solve: b must be a vector of shape (n,); got shape {_validate.shape_of(b)}"
            )
        return
    if getattr(A, "dtype", None) is None or not hasattr(A, "shape"):
        raise TypeError(
            f"cg_solve: A must be {array_type}; got {type(A).__name__} "
            "(or a function v ↦ A v, called as A(v, *params))"
        )
    if params:
        raise TypeError(
            f"cg_solve: params are for a matrix-free A (a function A(v, *params)); got a matrix A "
            f"and {len(params)} params"
        )
    _validate.check_arrays("cg_solve", array_type, A=A, b=b)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(
            f"cg_solve: A must be a square matrix of shape (n, n); got shape {_validate.shape_of(A)}"
        )
    n = A.shape[0]
    if b.ndim != 1 or b.shape[0] != n:
        raise ValueError(
            f"cg_solve: b must be a vector of shape (n,) = ({n},) to match A of shape "
            f"{_validate.shape_of(A)}; got shape {_validate.shape_of(b)}"
        )
