"""Sympy derivations: each rule of :mod:`companion.rules`, confirmed symbolically.

For every op, :func:`derive` builds small symbolic inputs, computes the op's
output *independently of the rules* (plain sympy: ``sin``, matrix products,
Cramer's rule for the solve), takes its Jacobians with
:meth:`sympy.Matrix.jacobian`, then runs **the very rule functions the
PyTorch and JAX adapters run** (:mod:`companion.rules`) on sympy expressions
and confirms, identically in the symbols:

* ``primal``: the rule's primal equals the op;
* ``jvp = J v``: the JVP formula is the Jacobian's action on a tangent;
* ``vjp = Jᵀ w``: the VJP formula is the transposed Jacobian's action;
* ``<w, J v> = <vjp(w), v>``: the dot-product (adjoint) identity between the
  two formulas, for a symbolic tangent ``v`` and cotangent ``w``.

The rules run on NumPy *object* arrays of sympy expressions (:data:`sympy_ops`),
so ``*`` is elementwise, ``@`` is the matrix product and broadcasting is
NumPy's, exactly as in the frameworks.

>>> d = derive("sin_mul")
>>> d.confirmed
True
>>> d.jacobians["x"]
Matrix([
[y00*cos(x0),           0],
[          0, y00*cos(x1)],
[y10*cos(x0),           0],
[          0, y10*cos(x1)]])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import sympy

from companion import rules

__all__ = [
    "Derivation",
    "derive",
    "derive_sin_mul",
    "derive_matvec",
    "derive_solve",
    "derive_sin",
    "sympy_ops",
    "symbols",
]

SymArray = np.ndarray  # NumPy arrays of dtype object holding sympy expressions


# --------------------------------------------------------------------------
# The sympy array namespace for companion.rules
# --------------------------------------------------------------------------


class _SympyOps:
    """:class:`companion.rules.ArrayOps` for NumPy object arrays of sympy expressions.

    ``lu_factor`` keeps ``A`` as a :class:`sympy.Matrix` and ``lu_solve`` calls
    :meth:`sympy.Matrix.LUsolve` on it (or on its transpose): a symbolic LU.
    """

    sin = staticmethod(np.vectorize(sympy.sin, otypes=[object]))
    cos = staticmethod(np.vectorize(sympy.cos, otypes=[object]))
    sum_to_shape = staticmethod(rules.sum_to_shape)

    @staticmethod
    def lu_factor(A: SymArray) -> sympy.Matrix:
        return sympy.Matrix(A)

    @staticmethod
    def lu_solve(lu_factors: sympy.Matrix, rhs: SymArray, trans: bool = False) -> SymArray:
        M = lu_factors.T if trans else lu_factors
        z = M.LUsolve(sympy.Matrix(rhs.reshape(rhs.shape[0], -1)))
        return _array(z).reshape(rhs.shape)


sympy_ops = _SympyOps()
"""The :class:`companion.rules.ArrayOps` namespace for sympy (object arrays)."""


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


def _array(m: Any) -> SymArray:
    return np.array(sympy.Matrix(m).tolist(), dtype=object)


def _flat(a: Any) -> sympy.Matrix:
    """A column :class:`sympy.Matrix` of the entries of ``a`` in row-major order."""
    return sympy.Matrix(np.asarray(a, dtype=object).reshape(-1).tolist())


def _dot(a: Any, b: Any) -> sympy.Expr:
    return (_flat(a).T * _flat(b))[0, 0]


def _is_zero(expr: sympy.Expr) -> bool:
    if sympy.expand(expr) == 0 or sympy.cancel(sympy.together(expr)) == 0:
        return True
    return bool(sympy.simplify(expr) == 0)


def _same(a: Any, b: Any) -> bool:
    fa, fb = _flat(a), _flat(b)
    return fa.shape == fb.shape and all(_is_zero(p - q) for p, q in zip(fa, fb))


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


def _confirm(
    op: str,
    inputs: dict[str, SymArray],
    truth: SymArray,
    primal: SymArray,
    jvp_rule: Callable[[dict[str, SymArray]], SymArray],
    vjp_rule: Callable[[SymArray], dict[str, SymArray]],
) -> Derivation:
    """Take the Jacobians of ``truth`` and confirm the rules against them."""
    out = _flat(truth)
    jacobians = {name: out.jacobian(_flat(a)) for name, a in inputs.items()}
    tangents = {name: symbols(name + "_dot_", np.shape(a)) for name, a in inputs.items()}
    cotangent = symbols("w", np.shape(truth))
    jvp = np.asarray(jvp_rule(tangents), dtype=object)
    vjp = {k: np.asarray(v, dtype=object) for k, v in vjp_rule(cotangent).items()}
    J_v = sum((jacobians[k] * _flat(tangents[k]) for k in inputs), sympy.zeros(len(out), 1))
    checks = {
        "primal": _same(primal, truth),
        "jvp = J v": np.shape(jvp) == np.shape(truth) and _same(jvp, J_v),
        "vjp = Jᵀ w": all(
            np.shape(vjp[k]) == np.shape(inputs[k]) and _same(vjp[k], jacobians[k].T * _flat(cotangent))
            for k in inputs
        ),
        "<w, J v> = <vjp(w), v>": _is_zero(
            _dot(cotangent, jvp) - sum(_dot(vjp[k], tangents[k]) for k in inputs)
        ),
    }
    return Derivation(op, inputs, truth, jacobians, tangents, cotangent, jvp, vjp, checks)


# --------------------------------------------------------------------------
# One derivation per op
# --------------------------------------------------------------------------


def derive_sin_mul() -> Derivation:
    """``sin_mul(x, y) = y ⊙ sin x`` with broadcasting: ``x`` of shape (2,), ``y`` of shape (2, 1).

    Output shape (2, 2), so both cotangents must be summed back to their input's shape.

    >>> derive_sin_mul().checks
    {'primal': True, 'jvp = J v': True, 'vjp = Jᵀ w': True, '<w, J v> = <vjp(w), v>': True}
    """
    x, y = symbols("x", (2,)), symbols("y", (2, 1))
    truth = np.array([[y[i, 0] * sympy.sin(x[j]) for j in range(2)] for i in range(2)], dtype=object)
    return _confirm(
        "sin_mul",
        {"x": x, "y": y},
        truth,
        rules.sin_mul(x, y, sympy_ops),
        lambda t: rules.sin_mul_jvp(x, y, t["x"], t["y"], sympy_ops),
        lambda w: dict(zip("xy", rules.sin_mul_vjp(x, y, w, sympy_ops))),
    )


def derive_matvec() -> Derivation:
    """``matvec(A, x) = A x`` for ``A`` of shape (3, 2) and ``x`` of shape (2,).

    >>> derive_matvec().confirmed
    True
    """
    A, x = symbols("A", (3, 2)), symbols("x", (2,))
    truth = _array(sympy.Matrix(A) * sympy.Matrix(x)).reshape(3)
    return _confirm(
        "matvec",
        {"A": A, "x": x},
        truth,
        rules.matvec(A, x, sympy_ops),
        lambda t: rules.matvec_jvp(A, x, t["A"], t["x"], sympy_ops),
        lambda w: dict(zip(("A", "x"), rules.matvec_vjp(A, x, w, sympy_ops))),
    )


def derive_solve(b_shape: tuple[int, ...] = (2,)) -> Derivation:
    """``solve(A, b) = A⁻¹ b`` for a symbolic 2×2 ``A`` and ``b`` of shape ``b_shape``.

    The truth is Cramer's rule (``adj(A) b / det A``), independent of the LU
    the rules use.

    >>> derive_solve().confirmed, derive_solve((2, 2)).confirmed
    (True, True)
    """
    A, b = symbols("A", (2, 2)), symbols("b", b_shape)
    M = sympy.Matrix(A)
    truth = _array(M.adjugate() * sympy.Matrix(b.reshape(2, -1)) / M.det()).reshape(b_shape)
    x, lu_factors = rules.solve(A, b, sympy_ops)
    return _confirm(
        "solve",
        {"A": A, "b": b},
        truth,
        x,
        lambda t: rules.solve_jvp(lu_factors, x, t["A"], t["b"], sympy_ops),
        lambda w: dict(zip(("A", "b"), rules.solve_vjp(lu_factors, x, w, sympy_ops))),
    )


def derive_sin() -> Derivation:
    """``sin x`` for ``x`` of shape (2,): the first-derivative rules, then the second-derivative rules.

    The second-derivative checks confirm, against the Jacobian of the
    symbolic derivative map ``(x, g) ↦ J(x)ᵀ g``:
    ``sin_backward`` (its primal), ``sin_backward_jvp`` and ``sin_backward_vjp``
    (PyTorch's ``SinBackward``), and ``sin_derivative_jvp`` (JAX's
    ``sin_derivative``) against the symbolic derivative of ``cos x``.

    >>> d = derive_sin()
    >>> d.confirmed, len(d.checks)
    (True, 9)
    """
    x = symbols("x", (2,))
    truth = np.vectorize(sympy.sin, otypes=[object])(x)
    cos_x = rules.sin_derivative(x, sympy_ops)
    first = _confirm(
        "sin",
        {"x": x},
        truth,
        rules.sin(x, sympy_ops),
        lambda t: rules.sin_jvp(cos_x, t["x"]),
        lambda w: {"x": rules.sin_vjp(cos_x, w)},
    )
    # The derivative map as a function of (x, g), from sympy's Jacobian of sin.
    g = symbols("g", (2,))
    derivative_map = _array(first.jacobians["x"].T * _flat(g)).reshape(2)
    second = _confirm(
        "sin_backward",
        {"x": x, "g": g},
        derivative_map,
        rules.sin_backward(x, g, sympy_ops),
        lambda t: rules.sin_backward_jvp(x, g, t["x"], t["g"], sympy_ops),
        lambda w: dict(zip("xg", rules.sin_backward_vjp(x, g, w, sympy_ops))),
    )
    x_dot = first.tangents["x"]
    d_cos = _flat(cos_x).jacobian(_flat(x)) * _flat(x_dot)
    checks = dict(first.checks)
    checks.update({f"second: sin_backward {k}": v for k, v in second.checks.items()})
    checks["second: sin_derivative_jvp = (d cos x) ẋ"] = _same(
        rules.sin_derivative_jvp(x, x_dot, sympy_ops), d_cos
    )
    jacobians = dict(first.jacobians)
    jacobians.update({f"sin_backward/{k}": J for k, J in second.jacobians.items()})
    return Derivation("sin", first.inputs, truth, jacobians, first.tangents, first.cotangent, first.jvp, first.vjp, checks)


_DERIVATIONS: dict[str, Callable[[], Derivation]] = {
    "sin_mul": derive_sin_mul,
    "matvec": derive_matvec,
    "solve": derive_solve,
    "sin": derive_sin,
}


def derive(name: str) -> Derivation:
    """The derivation of the op called ``name`` (``"sin_mul"``, ``"matvec"``, ``"solve"``, ``"sin"``).

    >>> derive("matvec").jacobians["x"]
    Matrix([
    [A00, A01],
    [A10, A11],
    [A20, A21]])
    """
    try:
        return _DERIVATIONS[name]()
    except KeyError:
        raise ValueError(f"derive: unknown op {name!r}; expected one of {sorted(_DERIVATIONS)}") from None
