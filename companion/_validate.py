"""Input validation shared by every op (errors speak).

Each check reads only ``.shape``, ``.ndim`` and ``.dtype``, which NumPy arrays,
PyTorch tensors and JAX arrays (also tracers under ``jit``/``vmap``) all have,
and raises :class:`ValueError` (shapes) or :class:`TypeError` (types, dtypes)
naming the operation, the argument, what it got and what was expected. The
checks of one op (``check_<op>``) live with its formulas, in
``companion.ops.<family>.rules``, and are built from these.

>>> import numpy as np
>>> check_arrays("f", "an array", x=np.ones(2, dtype=np.int64))
Traceback (most recent call last):
    ...
TypeError: f: x must have a real floating dtype (float16/32/64, bfloat16); got dtype int64
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = [
    "check_arrays", "check_dtypes", "check_lapack_dtype", "dtype_name", "shape_of",
    "FLOATING", "LAPACK", "COMPLEX", "COMPLEX_OF",
]

FLOATING = frozenset(("float16", "bfloat16", "float32", "float64"))
LAPACK = frozenset(("float32", "float64"))
COMPLEX = frozenset(("complex64", "complex128"))
COMPLEX_OF = {"float32": "complex64", "float64": "complex128"}
"""The complex dtype of the same precision as a real one (float32 with complex64)."""


def dtype_name(a: Any) -> str:
    """The dtype of ``a`` as a plain name: ``torch.float64`` and ``dtype('float64')`` both give ``'float64'``."""
    return str(a.dtype).removeprefix("torch.")


def shape_of(a: Any) -> tuple[int, ...]:
    """The shape of ``a`` as a tuple of ints (``torch.Size`` and tracers' shapes alike)."""
    return tuple(int(n) for n in a.shape)


TORCH_TENSOR = "a torch.Tensor"
"""The ``array_type`` of the PyTorch entry points: only ``torch.Tensor`` (and subclasses) pass."""


def _check_array(op: str, array_type: str, name: str, a: Any) -> None:
    """``a`` has a shape and a dtype, and is a ``torch.Tensor`` where ``array_type`` asks for one.

    >>> import numpy as np
    >>> _check_array("f", TORCH_TENSOR, "x", np.ones(2))
    Traceback (most recent call last):
        ...
    TypeError: f: x must be a torch.Tensor; got ndarray
    """
    if getattr(a, "dtype", None) is None or not hasattr(a, "shape"):
        raise TypeError(f"{op}: {name} must be {array_type}; got {type(a).__name__}")
    if array_type == TORCH_TENSOR:
        torch = sys.modules.get("torch")
        if torch is None or not isinstance(a, torch.Tensor):
            raise TypeError(f"{op}: {name} must be {array_type}; got {type(a).__name__}")


def check_arrays(op: str, array_type: str, **args: Any) -> str:
    """Every argument is an array of a real floating dtype, and all dtypes agree; returns that dtype's name."""
    names = []
    for name, a in args.items():
        _check_array(op, array_type, name, a)
        d = dtype_name(a)
        if d not in FLOATING:
            raise TypeError(
                f"{op}: {name} must have a real floating dtype (float16/32/64, bfloat16); got dtype {d}"
            )
        names.append(d)
    if len(names) > 1 and any(d != names[0] for d in names):
        got = ", ".join(f"{name} is {d}" for name, d in zip(args, names))
        raise TypeError(f"{op}: {' and '.join(args)} must have the same dtype; got {got}")
    return names[0]


def check_dtypes(op: str, array_type: str, allowed: frozenset[str], expected: str, **args: Any) -> list[str]:
    """Every argument is an array whose dtype is in ``allowed`` (``expected`` says which, in
    words, for the error); returns their dtype names. Unlike :func:`check_arrays`, the dtypes
    may differ, and ``allowed`` may hold complex dtypes.

    >>> import numpy as np
    >>> check_dtypes("f", "an array", COMPLEX, "a complex dtype (complex64/complex128)", z=np.ones(2))
    Traceback (most recent call last):
        ...
    TypeError: f: z must have a complex dtype (complex64/complex128); got dtype float64
    """
    names = []
    for name, a in args.items():
        _check_array(op, array_type, name, a)
        d = dtype_name(a)
        if d not in allowed:
            raise TypeError(f"{op}: {name} must have {expected}; got dtype {d}")
        names.append(d)
    return names


def check_lapack_dtype(op: str, dtype: str, names: str) -> None:
    """A factorisation needs float32 or float64 (LAPACK's real types)."""
    if dtype not in LAPACK:
        raise TypeError(
            f"{op}: {names} must have dtype float32 or float64 (an LU factorisation needs them); "
            f"got dtype {dtype}"
        )
