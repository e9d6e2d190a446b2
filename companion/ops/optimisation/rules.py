"""The formulas of the optimisation family, written once against an array namespace.

``eq_qp(Q, c, A, b)`` is the minimiser of ``½ xᵀ Q x + cᵀ x`` subject to
``A x = b``. It solves the KKT system

    K [x; λ] = [−c; b],   K = [[S, Aᵀ], [A, 0]],   S = (Q + Qᵀ)/2,

with one LU factorisation of ``K`` (``xp.lu_factor``). The JVP solves with
``K`` again and the VJP with ``Kᵀ`` (which is ``K``: the KKT matrix is
symmetric), both reusing those factors (``xp.lu_solve``).

**Q is read through its symmetric part.** The objective depends on ``Q`` only
through ``S = (Q + Qᵀ)/2`` (``xᵀ Q x = xᵀ S x``), so the minimiser does too,
for every ``Q``: ``eq_qp`` is a function of all ``n²`` entries of ``Q`` and
its gradient ``Q̄`` is symmetric. No convention is needed; ``Q̄`` is the
whole gradient.

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> x, lam, _ = eq_qp(np.eye(2), np.zeros(2), np.array([[1.0, 1.0]]), np.array([2.0]), numpy_ops)
>>> x, lam
(array([1., 1.]), array([-1.]))
"""

from __future__ import annotations

from typing import Any, Sequence

from companion import _validate
from companion.xp import ArrayOps, numpy_ops  # noqa: F401  (numpy_ops: doctests)

__all__ = [
    "eq_qp",
    "eq_qp_tangent",
    "eq_qp_cotangents",
    "check_eq_qp",
    "kkt_matrix",
    "kkt_singular",
]

Array = Any
Needs = Sequence[bool]


def kkt_matrix(Q: Array, A: Array, xp: ArrayOps) -> Array:
    """The KKT matrix ``K = [[S, Aᵀ], [A, 0]]`` with ``S = (Q + Qᵀ)/2``, of shape
    ``(n + m, n + m)``.

    Built with ``xp.concatenate``, so it is differentiable in ``Q`` and ``A``
    wherever the namespace is. The zero block is ``A[:, :m]`` zeroed (``m < n``).

    >>> import numpy as np
    >>> Q, A = np.array([[2.0, 1.0], [0.0, 2.0]]), np.array([[1.0, 3.0]])
    >>> kkt_matrix(Q, A, numpy_ops)
    array([[2. , 0.5, 1. ],
           [0.5, 2. , 3. ],
           [1. , 3. , 0. ]])
    """
    m = A.shape[0]
    S = (Q + Q.T) / 2
    top = xp.concatenate([S, A.T], axis=1)
    bottom = xp.concatenate([A, xp.zeros_like(A[:, :m])], axis=1)
    return xp.concatenate([top, bottom], axis=0)


def eq_qp(
    Q: Array, c: Array, A: Array, b: Array, xp: ArrayOps
) -> tuple[Array, Array, Any]:
    """Primal: ``x = argmin ½ xᵀ Q x + cᵀ x`` s.t. ``A x = b``, from
    ``[[S, Aᵀ], [A, 0]] [x; λ] = [−c; b]``.

    ``S = (Q + Qᵀ)/2``. Factorises the KKT matrix once; returns
    ``(x, λ, kkt_factors)``, where ``λ`` (shape ``(m,)``) are the Lagrange
    multipliers of ``A x = b``.

    >>> import numpy as np
    >>> Q, A = np.eye(2), np.array([[1.0, 1.0]])
    >>> x, lam, _ = eq_qp(Q, np.array([1.0, 0.0]), A, np.array([0.0]), numpy_ops)
    >>> x, lam
    (array([-0.5,  0.5]), array([-0.5]))
    """
    n = Q.shape[0]
    kkt_factors = xp.lu_factor(kkt_matrix(Q, A, xp))
    z = xp.lu_solve(kkt_factors, xp.concatenate([-c, b]))
    return z[:n], z[n:], kkt_factors


def eq_qp_tangent(
    kkt_factors: Any, x: Array, lam: Array,
    Q_dot: Array, c_dot: Array, A_dot: Array, b_dot: Array, xp: ArrayOps,
) -> tuple[Array, Array]:
    """JVP: ``[[S, Aᵀ], [A, 0]] [ẋ; λ̇] = [−ċ − Ṡ x − Ȧᵀ λ; ḃ − Ȧ x]``,
    ``Ṡ = (Q̇ + Q̇ᵀ)/2``.

    Differentiating ``K z = r`` gives ``K ż = ṙ − K̇ z``; one solve with the
    factors of ``K``. Returns ``(ẋ, λ̇)``.

    >>> import numpy as np
    >>> Q, A = np.eye(2), np.array([[1.0, 1.0]])
    >>> x, lam, f = eq_qp(Q, np.zeros(2), A, np.array([2.0]), numpy_ops)
    >>> Q_dot, c_dot, A_dot, b_dot = 0 * Q, np.array([1.0, 0.0]), 0 * A, np.zeros(1)
    >>> x_dot, lam_dot = eq_qp_tangent(f, x, lam, Q_dot, c_dot, A_dot, b_dot, numpy_ops)
    >>> x_dot, lam_dot
    (array([-0.5,  0.5]), array([-0.5]))
    """
    n = x.shape[0]
    S_dot_x = (Q_dot @ x + x @ Q_dot) / 2  # Ṡ x without forming Q̇ᵀ
    rhs = xp.concatenate([-c_dot - S_dot_x - lam @ A_dot, b_dot - A_dot @ x])
    z_dot = xp.lu_solve(kkt_factors, rhs)
    return z_dot[:n], z_dot[n:]


