"""External rules: the Bessel function ``J_n``, evaluated by SciPy, outside the frameworks.

The frameworks cannot see inside :func:`bessel_jn_numpy`: it hands a NumPy
array to ``scipy.special.jv`` and gets a NumPy array back. What they need
from us is the derivative, and for Bessel functions it is a Bessel function
again (the recurrence DLMF 10.6.1):

    ∂J_n(x)/∂x = (J_{n−1}(x) − J_{n+1}(x)) / 2,   so   ∂J_0(x)/∂x = −J_1(x)

(``J_{−1} = −J_1``). The rules below take the two neighbouring Bessel values
as arguments (``j_prev`` = ``J_{n−1}(x)``, ``j_next`` = ``J_{n+1}(x)``), so
the adapters evaluate them with the same external call, and every derivative
of any order is external too.

>>> import numpy as np
>>> x = np.array([0.0, 1.0])
>>> bessel_jn_numpy(x, 0).round(6)
array([1.      , 0.765198])
>>> bessel_jn_tangent(bessel_jn_numpy(x, -1), bessel_jn_numpy(x, 1), np.ones(2)).round(6)
array([-0.      , -0.440051])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion import _validate
from companion._extras import require

__all__ = [
    "bessel_jn_numpy",
    "bessel_jn_derivative",
    "bessel_jn_tangent",
    "bessel_jn_cotangent",
    "check_bessel_j0",
]

Array = Any


def bessel_jn_numpy(x: np.ndarray, n: int) -> np.ndarray:
    """The external code: ``y = J_n(x)`` by ``scipy.special.jv``, NumPy in, NumPy out, in ``x``'s dtype.

    >>> bessel_jn_numpy(np.array([2.0], dtype=np.float32), 1).dtype
    dtype('float32')
    """
    require("scipy", "companion's bessel_j0 (SciPy evaluates it)")
    import scipy.special

    x = np.asarray(x)
    return np.asarray(scipy.special.jv(n, x)).astype(x.dtype, copy=False)


def bessel_jn_derivative(j_prev: Array, j_next: Array) -> Array:
    """``∂J_n(x)/∂x = (J_{n−1}(x) − J_{n+1}(x)) / 2``, from the neighbouring orders.

    >>> bessel_jn_derivative(np.array([-0.5]), np.array([0.5]))  # n = 0: −J_1
    array([-0.5])
    """
    return (j_prev - j_next) / 2


def bessel_jn_tangent(j_prev: Array, j_next: Array, x_dot: Array) -> Array:
    """JVP: ``ẏ = (J_{n−1}(x) − J_{n+1}(x)) / 2 ⊙ ẋ`` (the Jacobian is diagonal).

    >>> bessel_jn_tangent(np.array([1.0]), np.array([0.0]), np.array([4.0]))
    array([2.])
    """
    return bessel_jn_derivative(j_prev, j_next) * x_dot


def bessel_jn_cotangent(j_prev: Array, j_next: Array, y_bar: Array) -> Array:
    """VJP: ``x̄ = (J_{n−1}(x) − J_{n+1}(x)) / 2 ⊙ ȳ`` (diagonal Jacobian: the same
    product).

    >>> bessel_jn_cotangent(np.array([1.0]), np.array([0.0]), np.array([4.0]))
    array([2.])
    """
    return bessel_jn_derivative(j_prev, j_next) * y_bar


def check_bessel_j0(x: Any, array_type: str = "an array") -> None:
    """``x``: a float32 or float64 array of any shape (the dtypes NumPy and SciPy compute in)."""
    dtype = _validate.check_arrays("bessel_j0", array_type, x=x)
    if dtype not in ("float32", "float64"):
        raise TypeError(
            "bessel_j0: x must have dtype float32 or float64 (SciPy evaluates it on a NumPy "
            f"copy); got dtype {dtype}"
        )
