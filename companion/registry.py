"""The registry of ops: the one list that tests, ``python -m companion verify``,
the benchmarks and the book's catalogue iterate over.

Each :class:`Op` names the op (the same name in :mod:`companion.torch`,
:mod:`companion.jax` and :mod:`companion.symbolic`), gives a reference
implementation written independently of the rules with the *built-in*
functions that NumPy, PyTorch and ``jax.numpy`` share (``reference(xp, *args)``
with ``xp`` one of ``numpy``, ``torch``, ``jax.numpy``), example inputs drawn
from a seeded generator, and inputs that must be rejected. Adding an op means one
entry in :mod:`companion.rules` (its formulas), the adapters, and one
:class:`Op` here.

>>> [op.name for op in OPS]
['sin_mul', 'matvec', 'solve', 'sin']
>>> args = OPS_BY_NAME["matvec"].example()
>>> [a.shape for a in args]
[(4, 3), (3,)]
>>> OPS_BY_NAME["solve"].reference(np, np.eye(2), np.ones(2))
array([1., 1.])
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from companion.symbolic import Derivation

__all__ = ["Op", "BadInput", "OPS", "OPS_BY_NAME"]

Args = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class BadInput:
    """Arguments the op must reject with ``error`` whose message matches ``match`` (a regex)."""

    why: str
    args: Args
    error: type[Exception]
    match: str


@dataclass(frozen=True)
class Op:
    """One op of the companion, as the tests and the book see it."""

    name: str
    arg_names: tuple[str, ...]
    formula: str
    reference: Callable[..., Any]
    """``reference(xp, *args)``: the op built from ``xp``'s own functions (``xp`` = numpy, torch or jax.numpy)."""
    cases: dict[str, Callable[[np.random.Generator], Args]]
    bad_inputs: tuple[BadInput, ...] = field(default=())

    def example(self, case: str | None = None, seed: int = 0) -> Args:
        """Float64 example arguments for ``case`` (default: the first case), from ``seed``."""
        make = self.cases[case] if case is not None else next(iter(self.cases.values()))
        return make(np.random.default_rng(seed))

    def derivation(self) -> Derivation:
        """The sympy derivation of this op's rules (:func:`companion.symbolic.derive`)."""
        from companion.symbolic import derive

        return derive(self.name)

    def torch(self) -> Callable[..., Any]:
        """The PyTorch function ``companion.torch.<name>`` (imports torch)."""
        return getattr(importlib.import_module("companion.torch"), self.name)

    def jax(self, *, vjp: bool = False) -> Callable[..., Any]:
        """``companion.jax.<name>`` (custom_jvp), or ``<name>_vjp`` (custom_vjp) with ``vjp=True``."""
        return getattr(importlib.import_module("companion.jax"), self.name + ("_vjp" if vjp else ""))


def _well_conditioned(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random ``n × n`` matrix with a dominant diagonal (condition number of order 1)."""
    return rng.standard_normal((n, n)) + n * np.eye(n)


_ints = np.arange(6).reshape(2, 3)


OPS: tuple[Op, ...] = (
    Op(
        name="sin_mul",
        arg_names=("x", "y"),
        formula="y ⊙ sin x (broadcasting)",
        reference=lambda xp, x, y: y * xp.sin(x),
        cases={
            "same_shape": lambda rng: (rng.standard_normal((3, 4)), rng.standard_normal((3, 4))),
            "broadcast": lambda rng: (rng.standard_normal((3, 1)), rng.standard_normal((4,))),
        },
        bad_inputs=(
            BadInput("shapes do not broadcast", (np.ones(3), np.ones(4)), ValueError,
                     r"sin_mul: x and y must have shapes that broadcast together; got shapes \(3,\) and \(4,\)"),
            BadInput("integer x", (_ints, np.ones(3)), TypeError,
                     r"sin_mul: x must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (np.ones(3, np.float32), np.ones(3)), TypeError,
                     r"sin_mul: x and y must have the same dtype; got x is float32, y is float64"),
        ),
    ),
    Op(
        name="matvec",
        arg_names=("A", "x"),
        formula="A x",
        reference=lambda xp, A, x: A @ x,
        cases={"4x3": lambda rng: (rng.standard_normal((4, 3)), rng.standard_normal(3))},
        bad_inputs=(
            BadInput("A is a vector", (np.ones(3), np.ones(3)), ValueError,
                     r"matvec: A must be a matrix of shape \(m, n\); got shape \(3,\)"),
            BadInput("x does not match A", (np.ones((4, 3)), np.ones(4)), ValueError,
                     r"matvec: x must be a vector of shape \(n,\) = \(3,\) .*; got shape \(4,\)"),
            BadInput("x is a matrix", (np.ones((4, 3)), np.ones((3, 1))), ValueError,
                     r"matvec: x must be a vector .*; got shape \(3, 1\)"),
            BadInput("integer A", (_ints, np.ones(3)), TypeError,
                     r"matvec: A must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (np.ones((2, 3)), np.ones(3, np.float32)), TypeError,
                     r"matvec: A and x must have the same dtype; got A is float64, x is float32"),
        ),
    ),
    Op(
        name="solve",
        arg_names=("A", "b"),
        formula="A⁻¹ b (one LU factorisation of A)",
        reference=lambda xp, A, b: xp.linalg.solve(A, b),
        cases={
            "vector_b": lambda rng: (_well_conditioned(rng, 4), rng.standard_normal(4)),
            "matrix_b": lambda rng: (_well_conditioned(rng, 4), rng.standard_normal((4, 2))),
        },
        bad_inputs=(
            BadInput("A not square", (np.ones((3, 2)), np.ones(3)), ValueError,
                     r"solve: A must be a square matrix of shape \(n, n\); got shape \(3, 2\)"),
            BadInput("b does not match A", (np.eye(3), np.ones(2)), ValueError,
                     r"solve: b must have shape \(n,\) or \(n, k\) with n = 3 .*; got shape \(2,\)"),
            BadInput("b has 3 dimensions", (np.eye(3), np.ones((3, 1, 1))), ValueError,
                     r"solve: b must have shape .*; got shape \(3, 1, 1\)"),
            BadInput("integer b", (np.eye(2), np.ones(2, np.int64)), TypeError,
                     r"solve: b must have a real floating dtype .*; got dtype int64"),
            BadInput("mismatched dtypes", (np.eye(2, dtype=np.float32), np.ones(2)), TypeError,
                     r"solve: A and b must have the same dtype; got A is float32, b is float64"),
            BadInput("half precision", (np.eye(2, dtype=np.float16), np.ones(2, np.float16)), TypeError,
                     r"solve: A and b must have dtype float32 or float64 .*; got dtype float16"),
        ),
    ),
    Op(
        name="sin",
        arg_names=("x",),
        formula="sin x, derivative g ⊙ cos x by a second custom rule",
        reference=lambda xp, x: xp.sin(x),
        cases={
            "vector": lambda rng: (rng.standard_normal(5),),
            "matrix": lambda rng: (rng.standard_normal((2, 3)),),
        },
        bad_inputs=(
            BadInput("integer x", (_ints,), TypeError, r"sin: x must have a real floating dtype .*; got dtype int64"),
            BadInput("boolean x", (np.ones(2, bool),), TypeError, r"sin: x must have a real floating dtype .*; got dtype bool"),
        ),
    ),
)
"""Every op of the companion, in the book's order."""

OPS_BY_NAME: dict[str, Op] = {op.name: op for op in OPS}
"""The registry by name."""
