"""The companion's ops, grouped by family, and :class:`Op`, the entry that describes one.

Each family is a package ``companion.ops.<family>`` of four modules:

* ``rules``: the formulas (primal, ``<op>_tangent``, ``<op>_cotangents``),
  written once against an array namespace (:mod:`companion.xp`), and the
  input checks ``check_<op>``; imports no framework;
* ``torch``: the ``torch.autograd.Function`` adapters and the public functions;
* ``jax``: the ``jax.custom_jvp`` functions (``<op>``) and the
  ``jax.custom_vjp`` ones (``<op>_vjp``);
* ``entries``: one :class:`Op` per op, carrying its SymPy derivation, its
  input checks, a reference built from the frameworks' own functions, example
  inputs and the inputs it must reject.

:mod:`companion.torch` and :mod:`companion.jax` re-export every family's
public names; :mod:`companion.registry` collects every family's entries.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from companion.derivation import Derivation

__all__ = ["FAMILIES", "Op", "BadInput"]

FAMILIES = (
    "elementwise", "linalg", "external", "reductions", "complex", "decompositions", "matrix_equations",
    "roots", "linear_solvers", "fixed_points", "optimisation", "odes", "circuits",
)
"""The families, in the book's order."""

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
    """One op of the companion, as the tests, ``verify``, the benchmarks and the book see it."""

    name: str
    family: str
    arg_names: tuple[str, ...]
    formula: str
    reference: Callable[..., Any]
    """``reference(xp, *args)``: the op built from ``xp``'s own functions (``xp`` = numpy, torch or jax.numpy)."""
    cases: dict[str, Callable[[np.random.Generator], Args]]
    derive: Callable[[], Derivation]
    """The SymPy derivation that confirms the op's rules (see :mod:`companion.derivation`)."""
    validate: Callable[..., None]
    """``validate(*args, array_type)``: the input checks the public functions run."""
    bad_inputs: tuple[BadInput, ...] = field(default=())
    symmetric_args: tuple[str, ...] = ()
    """Arguments the op reads as symmetric matrices (through ``(X + Xᵀ)/2``). The
    batteries pass them as ``(X + Xᵀ)/2``, to the op and to the reference alike, so
    finite differences move them along symmetric directions only."""
    chapter: str = ""
    """The label of the book's chapter that derives the op's rules (``"ch-first-rule"``)."""
    rule_functions: dict[str, str] = field(default_factory=dict)
    """The functions of the family's rules module whose docstrings the book's table of
    rules quotes for the value, the JVP and the VJP (keys ``"value"``, ``"jvp"``,
    ``"vjp"``), where they are not ``<name>``, ``<name>_tangent`` and
    ``<name>_cotangents`` (or ``<name>_cotangent``)."""
    benchmark_cases: dict[str, Callable[[np.random.Generator], Args]] = field(default_factory=dict)
    """Larger float64 arguments that ``python -m benchmarks`` times, by a size label
    (``"n=1024"``); ``--quick`` takes the first only."""
    bind: Callable[[Callable[..., Any], Any], Callable[..., Any]] | None = None
    """For an op that also takes functions or static data (``fixed_point(f, x0, *params)``,
    ``circuit_expectation(theta, gates, observable, n_qubits)``): ``bind(public, xp)``
    returns a function of the array arguments ``arg_names`` only, the public function
    with the example's functions and static data filled in, where ``xp`` is the
    framework's array module (``torch`` or ``jax.numpy``) the functions are written
    with. The batteries, the benchmarks and ``reference`` see only the arrays."""
    not_applicable: dict[str, str] = field(default_factory=dict)
    """Batteries (``companion.verify.CHECKS`` names) that cannot apply to this op, each with
    the reason. ``verify`` reports them as ``n/a: <reason>``, never as passed; an op
    without forward mode (``"forward AD"``) also runs ``gradcheck`` and
    ``gradgradcheck`` without their forward-mode parts."""

    def example(self, case: str | None = None, seed: int = 0) -> Args:
        """Float64 example arguments for ``case`` (default: the first case), from ``seed``."""
        make = self.cases[case] if case is not None else next(iter(self.cases.values()))
        return make(np.random.default_rng(seed))

    def derivation(self) -> Derivation:
        """The SymPy derivation of this op's rules."""
        return self.derive()

    def torch(self) -> Callable[..., Any]:
        """The PyTorch function ``companion.torch.<name>`` (imports torch), bound by ``bind``."""
        public = getattr(importlib.import_module("companion.torch"), self.name)
        return public if self.bind is None else self.bind(public, importlib.import_module("torch"))

    def jax(self, *, vjp: bool = False) -> Callable[..., Any]:
        """``companion.jax.<name>`` (custom_jvp), or ``<name>_vjp`` (custom_vjp) with ``vjp=True``, bound by ``bind``."""
        public = getattr(importlib.import_module("companion.jax"), self.name + ("_vjp" if vjp else ""))
        return public if self.bind is None else self.bind(public, importlib.import_module("jax.numpy"))
