"""The rule formulas, written once.

Every derivative rule of the companion lives here, as a small function of
arrays written against an *array namespace* ``xp``. The same lines run on
NumPy arrays (:data:`numpy_ops`), on sympy expressions (the namespace in
:mod:`companion.symbolic`), on PyTorch tensors (:mod:`companion.torch`) and on
JAX arrays (:mod:`companion.jax`). The framework adapters only wire these
formulas into ``torch.autograd.Function`` and ``jax.custom_jvp``/``custom_vjp``;
the sympy derivations check these very functions against the Jacobian.

Only operators that NumPy, PyTorch, JAX and NumPy object arrays share are used
directly (``*``, ``+``, ``-``, ``@``, ``.T``, indexing with ``None``); the rest
comes from ``xp``:

* ``xp.sin(a)``, ``xp.cos(a)``: elementwise sine and cosine;
* ``xp.sum_to_shape(a, shape)``: sum a broadcast array back to ``shape`` (unbroadcast);
* ``xp.lu_factor(A)``: factorise a square ``A`` once; returns opaque ``lu_factors``;
* ``xp.lu_solve(lu_factors, rhs, trans)``: solve ``A z = rhs`` (``trans=False``)
  or ``Aᵀ z = rhs`` (``trans=True``) with those factors, ``rhs`` of shape
  ``(n,)`` or ``(n, k)``.

Names follow the book: primal inputs ``x, y, A, b``; tangents ``x_dot``;
cotangents ``x_bar``; residuals named for what they are (``cos_x``,
``lu_factors``). A VJP takes ``needs``, one flag per input, and returns
``None`` for every input whose flag is false, doing no work for it.

>>> import numpy as np
>>> x, y = np.array([0.0, np.pi / 2]), np.array([2.0, 3.0])
>>> sin_mul(x, y, numpy_ops)
array([0., 3.])
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence

import numpy as np

__all__ = [
    "ArrayOps",
    "numpy_ops",
    "sin_mul",
    "sin_mul_jvp",
    "sin_mul_vjp",
    "matvec",
    "matvec_jvp",
    "matvec_vjp",
    "solve",
    "solve_jvp",
    "solve_vjp",
    "sin",
    "sin_jvp",
    "sin_vjp",
    "sin_derivative",
    "sin_derivative_jvp",
    "sin_backward",
    "sin_backward_vjp",
    "sin_backward_jvp",
    "sum_to_shape",
]

Array = Any
Needs = Sequence[bool]


class ArrayOps(Protocol):
    """What a rule needs from an array library beyond the shared operators."""

    def sin(self, a: Array) -> Array: ...

    def cos(self, a: Array) -> Array: ...

    def sum_to_shape(self, a: Array, shape: tuple[int, ...]) -> Array: ...

    def lu_factor(self, A: Array) -> Any: ...

    def lu_solve(self, lu_factors: Any, rhs: Array, trans: bool = False) -> Array: ...


# --------------------------------------------------------------------------
# sin_mul(x, y) = y ⊙ sin x, with NumPy broadcasting between x and y
# --------------------------------------------------------------------------


def sin_mul(x: Array, y: Array, xp: ArrayOps) -> Array:
    """Primal: ``y ⊙ sin x`` (broadcasting).

    >>> sin_mul(np.zeros(2), np.ones((3, 1)), numpy_ops).shape
    (3, 2)
    """
    return y * xp.sin(x)


def sin_mul_jvp(x: Array, y: Array, x_dot: Array, y_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``out_dot = y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``.

    >>> sin_mul_jvp(np.zeros(2), np.full(2, 3.0), np.ones(2), np.ones(2), numpy_ops)
    array([3., 3.])
    """
    return y * xp.cos(x) * x_dot + xp.sin(x) * y_dot