def eq_qp_cotangents(
    kkt_factors: Any, x: Array, lam: Array, x_bar: Array, xp: ArrayOps,
    needs: Needs = (True, True, True, True), lam_bar: Array | None = None,
) -> tuple[Array | None, Array | None, Array | None, Array | None]:
    """VJP: ``[[S, Aᵀ], [A, 0]]ᵀ [u; v] = [x̄; λ̄]``, ``Q̄ = −(u xᵀ + x uᵀ)/2``,
    ``c̄ = −u``, ``Ā = −(v xᵀ + λ uᵀ)``, ``b̄ = v``.

    One solve with the transposed KKT matrix (``K`` itself: it is symmetric),
    reusing the factors of the forward pass. ``λ̄`` (``lam_bar``) is zero when
    only ``x`` is used. ``Q̄`` is symmetric because ``Q`` enters through
    ``S = (Q + Qᵀ)/2``. ``needs`` (one flag for each of ``Q``, ``c``, ``A``,
    ``b``) skips what is not needed.

    >>> import numpy as np
    >>> Q, A = np.eye(2), np.array([[1.0, 1.0]])
    >>> x, lam, f = eq_qp(Q, np.zeros(2), A, np.array([2.0]), numpy_ops)
    >>> x_bar = np.array([1.0, 0.0])
    >>> Q_bar, c_bar, A_bar, b_bar = eq_qp_cotangents(f, x, lam, x_bar, numpy_ops)
    >>> c_bar, b_bar
    (array([-0.5,  0.5]), array([0.5]))
    >>> Q_bar + 0.0  # + 0.0 turns -0.0 into 0.0
    array([[-0.5,  0. ],
           [ 0. ,  0.5]])
    """
    n = x.shape[0]
    rhs = xp.concatenate([x_bar, xp.zeros_like(lam) if lam_bar is None else lam_bar])
    w = xp.lu_solve(kkt_factors, rhs, trans=True)
    u, v = w[:n], w[n:]
    Q_bar = None
    if needs[0]:
        u_x = u[:, None] * x[None, :]  # u xᵀ
        Q_bar = -(u_x + u_x.T) / 2
    c_bar = -u if needs[1] else None
    A_bar = -(v[:, None] * x[None, :] + lam[:, None] * u[None, :]) if needs[2] else None
    b_bar = v if needs[3] else None
    return Q_bar, c_bar, A_bar, b_bar


def kkt_singular(lu: Array, xp: ArrayOps) -> Array:
    """Whether the KKT matrix is numerically singular: ``min |U_ii| ≤ (n + m) ε max |U_ii|``.

    ``lu`` is the packed LU factorisation of ``K`` (``U`` on and above the
    diagonal; its diagonal holds the pivots ``U_ii``) and ``ε`` the machine
    epsilon of its dtype. ``K`` is singular when ``A`` lacks full row rank or
    ``S`` is singular on the null space of ``A``. The test is not invariant
    under scaling: a well-posed problem whose ``S`` is much larger than ``A``
    (Schur-complement pivots of order ``‖A‖²/‖S‖``) is flagged too; scaling
    ``A`` and ``b`` by one positive number, which leaves ``x`` unchanged, avoids
    it. Returns a boolean scalar array, not a Python ``bool``, so that it works
    under ``jit`` and ``vmap``.

    >>> import numpy as np
    >>> bool(kkt_singular(np.array([[2.0, 1.0], [0.0, 1e-20]]), numpy_ops))
    True
    """
    pivots = xp.abs(lu.diagonal(0, -2, -1))
    eps = xp.finfo(lu.dtype).eps
    return pivots.min() <= lu.shape[-1] * eps * pivots.max()


def check_eq_qp(Q: Any, c: Any, A: Any, b: Any, array_type: str = "an array") -> None:
    """``Q`` ``(n, n)``, ``c`` ``(n,)``, ``A`` ``(m, n)`` with ``1 ≤ m < n``, ``b`` ``(m,)``; one float32/float64 dtype."""
    op = "eq_qp"
    dtype = _validate.check_arrays(op, array_type, Q=Q, c=c, A=A, b=b)
    _validate.check_lapack_dtype(op, dtype, "Q, c, A and b")
    shape = _validate.shape_of
    if Q.ndim != 2 or Q.shape[0] != Q.shape[1]:
        raise ValueError(f"{op}: Q must be a square matrix of shape (n, n); got shape {shape(Q)}")
    n = Q.shape[0]
    if c.ndim != 1 or c.shape[0] != n:
        raise ValueError(
            f"{op}: c must be a vector of shape (n,) = ({n},) to match Q of shape {shape(Q)}; "
            f"got shape {shape(c)}"
        )
    if A.ndim != 2 or A.shape[1] != n:
        raise ValueError(
            f"{op}: A must be a matrix of shape (m, n) with n = {n} to match Q of shape {shape(Q)}; "
            f"got shape {shape(A)}"
        )
    m = A.shape[0]
    if not 1 <= m < n:
        raise ValueError(
            f"{op}: A must have 1 <= m < n rows (fewer constraints than unknowns); got m = {m} "
            f"rows for n = {n}"
        )
    if b.ndim != 1 or b.shape[0] != m:
        raise ValueError(
            f"{op}: b must be a vector of shape (m,) = ({m},) to match A of shape {shape(A)}; "
            f"got shape {shape(b)}"
        )
