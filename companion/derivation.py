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

For complex ops, :func:`confirm_complex_rules` confirms the same in real
coordinates (``z = a + i b`` with real symbols, :func:`complex_symbols`), and
the cotangents of both frameworks' conventions from the Wirtinger derivatives
(:func:`wirtinger`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import sympy

__all__ = [
    "Derivation", "confirm_rules", "symbols", "as_array", "flat", "dot", "is_zero", "same",
    "confirm_complex_rules", "complex_symbols", "exact", "re_im", "wirtinger",
]

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


# --------------------------------------------------------------------------
# Complex ops: the same confirmations in real coordinates, and Wirtinger derivatives
# --------------------------------------------------------------------------


def complex_symbols(re: str, im: str, shape: tuple[int, ...]) -> SymArray:
    """An object array of ``a + i b`` with real symbols ``a = re0, …`` and ``b = im0, …``.

    >>> complex_symbols("a", "b", (2,))
    array([a0 + I*b0, a1 + I*b1], dtype=object)
    """
    return np.vectorize(lambda a, b: a + sympy.I * b, otypes=[object])(symbols(re, shape), symbols(im, shape))


def exact(a: Any) -> SymArray:
    """Every SymPy ``Float`` replaced by the rational it holds exactly.

    A rule written with a Python complex literal (``1j * theta``) gives SymPy
    ``1.0*I*theta``; ``1.0`` is exactly 1, and the identities need it exact.

    >>> exact(np.array([1j * sympy.Symbol("t")], dtype=object))
    array([I*t], dtype=object)
    """
    to_rational = lambda e: sympy.sympify(e).xreplace(  # noqa: E731
        {f: sympy.Rational(f) for f in sympy.sympify(e).atoms(sympy.Float)}
    )
    return np.vectorize(to_rational, otypes=[object])(np.asarray(a, dtype=object))


def re_im(a: Any) -> sympy.Matrix:
    """The column ``(Re vec(a), Im vec(a))`` of an array of expressions in real symbols.

    >>> re_im(complex_symbols("a", "b", (2,)) ** 2).T
    Matrix([[a0**2 - b0**2, a1**2 - b1**2, 2*a0*b0, 2*a1*b1]])
    """
    parts = [sympy.sympify(e).as_real_imag() for e in np.asarray(a, dtype=object).reshape(-1)]
    return sympy.Matrix([p[0] for p in parts] + [p[1] for p in parts])


def _halves(a: Any) -> tuple[sympy.Matrix, sympy.Matrix]:
    """``Re vec(a)`` and ``Im vec(a)`` as two columns."""
    m = re_im(a)
    return m[: len(m) // 2, :], m[len(m) // 2:, :]


def wirtinger(out: Any, z: SymArray) -> tuple[sympy.Matrix, sympy.Matrix]:
    """``∂ vec(out)/∂ vec(z)`` and ``∂ vec(out)/∂ vec(z*)`` for ``z`` from :func:`complex_symbols`:
    ``∂/∂z = (∂/∂a − i ∂/∂b)/2`` and ``∂/∂z* = (∂/∂a + i ∂/∂b)/2`` with ``z = a + i b``
    (``z*`` is the complex conjugate; the bar is kept for cotangents).

    >>> z = complex_symbols("a", "b", ())
    >>> wirtinger(np.array(z * z.conjugate(), dtype=object), z)
    (Matrix([[a - I*b]]), Matrix([[a + I*b]]))
    """
    a, b = _halves(z)
    d_a, d_b = flat(out).jacobian(a), flat(out).jacobian(b)
    half = sympy.Rational(1, 2)
    return (half * (d_a - sympy.I * d_b)).expand(), (half * (d_a + sympy.I * d_b)).expand()


def confirm_complex_rules(
    op: str,
    inputs: dict[str, SymArray],
    truth: SymArray,
    primal: SymArray,
    jvp_rule: Callable[[dict[str, SymArray]], SymArray],
    vjp_rule: Callable[[SymArray], dict[str, SymArray]],
) -> Derivation:
    """:func:`confirm_rules` for complex inputs or outputs, in real coordinates.

    A complex input is an array from :func:`complex_symbols` (``z = a + i b``),
    a real input one from :func:`symbols`. ``jacobians[name]`` is the real
    Jacobian of ``(Re out, Im out)`` (``Re out`` alone for a real output) with
    respect to ``(a, b)`` (or the real input). ``vjp_rule`` returns cotangents
    for ``⟨u, v⟩ = Re Σ conj(u) v`` (PyTorch's convention). Confirmed,
    identically in the symbols: the primal; ``jvp = J v``; ``vjp = Jᵀ w`` in
    real coordinates, with a real cotangent for a real input; the dot-product
    identity in PyTorch's pairing and, for the JAX cotangents
    ``conj(vjp(conj w))``, in JAX's ``Re Σ u v``; and both cotangents from the
    Wirtinger derivatives: PyTorch's ``(∂f/∂z*)ᵀ w* + conj(∂f/∂z)ᵀ w``, JAX's
    ``(∂f/∂z)ᵀ w + conj(∂f/∂z*)ᵀ w*`` (``*`` the complex conjugate; for a real input
    ``x``, ``Re(conj(∂f/∂x)ᵀ w)`` and ``Re((∂f/∂x)ᵀ w)``).
    """

    def is_complex(a: Any) -> bool:
        return any(not is_zero(e) for e in _halves(a)[1])

    def coords(a: Any, cplx: bool) -> sympy.Matrix:  # (Re, Im) of a complex array, a real one as is
        return re_im(a) if cplx else _halves(a)[0]

    def padded(m: sympy.Matrix, cplx: bool) -> sympy.Matrix:  # real coordinates as (Re, Im)
        return m if cplx else m.col_join(sympy.zeros(*m.shape))

    def re_dot(u: Any, v: Any, conj: bool) -> sympy.Expr:  # Re Σ conj(u) v, or Re Σ u v
        (ur, ui), (vr, vi) = _halves(u), _halves(v)
        return (ur.T * vr + (1 if conj else -1) * ui.T * vi)[0, 0]

    complex_in = {k: is_complex(a) for k, a in inputs.items()}
    out_complex = is_complex(truth)
    out = coords(truth, out_complex)
    jacobians = {k: out.jacobian(coords(a, complex_in[k])) for k, a in inputs.items()}
    tangents = {
        k: complex_symbols(f"{k}_dot_re", f"{k}_dot_im", np.shape(a)) if complex_in[k]
        else symbols(f"{k}_dot_", np.shape(a)) for k, a in inputs.items()
    }
    shape = np.shape(truth)
    cotangent = complex_symbols("w_re", "w_im", shape) if out_complex else symbols("w", shape)
    conj = np.vectorize(sympy.conjugate, otypes=[object])
    jvp = exact(jvp_rule(tangents))
    vjp = {k: exact(v) for k, v in vjp_rule(cotangent).items()}
    vjp_jax = {k: conj(exact(v)) for k, v in vjp_rule(conj(cotangent)).items()}
    J_v = sum((jacobians[k] * coords(tangents[k], complex_in[k]) for k in inputs), sympy.zeros(len(out), 1))
    w, w_bar = flat(cotangent), flat(conj(cotangent))
    from_wirtinger: dict[str, tuple[sympy.Matrix, sympy.Matrix]] = {}
    for k, a in inputs.items():
        if complex_in[k]:
            W_z, W_zbar = wirtinger(truth, a)
            from_wirtinger[k] = (W_zbar.T * w_bar + W_z.H * w, W_z.T * w + W_zbar.H * w_bar)
        else:
            W_x = flat(truth).jacobian(flat(a))
            real_part = lambda m: m.applyfunc(sympy.re)  # noqa: E731
            from_wirtinger[k] = (real_part(W_x.H * w), real_part(W_x.T * w))
    checks = {
        "primal": same(re_im(exact(primal)), re_im(truth)),
        "jvp = J v": np.shape(jvp) == shape and same(re_im(jvp), padded(J_v, out_complex)),
        "vjp = Jᵀ w (real coordinates; real for a real input)": all(
            np.shape(vjp[k]) == np.shape(a)
            and same(re_im(vjp[k]), padded(jacobians[k].T * coords(cotangent, out_complex), complex_in[k]))
            for k, a in inputs.items()
        ),
        "Re<w, J v> = Re<vjp(w), v> (PyTorch: Re Σ conj(u) v)": is_zero(
            re_dot(cotangent, jvp, True) - sum(re_dot(vjp[k], tangents[k], True) for k in inputs)
        ),
        "Re Σ w J v = Re Σ vjp_jax(w) v (JAX: Re Σ u v)": is_zero(
            re_dot(cotangent, jvp, False) - sum(re_dot(vjp_jax[k], tangents[k], False) for k in inputs)
        ),
        "PyTorch cotangent from ∂f/∂z, ∂f/∂z*": all(
            same(re_im(vjp[k]), re_im(np.array(from_wirtinger[k][0], dtype=object))) for k in inputs
        ),
        "JAX cotangent from ∂f/∂z, ∂f/∂z*": all(
            same(re_im(vjp_jax[k]), re_im(np.array(from_wirtinger[k][1], dtype=object))) for k in inputs
        ),
    }
    return Derivation(op, inputs, truth, jacobians, tangents, cotangent, jvp, vjp, checks)
