"""Array namespaces: the one argument that lets a rule run on NumPy, SymPy, PyTorch and JAX.

Every rule formula of the companion (``companion.ops.<family>.rules``) is a
small function of arrays and a namespace ``xp``. The same lines run on NumPy
arrays (:data:`numpy_ops`), on NumPy object arrays of SymPy expressions
(:data:`companion.symbolic.sympy_ops`), on PyTorch tensors
(:data:`companion.torch.torch_ops`) and on JAX arrays
(:data:`companion.jax.jax_ops`).

A rule uses the operators that all four share (``*``, ``+``, ``-``, ``@``,
``.T``, ``.sum``, indexing with ``None``) directly, and takes everything else
from ``xp``. A namespace answers any function name its library has
(``xp.exp`` is ``numpy.exp``, ``torch.exp``, ``jax.numpy.exp`` or SymPy's
``exp`` applied entrywise), so a new rule needs no new namespace code unless
the libraries disagree. The few that do are spelled out in :class:`ArrayOps`:

* ``xp.sum_to_shape(a, shape)``: sum a broadcast array back to ``shape`` (unbroadcast);
* ``xp.lu_factor(A)``: factorise a square ``A`` once; returns opaque ``lu_factors``;
* ``xp.lu_solve(lu_factors, rhs, trans)``: solve ``A z = rhs`` (``trans=False``)
  or ``Aᵀ z = rhs`` (``trans=True``) with those factors, ``rhs`` of shape
  ``(n,)`` or ``(n, k)``.
* ``xp.lu_logabsdet(lu_factors)``: ``log |det A|`` from those factors
  (``Σ log |U_ii|``);
* ``xp.eye_like(A)``: the identity matrix of ``A``'s size and dtype (and, in
  PyTorch, device).
* ``xp.solve_triangular(T, rhs, lower, trans)``: solve ``T z = rhs`` (or
  ``Tᵀ z = rhs`` with ``trans=True``) for a lower (``lower=True``) or upper
  triangular ``T``, ``rhs`` of shape ``(n,)`` or ``(n, k)``.

>>> import numpy as np
>>> numpy_ops.sin(np.zeros(2))
array([0., 0.])
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

__all__ = ["ArrayOps", "Namespace", "numpy_ops", "sum_to_shape"]

Array = Any


class ArrayOps(Protocol):
    """What a rule needs from an array library beyond the shared operators.

    Any other attribute (``sin``, ``cos``, ``exp``, ...) is the library's
    function of that name, applied entrywise.
    """

    def sum_to_shape(self, a: Array, shape: tuple[int, ...]) -> Array: ...

    def lu_factor(self, A: Array) -> Any: ...

    def lu_solve(self, lu_factors: Any, rhs: Array, trans: bool = False) -> Array: ...

    def lu_logabsdet(self, lu_factors: Any) -> Array: ...

    def eye_like(self, A: Array) -> Array: ...

    def solve_triangular(self, T: Array, rhs: Array, lower: bool, trans: bool = False) -> Array: ...

    def __getattr__(self, name: str) -> Any: ...


class Namespace:
    """Base of the namespaces: unknown attributes come from ``library``.

    Subclasses set ``library`` and define the functions whose meaning differs
    between libraries. The lookup changes nothing (no caching on the class), so
    ``torch.compile`` can trace through it without a graph break.
    """

    library: Any = np

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return getattr(self.library, name)
        except AttributeError:
            raise AttributeError(
                f"{type(self).__name__}: the array namespace has no function {name!r} "
                f"(nor does {getattr(self.library, '__name__', self.library)!r})"
            ) from None

    @staticmethod
    def sum_to_shape(a: Array, shape: tuple[int, ...]) -> Array:
        return sum_to_shape(a, shape)

    @staticmethod
    def eye_like(A: Array) -> Array:
        """The ``n × n`` identity for an ``A`` whose last axis has length ``n``, in ``A``'s dtype."""
        return np.eye(A.shape[-1], dtype=A.dtype)


def sum_to_shape(a: Any, shape: tuple[int, ...]) -> Any:
    """Sum an array ``a`` that was broadcast from ``shape`` back to ``shape``
    (unbroadcast).

    Written with ``a.sum(axis=..., keepdims=True)`` and ``a.reshape``, which
    NumPy (also object arrays of sympy expressions), PyTorch and JAX share.

    >>> sum_to_shape(np.ones((2, 3)), (3,))
    array([2., 2., 2.])
    >>> sum_to_shape(np.ones((2, 3)), (2, 1))
    array([[3.],
           [3.]])
    """
    shape = tuple(shape)
    if tuple(a.shape) == shape:
        return a
    lead = a.ndim - len(shape)
    if lead > 0:
        a = a.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and a.shape[i] != 1)
    if axes:
        a = a.sum(axis=axes, keepdims=True)
    return a.reshape(shape)


class NumpyOps(Namespace):
    """:class:`ArrayOps` for NumPy float arrays (float64 reference arithmetic; used by the checker).

    NumPy exposes no LU factorisation, so ``lu_factor`` keeps ``A`` itself and
    **each** ``lu_solve`` calls ``numpy.linalg.solve``, which factorises again:
    fine for the reference arithmetic of small checks, not for speed. The
    PyTorch and JAX namespaces factorise once and reuse the factors.
    """

    library = np

    @staticmethod
    def sum_to_shape(a: Array, shape: tuple[int, ...]) -> Array:
        return sum_to_shape(np.asarray(a), shape)

    @staticmethod
    def lu_factor(A: Array) -> Any:
        return np.asarray(
            A
        )  # NumPy has no public LU: keep A and let LAPACK factorise per solve

    @staticmethod
    def lu_solve(lu_factors: Any, rhs: Array, trans: bool = False) -> Array:
        A = lu_factors.T if trans else lu_factors
        return np.linalg.solve(A, rhs)

    @staticmethod
    def lu_logabsdet(lu_factors: Any) -> Array:
        return np.linalg.slogdet(lu_factors)[1]  # no LU kept: LAPACK factorises A again

    @staticmethod
    def solve_triangular(
        T: Array, rhs: Array, lower: bool, trans: bool = False
    ) -> Array:
        """``T⁻¹ rhs`` (``T⁻ᵀ rhs`` with ``trans``) by ``numpy.linalg.solve``: NumPy has no
        triangular solver, so this ignores ``lower`` and factorises ``T`` (reference arithmetic).

        >>> numpy_ops.solve_triangular(
        ...     np.array([[2.0, 0.0], [1.0, 1.0]]), np.array([2.0, 2.0]), lower=True
        ... )
        array([1., 1.])
        """
        return np.linalg.solve(T.T if trans else T, rhs)


numpy_ops: ArrayOps = NumpyOps()
"""The :class:`ArrayOps` namespace for NumPy float arrays."""
