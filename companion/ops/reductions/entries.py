"""Registry entries of the reduction ops, with their SymPy derivations.

>>> [op.name for op in OPS]
['logsumexp', 'softmax', 'norm']
>>> derive_norm().confirmed
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from companion.derivation import Derivation, confirm_rules, flat, same, symbols
from companion.ops import BadInput, Op
from companion.ops.reductions import rules
from companion.xp.sympy import sympy_ops

__all__ = ["OPS", "derive_logsumexp", "derive_softmax", "derive_norm"]

_SHAPE = (2, 3)
"""The symbolic input: two rows of three, so the batch axis is exercised too."""


def _exp_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``exp x`` and its row sums ``Σ_j exp x_ij``, in plain SymPy (no shift: the truth)."""
    e = np.vectorize(sympy.exp, otypes=[object])(x)
    return e, np.array([sum(row) for row in e], dtype=object)


def _with_checks(d: Derivation, extra: dict[str, bool]) -> Derivation:
    """``d`` with the checks of ``extra`` appended."""
    return Derivation(
        d.op, d.inputs, d.output, d.jacobians, d.tangents, d.cotangent, d.jvp, d.vjp, {**d.checks, **extra}
    )


def derive_logsumexp() -> Derivation:
    """``logsumexp(x) = log Σ_j exp x_j`` over the last axis of a symbolic 2×3 ``x``.

    The rules' primal carries the shift ``m`` (SymPy's ``Max`` of each row); the truth
    has none, so the ``primal`` check confirms that the shift changes nothing.
    A further check confirms that the weights ``s`` the rules use are the
    gradient: ``s = exp x / Σ_j exp x_j``.

    >>> derive_logsumexp().checks["gradient = softmax(x)"]
    True
    """
    x = symbols("x", _SHAPE)
    e, total = _exp_rows(x)
    truth = np.vectorize(sympy.log, otypes=[object])(total)
    s = rules.softmax(x, sympy_ops)
    d = confirm_rules(
        "logsumexp",
        {"x": x},
        truth,
        rules.logsumexp(x, sympy_ops),
        lambda t: rules.logsumexp_tangent(s, t["x"]),
        lambda w: {"x": rules.logsumexp_cotangent(s, w)},
    )
    return _with_checks(d, {"gradient = softmax(x)": same(s, e / total[:, None])})


def derive_softmax() -> Derivation:
    """``softmax(x) = exp x / Σ_j exp x_j`` over the last axis of a symbolic 2×3 ``x``.

    Besides the four standard checks (the ``vjp = Jᵀ w`` one confirms the
    Jacobian-free formula ``s ⊙ (w − ⟨s, w⟩)`` against the 6×6 Jacobian), two
    more: the Jacobian is block diagonal with blocks ``diag(s) − s sᵀ``, and it
    is symmetric, which is why the VJP formula is the JVP formula.

    >>> d = derive_softmax()
    >>> d.checks["J = blockdiag(diag(s) − s sᵀ)"], d.checks["J = Jᵀ"]
    (True, True)
    """
    x = symbols("x", _SHAPE)
    e, total = _exp_rows(x)
    truth = e / total[:, None]
    s = rules.softmax(x, sympy_ops)
    d = confirm_rules(
        "softmax",
        {"x": x},
        truth,
        s,
        lambda t: rules.softmax_tangent(s, t["x"]),
        lambda w: {"x": rules.softmax_cotangent(s, w)},
    )
    J = d.jacobians["x"]
    blocks = [sympy.diag(*row) - flat(row) * flat(row).T for row in truth]
    return _with_checks(
        d,
        {
            "J = blockdiag(diag(s) − s sᵀ)": same(J, sympy.diag(*blocks)),
            "J = Jᵀ": same(J, J.T),
        },
    )


def derive_norm() -> Derivation:
    """``norm(x) = sqrt(Σ_j x_j²)`` over the last axis of a symbolic 2×3 ``x`` with nonzero entries.

    The symbols are declared real and nonzero, so SymPy decides ``r > 0`` and
    the rules' ``where`` picks the branch ``u = x / r``: the derivation covers
    every nonzero ``x``, where the norm is differentiable. The value at ``x = 0`` is a
    choice (the subgradient 0), confirmed numerically by the tests, not here.

    >>> derive_norm().jacobians["x"][0, :2]
    Matrix([[x00/sqrt(x00**2 + x01**2 + x02**2), x01/sqrt(x00**2 + x01**2 + x02**2)]])
    """
    x = np.empty(_SHAPE, dtype=object)
    for i, j in np.ndindex(*_SHAPE):
        x[i, j] = sympy.Symbol(f"x{i}{j}", real=True, nonzero=True)
    truth = np.array([sympy.sqrt(sum(v**2 for v in row)) for row in x], dtype=object)
    r = rules.norm(x, sympy_ops)
    u = rules.norm_direction(x, r, sympy_ops)
    return confirm_rules(
        "norm",
        {"x": x},
        truth,
        r,
        lambda t: rules.norm_tangent(u, t["x"]),
        lambda w: {"x": rules.norm_cotangent(u, w)},
    )


