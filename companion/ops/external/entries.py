"""Registry entry of the external op ``bessel_j0``, with its SymPy derivation.

>>> [op.name for op in OPS]
['bessel_j0']
>>> derive_bessel_j0().confirmed
True
"""

from __future__ import annotations

import math

import numpy as np
import sympy

from companion.derivation import Derivation, confirm_rules, is_zero, symbols
from companion.ops import BadInput, Op
from companion.ops.external import rules

__all__ = ["OPS", "derive_bessel_j0", "bessel_j0_quadrature"]

_besselj = np.vectorize(sympy.besselj, otypes=[object])


def derive_bessel_j0() -> Derivation:
    """``J_0(x)`` for ``x`` of shape (2,): SymPy's ``besselj`` and its derivative.

    The rules take the neighbouring orders ``J_{−1}(x)`` and ``J_1(x)``; SymPy
    differentiates ``besselj(0, x)`` itself, so the JVP and VJP checks confirm
    ``∂J_0/∂x = (J_{−1} − J_1)/2 = −J_1``. The extra checks confirm the
    recurrence ``∂J_n/∂x = (J_{n−1} − J_{n+1})/2`` that the adapters' rules use
    at every higher order, for ``n = 1, 2, 3``. (The primal is SciPy's, so its
    check here is SymPy against itself; the batteries compare SciPy's values
    with ``bessel_j0_quadrature``.)

    >>> d = derive_bessel_j0()
    >>> d.jacobians["x"]
    Matrix([
    [-besselj(1, x0),               0],
    [              0, -besselj(1, x1)]])
    >>> d.checks["recurrence n = 3"]
    True
    """
    x = symbols("x", (2,))
    truth = _besselj(0, x)
    j_prev, j_next = _besselj(-1, x), _besselj(1, x)
    d = confirm_rules(
        "bessel_j0",
        {"x": x},
        truth,
        _besselj(0, x),
        lambda t: rules.bessel_jn_tangent(j_prev, j_next, t["x"]),
        lambda w: {"x": rules.bessel_jn_cotangent(j_prev, j_next, w)},
    )
    s = sympy.Symbol("s", real=True)
    for n in (1, 2, 3):
        rule = rules.bessel_jn_derivative(sympy.besselj(n - 1, s), sympy.besselj(n + 1, s))
        d.checks[f"recurrence n = {n}"] = is_zero(sympy.diff(sympy.besselj(n, s), s) - rule)
    return d


_NODES = 32


def bessel_j0_quadrature(xp: object, x: object) -> object:
    """Bessel's integral: ``J_0(x)`` is the mean of cos(x sin t) over t in [0, π]; trapezoidal rule.

    Built from ``xp.cos`` alone (``xp`` = numpy, torch or jax.numpy), so each
    framework differentiates it with its own built-in rules. The integrand is
    periodic in t, so 32 nodes are exact to rounding for absolute values of ``x`` up to
    about 30: the error is ``2 Σ_m J_{64m}(x)``.

    >>> bessel_j0_quadrature(np, np.array([0.0, 1.0])).round(6)
    array([1.      , 0.765198])
    """
    nodes = [math.sin(math.pi * k / _NODES) for k in range(_NODES)]
    return sum(xp.cos(x * s) for s in nodes) / _NODES  # type: ignore[attr-defined,operator]


OPS: tuple[Op, ...] = (
    Op(
        name="bessel_j0",
        family="external",
        arg_names=("x",),
        chapter="ch-external-code",
        rule_functions={"value": "bessel_jn_numpy", "jvp": "bessel_jn_tangent", "vjp": "bessel_jn_cotangent"},
        formula="J_0(x) by SciPy (external), derivative −J_1(x) by SciPy",
        reference=bessel_j0_quadrature,
        cases={
            "vector": lambda rng: (3 * rng.standard_normal(5),),
            "matrix": lambda rng: (3 * rng.standard_normal((2, 3)),),
        },
        derive=derive_bessel_j0,
        validate=rules.check_bessel_j0,
        bad_inputs=(
            BadInput("integer x", (np.arange(3),), TypeError,
                     r"bessel_j0: x must have a real floating dtype .*; got dtype int64"),
            BadInput("float16 x", (np.ones(3, np.float16),), TypeError,
                     r"bessel_j0: x must have dtype float32 or float64 .*; got dtype float16"),
        ),
        not_applicable={
            "forward AD": (
                "torch.library.custom_op has no forward-mode rule in torch 2.13: "
                "register_autograd gives reverse mode only; a forward_ad dual tensor "
                "comes out without a tangent (or raises NotImplementedError if it also "
                "requires grad), and torch.func.jvp returns zeros"
            ),
            "torch.func": (
                "the autograd.Function that register_autograd generates has no "
                "setup_context, so torch.func.grad, vjp, jacrev and hessian raise "
                "(and jvp, jacfwd return zeros)"
            ),
        },
    ),
)
