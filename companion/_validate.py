"""Input validation shared by the PyTorch and JAX adapters (errors speak).

Each check reads only ``.shape``, ``.ndim`` and ``.dtype``, which NumPy arrays,
PyTorch tensors and JAX arrays (also tracers under ``jit``/``vmap``) all have,
and raises :class:`ValueError` (shapes) or :class:`TypeError` (types, dtypes)
naming the operation, the argument, what it got and what was expected.

>>> import numpy as np
>>> check_solve(np.ones((3, 2)), np.ones(3))
Traceback (most recent call last):
    ...
ValueError: solve: A must be a square matrix of shape (n, n); got shape (3, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_sin_mul", "check_matvec", "check_solve", "check_sin", "dtype_name"]

_FLOATING = ("float16", "bfloat16", "float32", "float64")
_LAPACK = ("float32", "float64")


def dtype_name(a: Any) -> str:
    """The dtype of ``a`` as a plain name: ``torch.float64`` and ``dtype('float64')`` both give ``'float64'``."""
    return str(a.dtype).removeprefix("torch.")


def _shape(a: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in a.shape)


def _check_arrays(op: str, array_type: str, **args: Any) -> None:
    """Every argument is an array of a real floating dtype, and all dtypes agree."""
    for name, a in args.items():
        if not (hasattr(a, "shape") and hasattr(a, "dtype")):
            raise TypeError(f"{op}: {name} must be {array_type}; got {type(a).__name__}")
        if dtype_name(a) not in _FLOATING:
            raise TypeError(
                f"{op}: {name} must have a real floating dtype (float16/32/64, bfloat16); "
                f"got dtype {dtype_name(a)}"
            )
    dtypes = {name: dtype_name(a) for name, a in args.items()}
    if len(set(dtypes.values())) > 1:
        got = ", ".join(f"{name} is {d}" for name, d in dtypes.items())
        raise TypeError(f"{op}: {' and '.join(args)} must have the same dtype; got {got}")


def check_sin_mul(x: Any, y: Any, array_type: str = "an array") -> None:
    """``x`` and ``y``: floating arrays of one dtype whose shapes broadcast together."""
    _check_arrays("sin_mul", array_type, x=x, y=y)
    try:
        np.broadcast_shapes(_shape(x), _shape(y))
    except ValueError:
        raise ValueError(
            "sin_mul: x and y must have shapes that broadcast together; "
            f"got shapes {_shape(x)} and {_shape(y)}"
        ) from None


def check_matvec(A: Any, x: Any, array_type: str = "an array") -> None:
    """``A`` of shape ``(m, n)`` and ``x`` of shape ``(n,)``, one floating dtype."""
    _check_arrays("matvec", array_type, A=A, x=x)
    if A.ndim != 2:
        raise ValueError(f"matvec: A must be a matrix of shape (m, n); got shape {_shape(A)}")
    if A.ndim == 2 and _shape(x) != (A.shape[1],):
        raise ValueError(
            f"matvec: x must be a vector of shape (n,) = ({A.shape[1]},) to match A of shape "
            f"{_shape(A)}; got shape {_shape(x)}"
        )


def check_solve(A: Any, b: Any, array_type: str = "an array") -> None:
    """``A`` square ``(n, n)``; ``b`` of shape ``(n,)`` or ``(n, k)``; one floating dtype."""
    _check_arrays("solve", array_type, A=A, b=b)
    if dtype_name(A) not in _LAPACK:
        raise TypeError(
            f"solve: A and b must have dtype float32 or float64 (an LU factorisation needs them); "
            f"got dtype {dtype_name(A)}"
        )
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"solve: A must be a square matrix of shape (n, n); got shape {_shape(A)}")
    n = A.shape[0]
    if b.ndim not in (1, 2) or b.shape[0] != n:
        raise ValueError(
            f"solve: b must have shape (n,) or (n, k) with n = {n} to match A of shape "
            f"{_shape(A)}; got shape {_shape(b)}"
        )


def check_sin(x: Any, array_type: str = "an array") -> None:
    """``x``: a floating array of any shape."""
    _check_arrays("sin", array_type, x=x)