def sin_mul_vjp(
    x: Array, y: Array, out_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``x̄ = Σ(ō ⊙ y ⊙ cos x)``, ``ȳ = Σ(ō ⊙ sin x)``, each summed to its input's shape.

    >>> x_bar, y_bar = sin_mul_vjp(np.zeros(2), np.ones((3, 1)), np.ones((3, 2)), numpy_ops)
    >>> x_bar, y_bar.shape
    (array([3., 3.]), (3, 1))
    >>> sin_mul_vjp(np.zeros(2), np.ones(2), np.ones(2), numpy_ops, needs=(False, True))[0] is None
    True
    """
    x_bar = xp.sum_to_shape(out_bar * y * xp.cos(x), x.shape) if needs[0] else None
    y_bar = xp.sum_to_shape(out_bar * xp.sin(x), y.shape) if needs[1] else None
    return x_bar, y_bar


# --------------------------------------------------------------------------
# matvec(A, x) = A x
# --------------------------------------------------------------------------


def matvec(A: Array, x: Array, xp: ArrayOps) -> Array:
    """Primal: ``y = A x``.

    >>> matvec(np.eye(2), np.array([1.0, 2.0]), numpy_ops)
    array([1., 2.])
    """
    return A @ x


def matvec_jvp(A: Array, x: Array, A_dot: Array, x_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``ẏ = Ȧ x + A ẋ``.

    >>> matvec_jvp(np.eye(2), np.ones(2), np.ones((2, 2)), np.ones(2), numpy_ops)
    array([3., 3.])
    """
    return A_dot @ x + A @ x_dot


def matvec_vjp(
    A: Array, x: Array, y_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``.

    >>> A_bar, x_bar = matvec_vjp(np.eye(2), np.array([1.0, 2.0]), np.array([1.0, 0.0]), numpy_ops)
    >>> A_bar
    array([[1., 2.],
           [0., 0.]])
    >>> x_bar
    array([1., 0.])
    """
    A_bar = y_bar[:, None] * x[None, :] if needs[0] else None
    x_bar = y_bar @ A if needs[1] else None  # = Aᵀ ȳ, without a transposed copy of A
    return A_bar, x_bar


# --------------------------------------------------------------------------
# solve(A, b) = A⁻¹ b, one LU factorisation shared by primal, JVP and VJP
# --------------------------------------------------------------------------


def solve(A: Array, b: Array, xp: ArrayOps) -> tuple[Array, Any]:
    """Primal: factorise ``A = P L U`` once, ``x = A⁻¹ b``; returns ``(x, lu_factors)``.

    >>> x, lu_factors = solve(2 * np.eye(2), np.ones(2), numpy_ops)
    >>> x
    array([0.5, 0.5])
    """
    lu_factors = xp.lu_factor(A)
    x = xp.lu_solve(lu_factors, b)
    return x, lu_factors


def solve_jvp(lu_factors: Any, x: Array, A_dot: Array, b_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``ẋ = A⁻¹ (ḃ − Ȧ x)``, reusing the factors of ``A``.

    >>> x, lu_factors = solve(2 * np.eye(2), np.ones(2), numpy_ops)
    >>> solve_jvp(lu_factors, x, np.eye(2), np.zeros(2), numpy_ops)
    array([-0.25, -0.25])
    """
    return xp.lu_solve(lu_factors, b_dot - A_dot @ x)


def solve_vjp(
    lu_factors: Any, x: Array, x_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ``, reusing the factors of ``A``.

    >>> x, lu_factors = solve(2 * np.eye(2), np.ones(2), numpy_ops)
    >>> A_bar, b_bar = solve_vjp(lu_factors, x, np.array([1.0, 0.0]), numpy_ops)
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


# --------------------------------------------------------------------------
# sin(x), whose derivative is itself a rule
# --------------------------------------------------------------------------


def sin(x: Array, xp: ArrayOps) -> Array:
    """Primal: ``y = sin x``.

    >>> sin(np.zeros(2), numpy_ops)
    array([0., 0.])
    """
    return xp.sin(x)


def sin_derivative(x: Array, xp: ArrayOps) -> Array:
    """The residual of ``sin``'s rules: ``cos_x = cos x``, the diagonal of its Jacobian.

    >>> sin_derivative(np.zeros(2), numpy_ops)
    array([1., 1.])
    """
    return xp.cos(x)


def sin_jvp(cos_x: Array, x_dot: Array) -> Array:
    """JVP: ``ẏ = cos x ⊙ ẋ``.

    >>> sin_jvp(np.array([1.0, 0.5]), np.array([2.0, 2.0]))
    array([2., 1.])
    """
    return cos_x * x_dot


def sin_vjp(cos_x: Array, y_bar: Array) -> Array:
    """VJP: ``x̄ = cos x ⊙ ȳ`` (the Jacobian is diagonal, so VJP and JVP coincide).

    >>> sin_vjp(np.array([1.0, 0.5]), np.array([2.0, 2.0]))
    array([2., 1.])
    """
    return cos_x * y_bar


def sin_derivative_jvp(x: Array, x_dot: Array, xp: ArrayOps) -> Array:
    """Second-derivative rule, forward form: the JVP of ``x ↦ cos x`` is ``−sin x ⊙ ẋ``.

    >>> sin_derivative_jvp(np.array([np.pi / 2]), np.array([2.0]), numpy_ops)
    array([-2.])
    """
    return -xp.sin(x) * x_dot


def sin_backward(x: Array, g: Array, xp: ArrayOps) -> Array:
    """The derivative map of ``sin`` as a function of both arguments: ``(x, g) ↦ g ⊙ cos x``.

    >>> sin_backward(np.zeros(2), np.array([1.0, 2.0]), numpy_ops)
    array([1., 2.])
    """
    return sin_vjp(sin_derivative(x, xp), g)


def sin_backward_vjp(
    x: Array, g: Array, out_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """Second-derivative rule, reverse form: the VJP of ``(x, g) ↦ g ⊙ cos x`` is
    ``x̄ = −ō ⊙ g ⊙ sin x``, ``ḡ = ō ⊙ cos x``.

    >>> sin_backward_vjp(np.array([np.pi / 2]), np.array([3.0]), np.array([1.0]), numpy_ops)[0]
    array([-3.])
    """
    x_bar = -out_bar * g * xp.sin(x) if needs[0] else None
    g_bar = out_bar * xp.cos(x) if needs[1] else None
    return x_bar, g_bar


def sin_backward_jvp(x: Array, g: Array, x_dot: Array, g_dot: Array, xp: ArrayOps) -> Array:
    """The JVP of ``(x, g) ↦ g ⊙ cos x``: ``−g ⊙ sin x ⊙ ẋ + cos x ⊙ ġ``.

    >>> sin_backward_jvp(np.array([np.pi / 2]), np.array([3.0]), np.array([1.0]), np.array([1.0]), numpy_ops).round(12)
    array([-3.])
    """
    return -g * xp.sin(x) * x_dot + xp.cos(x) * g_dot


# --------------------------------------------------------------------------
# The NumPy namespace (float64 reference arithmetic; also used by the checker)
# --------------------------------------------------------------------------


class _NumpyOps:
    """:class:`ArrayOps` for NumPy arrays.

    NumPy exposes no LU factorisation, so ``lu_factor`` keeps ``A`` itself and
    each ``lu_solve`` calls ``numpy.linalg.solve``: fine for the reference
    arithmetic of small checks, not for speed.
    """

    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)

    @staticmethod
    def sum_to_shape(a: Array, shape: tuple[int, ...]) -> Array:
        return sum_to_shape(np.asarray(a), shape)

    @staticmethod
    def lu_factor(A: Array) -> Any:
        return np.asarray(A)  # NumPy has no public LU: keep A and let LAPACK factorise per solve

    @staticmethod
    def lu_solve(lu_factors: Any, rhs: Array, trans: bool = False) -> Array:
        A = lu_factors.T if trans else lu_factors
        return np.linalg.solve(A, rhs)


def sum_to_shape(a: Any, shape: tuple[int, ...]) -> Any:
    """Sum an array ``a`` that was broadcast from ``shape`` back to ``shape`` (unbroadcast).

    Written with ``a.sum(axis=..., keepdims=True)`` and ``a.reshape``, which
    NumPy (also object arrays of sympy expressions), PyTorch and JAX share.

    >>> sum_to_shape(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> sum_to_shape(np.ones((2, 3)), (2, 1))
    array([[3.],
           [3.]])
    """
    shape = tuple(shape)
    lead = a.ndim - len(shape)
    if lead > 0:
        a = a.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and a.shape[i] != 1)
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    return a.reshape(shape)


numpy_ops: ArrayOps = _NumpyOps()
"""The :class:`ArrayOps` namespace for NumPy float arrays."""
