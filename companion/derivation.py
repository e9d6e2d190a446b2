"""The machinery of the SymPy derivations: symbolic inputs, Jacobians, and the confirmations.

A family's derivation (``companion.ops.<family>.entries``) builds small
symbolic inputs with :func:`symbols`, computes the op's output *independently
of the rules* (plain SymPy), runs **the very rule functions the PyTorch and
JAX adapters run** on them (namespace :data:`companion.symbolic.sympy_ops`),
and calls :func:`confirm_rules`, which takes the Jacobians with
:meth:`sympy.Matrix.jacobian` and confirms, identically in the symbols:

* ``primal``: the rule's primal equals the op;
* ``jvp = J v``: the tangent formula is the Jacobian's action on a tangent;
* ``vjp = Jᵀ w``: the cotangent formula is the transposed Jacobian's action;
* ``<w, J v> = <vjp(w), v>``: the dot-product (adjoint) identity between the
  two formulas, for a symbolic tangent ``v`` and cotangent ``w``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import sympy

__all__ = ["Derivation", "confirm_rules", "symbols", "as_array", "flat", "dot", "is_zero", "same"]

SymArray = np.ndarray  # NumPy arrays of dtype object holding sympy expressions


def symbols(name: str, shape: tuple[int, ...]) -> SymArray:
    """An object array of real symbols ``name0, name1, …`` (row-major) of the given shape.

    >>> symbols("A", (2, 2))
    array([[A00, A01],
           [A10, A11]], dtype=object)
    """
    if not shape:
        return np.array(sympy.Symbol(name, real=True), dtype=object)
    out = np.empty(shape, dtype=object)
    for idx in itertools.product(*map(range, shape)):
        out[idx] = sympy.Symbol(name + "".join(map(str, idx)), real=True)
    return out


def as_array(m: Any) -> SymArray:
    """A :class:`sympy.Matrix` (or nested list) as a NumPy object array."""
    return np.array(sympy.Matrix(m).tolist(), dtype=object)


def flat(a: Any) -> sympy.Matrix:
    """A column :class:`sympy.Matrix` of the entries of ``a`` in row-major order."""
    return sympy.Matrix(np.asarray(a, dtype=object).reshape(-1).tolist())


def dot(a: Any, b: Any) -> sympy.Expr:
    """The inner product ``⟨a, b⟩``: the sum of the entrywise products."""
    return (flat(a).T * flat(b))[0, 0]


def is_zero(expr: sympy.Expr) -> bool:
    """Whether ``expr`` is identically zero (``expand``, then ``cancel``, then ``simplify``)."""
    if sympy.expand(expr) == 0 or sympy.cancel(sympy.together(expr)) == 0:
        return True
    return bool(sympy.simplify(expr) == 0)


def same(a: Any, b: Any) -> bool:
    """Whether two arrays of expressions have the same size and are identical entry by entry."""
    fa, fb = flat(a), flat(b)
    return fa.shape == fb.shape and all(is_zero(p - q) for p, q in zip(fa, fb))


# --------------------------------------------------------------------------
# Derivation: the result, displayable in a book page
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Derivation:
    """The symbolic derivation of one op's rules and its confirmations.

    ``inputs`` maps each argument name to its symbols; ``output`` is the op
    computed independently of the rules; ``jacobians[name]`` is
    ``∂ vec(output) / ∂ vec(name)``; ``jvp`` is the rule's tangent output for
    the symbolic tangents ``tangents``; ``vjp[name]`` is the rule's cotangent
    for input ``name`` given the symbolic cotangent ``cotangent``; ``checks``
    maps each confirmation to its outcome.
    """

    op: str
    inputs: dict[str, Any]
    output: Any
    jacobians: dict[str, sympy.Matrix]
    tangents: dict[str, Any]
    cotangent: Any
    jvp: Any
    vjp: dict[str, Any]
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def confirmed(self) -> bool:
        """True when every check holds identically."""
        return bool(self.checks) and all(self.checks.values())

    def table(self) -> str:
        """A Markdown table: one row per check, with its outcome."""
        rows = ["| check | holds identically |", "| --- | --- |"]
        rows += [f"| `{name}` | {'yes' if ok else '**NO**'} |" for name, ok in self.checks.items()]
        return "\n".join(rows)

    def _latex_partial(self, key: str) -> str:
        """``∂ op / ∂ x`` in LaTeX; a key ``"fn/x"`` names another function ``fn``."""
        fn, _, var = key.rpartition("/")
        name = (fn or self.op).replace("_", "\\_")
        return f"\\frac{{\\partial\\, \\mathrm{{{name}}}}}{{\\partial {var}}}"

    def _repr_markdown_(self) -> str:
        shapes = ", ".join(f"{k}: {tuple(np.shape(v))}" for k, v in self.inputs.items())
        jac = "\n\n".join(
            f"$${self._latex_partial(k)} = {sympy.latex(J)}$$"
            for k, J in self.jacobians.items()
        )
        verdict = "confirmed" if self.confirmed else "NOT confirmed"
        return f"**{self.op}** (symbolic sizes {shapes}): {verdict}\n\n{jac}\n\n{self.table()}\n"

    def __repr__(self) -> str:
        status = ", ".join(f"{k}: {'ok' if v else 'FAILED'}" for k, v in self.checks.items())
        return f"Derivation(op={self.op!r}, confirmed={self.confirmed}, checks={{{status}}})"


def confirm_rules(
    op: str,
    inputs: dict[str, SymArray],
    truth: SymArray,
    primal: SymArray,
    jvp_rule: Callable[[dict[str, SymArray]], SymArray],
    vjp_rule: Callable[[SymArray], dict[str, SymArray]],
) -> Derivation:
    """Take the Jacobians of ``truth`` and confirm the rules against them."""
    out = flat(truth)
    jacobians = {name: out.jacobian(flat(a)) for name, a in inputs.items()}
    tangents = {name: symbols(name + "_dot_", np.shape(a)) for name, a in inputs.items()}
    cotangent = symbols("w", np.shape(truth))
    jvp = np.asarray(jvp_rule(tangents), dtype=object)
    vjp = {k: np.asarray(v, dtype=object) for k, v in vjp_rule(cotangent).items()}
    J_v = sum((jacobians[k] * flat(tangents[k]) for k in inputs), sympy.zeros(len(out), 1))
    checks = {
        "primal": same(primal, truth),
        "jvp = J v": np.shape(jvp) == np.shape(truth) and same(jvp, J_v),
        "vjp = Jᵀ w": all(
            np.shape(vjp[k]) == np.shape(inputs[k]) and same(vjp[k], jacobians[k].T * flat(cotangent))
            for k in inputs
        ),
        "<w, J v> = <vjp(w), v>": is_zero(
            dot(cotangent, jvp) - sum(dot(vjp[k], tangents[k]) for k in inputs)
        ),
    }
    return Derivation(op, inputs, truth, jacobians, tangents, cotangent, jvp, vjp, checks)