def _reference_logsumexp(xp: Any, x: Any) -> Any:
    """The built-in logsumexp over the last axis: ``torch.logsumexp``, ``jax.nn.logsumexp``, SciPy's."""
    if xp.__name__ == "torch":
        return xp.logsumexp(x, dim=-1)
    if xp.__name__ == "jax.numpy":
        import jax

        return jax.nn.logsumexp(x, axis=-1)
    import scipy.special

    return scipy.special.logsumexp(x, axis=-1)


def _reference_softmax(xp: Any, x: Any) -> Any:
    """The built-in softmax over the last axis: ``torch.softmax``, ``jax.nn.softmax``, SciPy's."""
    if xp.__name__ == "torch":
        return xp.softmax(x, dim=-1)
    if xp.__name__ == "jax.numpy":
        import jax

        return jax.nn.softmax(x, axis=-1)
    import scipy.special

    return scipy.special.softmax(x, axis=-1)


def _reference_norm(xp: Any, x: Any) -> Any:
    """The built-in norm over the last axis: ``torch.linalg.vector_norm``, else ``xp.linalg.norm``."""
    if xp.__name__ == "torch":
        return xp.linalg.vector_norm(x, dim=-1)
    return xp.linalg.norm(x, axis=-1)


def _bad_inputs(op: str) -> tuple[BadInput, ...]:
    """The inputs every reduction rejects: integer and boolean dtypes, a 0-d array, an empty last axis."""
    return (
        BadInput(
            "integer x",
            (np.arange(6).reshape(2, 3),),
            TypeError,
            rf"{op}: x must have a real floating dtype .*; got dtype int64",
        ),
        BadInput(
            "boolean x",
            (np.ones(3, bool),),
            TypeError,
            rf"{op}: x must have a real floating dtype .*; got dtype bool",
        ),
        BadInput(
            "0-d x",
            (np.asarray(1.0),),
            ValueError,
            rf"{op}: x must have at least one axis \(the last axis is reduced\); "
            r"got a 0-d array of shape \(\)",
        ),
        BadInput(
            "empty last axis",
            (np.ones((3, 0)),),
            ValueError,
            rf"{op}: x must have a non-empty last axis .*; got shape \(3, 0\)",
        ),
    )


def _nonzero_rows(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Normal entries with mean 0.5: the seeded rows are far from 0, where the norm has its corner."""
    return rng.standard_normal(shape) + 0.5


_BENCHMARK_CASES = {
    f"{rows}×{n}": lambda rng, rows=rows, n=n: (rng.standard_normal((rows, n)),)
    for rows, n in ((256, 1024), (1024, 4096))
}
"""Batches of rows for ``python -m benchmarks``: the rules are O(n) per row of n."""

OPS: tuple[Op, ...] = (
    Op(
        name="logsumexp",
        family="reductions",
        chapter="ch-reductions",
        arg_names=("x",),
        formula="log Σ_j exp x_j over the last axis (shifted by the max)",
        reference=_reference_logsumexp,
        cases={
            "vector": lambda rng: (rng.standard_normal(5),),
            "batch": lambda rng: (3 * rng.standard_normal((3, 4)),),
        },
        derive=derive_logsumexp,
        validate=rules.check_logsumexp,
        benchmark_cases=_BENCHMARK_CASES,
        bad_inputs=_bad_inputs("logsumexp"),
    ),
    Op(
        name="softmax",
        family="reductions",
        chapter="ch-reductions",
        arg_names=("x",),
        formula="exp x / Σ_j exp x_j over the last axis; VJP s ⊙ (s̄ − ⟨s, s̄⟩)",
        reference=_reference_softmax,
        cases={
            "vector": lambda rng: (rng.standard_normal(5),),
            "batch": lambda rng: (3 * rng.standard_normal((3, 4)),),
        },
        derive=derive_softmax,
        validate=rules.check_softmax,
        benchmark_cases=_BENCHMARK_CASES,
        bad_inputs=_bad_inputs("softmax"),
    ),
    Op(
        name="norm",
        family="reductions",
        chapter="ch-reductions",
        arg_names=("x",),
        formula="sqrt(Σ_j x_j²) over the last axis; derivative 0 at x = 0",
        reference=_reference_norm,
        cases={
            "vector": lambda rng: (_nonzero_rows(rng, (4,)),),
            "batch": lambda rng: (_nonzero_rows(rng, (3, 4)),),
        },
        derive=derive_norm,
        validate=rules.check_norm,
        benchmark_cases=_BENCHMARK_CASES,
        bad_inputs=_bad_inputs("norm"),
    ),
)
