"""The array namespace for NumPy object arrays of SymPy expressions (symbolic derivations).

Functions apply entrywise (``xp.sin(a)`` is SymPy's ``sin`` on every entry),
``*`` is elementwise and ``@`` the matrix product, and broadcasting is
NumPy's, exactly as in the frameworks. ``lu_factor`` keeps ``A`` as a
:class:`sympy.Matrix` and ``lu_solve`` calls :meth:`sympy.Matrix.LUsolve` on
it (or on its transpose): a symbolic LU.

>>> import numpy as np, sympy
>>> x = np.array([sympy.Symbol("a"), sympy.Integer(0)], dtype=object)
>>> sympy_ops.cos(x)
array([cos(a), 1], dtype=object)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from companion.xp import Namespace

__all__ = ["sympy_ops", "SympyOps"]

SymArray = np.ndarray  # NumPy arrays of dtype object holding sympy expressions

_SYMPY_NAMES = {
    "abs": "Abs", "conj": "conjugate", "real": "re", "imag": "im", "arctan2": "atan2",
    "maximum": "Max", "minimum": "Min",
}
"""Functions whose SymPy name differs from the NumPy/PyTorch/JAX one."""


def _array(m: Any) -> SymArray:
    return np.array(sympy.Matrix(m).tolist(), dtype=object)


class SympyOps(Namespace):
    """:class:`companion.xp.ArrayOps` for NumPy object arrays of SymPy expressions."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            fn = getattr(sympy, _SYMPY_NAMES.get(name, name))
        except AttributeError:
            raise AttributeError(f"SympyOps: SymPy has no entrywise function {name!r}") from None
        vectorised = np.vectorize(fn, otypes=[object])
        setattr(type(self), name, staticmethod(vectorised))
        return vectorised

    @staticmethod
    def log1p(a: SymArray) -> SymArray:
        """``log(1 + a)`` entrywise: SymPy has no ``log1p`` (exact arithmetic needs none).

        >>> sympy_ops.log1p(np.array([sympy.Symbol("a")], dtype=object))
        array([log(a + 1)], dtype=object)
        """
        return np.vectorize(lambda e: sympy.log(1 + e), otypes=[object])(a)

    @staticmethod
    def zeros_like(a: SymArray) -> SymArray:
        """SymPy zeros in an object array shaped like ``a``."""
        return np.full(np.shape(a), sympy.Integer(0), dtype=object)

    @staticmethod
    def amax(a: SymArray, axis: int = -1, keepdims: bool = False) -> SymArray:
        """The maximum along one ``axis`` as SymPy's ``Max`` (NumPy's ``max`` cannot compare symbols).

        >>> a, b = sympy.symbols("a b", real=True)
        >>> sympy_ops.amax(np.array([[a, b]], dtype=object), axis=-1, keepdims=True)
        array([[Max(a, b)]], dtype=object)
        """
        return np.frompyfunc(sympy.Max, 2, 1).reduce(a, axis=axis, keepdims=keepdims)

    @staticmethod
    def isfinite(a: SymArray) -> SymArray:
        """Whether each entry is finite, as SymPy booleans (real symbols are finite, ``-oo`` is not).

        An entry SymPy cannot decide raises ``TypeError`` rather than guess.

        >>> sympy_ops.isfinite(np.array([sympy.Symbol("a", real=True), -sympy.oo], dtype=object))
        array([True, False], dtype=object)
        """

        def finite(e: Any) -> Any:
            known = sympy.sympify(e).is_finite
            if known is None:
                raise TypeError(f"SympyOps.isfinite: cannot decide whether {e} is finite")
            return sympy.true if known else sympy.false

        return np.vectorize(finite, otypes=[object])(a)

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> SymArray:
        """``a`` where ``condition`` holds, else ``b``, entrywise with broadcasting.

        A condition SymPy decides picks its branch; an undecided one gives
        ``Piecewise((a, condition), (b, True))``.

        >>> x = sympy.Symbol("x", real=True)
        >>> sympy_ops.where(np.array([sympy.true, x > 0], dtype=object), np.array([1, x], dtype=object), 0)
        array([1, Piecewise((x, x > 0), (0, True))], dtype=object)
        """

        def pick(c: Any, p: Any, q: Any) -> Any:
            c = sympy.sympify(c)
            if c is sympy.true:
                return p
            if c is sympy.false:
                return q
            return sympy.Piecewise((p, c), (q, True))

        return np.vectorize(pick, otypes=[object])(condition, a, b)

    @staticmethod
    def concatenate(arrays: Any, axis: int = 0) -> SymArray:
        """Join object arrays along ``axis``, as ``numpy.concatenate`` (SymPy has no such function).

        >>> a, b = sympy.symbols("a b")
        >>> sympy_ops.concatenate([np.array([a], dtype=object), np.array([b], dtype=object)])
        array([a, b], dtype=object)
        """
        return np.concatenate(arrays, axis=axis)

    @staticmethod
    def stack(arrays: Any, axis: int = 0) -> SymArray:
        """NumPy's ``stack`` on object arrays (SymPy has no arrays to stack).

        >>> sympy_ops.stack([np.array(sympy.Symbol("a"), dtype=object), np.array(1, dtype=object)])
        array([a, 1], dtype=object)
        """
        return np.stack([np.asarray(a, dtype=object) for a in arrays], axis=axis)

    @staticmethod
    def moveaxis(a: SymArray, source: Any, destination: Any) -> SymArray:
        """NumPy's ``moveaxis`` on object arrays (axes reordered, entries untouched).

        >>> sympy_ops.moveaxis(np.empty((2, 3, 4), dtype=object), (0, 1), (1, 2)).shape
        (4, 2, 3)
        """
        return np.moveaxis(a, source, destination)

    @staticmethod
    def lu_factor(A: SymArray) -> sympy.Matrix:
        return sympy.Matrix(A)

    @staticmethod
    def lu_logabsdet(lu_factors: sympy.Matrix) -> sympy.Expr:
        """``log |det A|`` as ``log((det A)²) / 2``: equal for a real ``A``, and SymPy differentiates
        it to ``(det A)' / det A``, whereas ``log(Abs(det A))`` gives ``sign(det A)/Abs(det A)``
        factors that it cannot simplify.

        >>> a = sympy.Symbol("a", real=True)
        >>> sympy_ops.lu_logabsdet(sympy.Matrix([[a]]))
        log(a**2)/2
        """
        return sympy.log(lu_factors.det() ** 2) / 2

    @staticmethod
    def lu_solve(lu_factors: sympy.Matrix, rhs: SymArray, trans: bool = False) -> SymArray:
        M = lu_factors.T if trans else lu_factors
        z = M.LUsolve(sympy.Matrix(rhs.reshape(rhs.shape[0], -1)))
        return _array(z).reshape(rhs.shape)

    @staticmethod
    def solve_triangular(T: SymArray, rhs: SymArray, lower: bool, trans: bool = False) -> SymArray:
        """``T⁻¹ rhs`` (``T⁻ᵀ rhs`` with ``trans``) by forward or back substitution.

        >>> a, b, c = sympy.symbols("a b c", real=True)
        >>> sympy_ops.solve_triangular(np.array([[a, 0], [b, c]], dtype=object), np.array([a, b], dtype=object), lower=True)
        array([1, 0], dtype=object)
        """
        M = sympy.Matrix(T).T if trans else sympy.Matrix(T)
        r = sympy.Matrix(rhs.reshape(rhs.shape[0], -1))
        z = M.lower_triangular_solve(r) if lower != trans else M.upper_triangular_solve(r)
        return _array(z.applyfunc(sympy.cancel)).reshape(rhs.shape)

    @staticmethod
    def tril(a: SymArray, k: int = 0) -> SymArray:
        """The lower triangle of ``a`` (entries above diagonal ``k`` set to 0), as ``numpy.tril``.

        >>> a, b, c, d = sympy.symbols("a b c d")
        >>> sympy_ops.tril(np.array([[a, b], [c, d]], dtype=object), -1)
        array([[0, 0],
               [c, 0]], dtype=object)
        """
        return np.where(np.tri(*np.shape(a)[-2:], k, dtype=bool), a, sympy.Integer(0))


sympy_ops = SympyOps()
"""The :class:`companion.xp.ArrayOps` namespace for SymPy (object arrays)."""
