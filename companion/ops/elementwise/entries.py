"""Registry entries of the elementwise ops, with their SymPy derivations.

>>> [op.name for op in OPS]
['sin_mul', 'sin', 'softplus']
>>> derive_sin_mul().confirmed
True
"""

from __future__ import annotations

import numpy as np
import sympy

from companion.derivation import Derivation, as_array, confirm_rules, flat, same, symbols
from companion.ops import BadInput, Op
from companion.ops.elementwise import rules
from companion.xp.sympy import sympy_ops

__all__ = ["OPS", "derive_sin_mul", "derive_sin", "derive_softplus"]


def derive_sin_mul() -> Derivation:
    """``sin_mul(x, y) = y ⊙ sin x`` with broadcasting: ``x`` of shape (2,), ``y`` of shape (2, 1).

    Output shape (2, 2), so both cotangents must be summed back to their input's shape.

    >>> derive_sin_mul().checks
    {'primal': True, 'jvp = J v': True, 'vjp = Jᵀ w': True, '<w, J v> = <vjp(w), v>': True}
    """
    x, y = symbols("x", (2,)), symbols("y", (2, 1))
    truth = np.array([[y[i, 0] * sympy.sin(x[j]) for j in range(2)] for i in range(2)], dtype=object)
    return confirm_rules(
        "sin_mul",
        {"x": x, "y": y},
        truth,
        rules.sin_mul(x, y, sympy_ops),
        lambda t: rules.sin_mul_tangent(x, y, t["x"], t["y"], sympy_ops),
        lambda w: dict(zip("xy", rules.sin_mul_cotangents(x, y, w, sympy_ops))),
    )


def derive_sin() -> Derivation:
    """``sin x`` for ``x`` of shape (2,): the first-derivative rules, then the second-derivative rules.

    The second-derivative checks confirm, against the Jacobian of the
    symbolic derivative map ``(x, g) ↦ J(x)ᵀ g``: ``sin_backward`` (its
    primal), ``sin_backward_tangent`` and ``sin_backward_cotangents``
    (PyTorch's ``SinBackward``), and ``sin_derivative_tangent`` (JAX's
    ``sin_derivative``) against the symbolic derivative of ``cos x``.

    >>> d = derive_sin()
    >>> d.confirmed, len(d.checks)
    (True, 9)
    """
    x = symbols("x", (2,))
    truth = np.vectorize(sympy.sin, otypes=[object])(x)
    cos_x = rules.sin_derivative(x, sympy_ops)
    first = confirm_rules(
        "sin",
        {"x": x},
        truth,
        rules.sin(x, sympy_ops),
        lambda t: rules.sin_tangent(cos_x, t["x"]),
        lambda w: {"x": rules.sin_cotangent(cos_x, w)},
    )
    # The derivative map as a function of (x, g), from sympy's Jacobian of sin.
    g = symbols("g", (2,))
    derivative_map = as_array(first.jacobians["x"].T * flat(g)).reshape(2)
    second = confirm_rules(
        "sin_backward",
        {"x": x, "g": g},
        derivative_map,
        rules.sin_backward(x, g, sympy_ops),
        lambda t: rules.sin_backward_tangent(x, g, t["x"], t["g"], sympy_ops),
        lambda w: dict(zip("xg", rules.sin_backward_cotangents(x, g, w, sympy_ops))),
    )
    x_dot = first.tangents["x"]
    d_cos = flat(cos_x).jacobian(flat(x)) * flat(x_dot)
    checks = dict(first.checks)
    checks.update({f"second: sin_backward {k}": v for k, v in second.checks.items()})
    checks["second: sin_derivative_tangent = (d cos x) ẋ"] = same(
        rules.sin_derivative_tangent(x, x_dot, sympy_ops), d_cos
    )
    jacobians = dict(first.jacobians)
    jacobians.update({f"sin_backward/{k}": J for k, J in second.jacobians.items()})
    return Derivation(
        "sin", first.inputs, truth, jacobians, first.tangents, first.cotangent, first.jvp, first.vjp, checks
    )


def derive_softplus() -> Derivation:
    """``y = log(1 + exp x)`` for ``x`` of shape (2,), with ``x0 > 0`` and ``x1 < 0``.

    The stable form ``max(x, 0) + log(1 + exp(min(x, −x)))`` has kinks at 0,
    so SymPy confirms it on each side (one symbol of each sign, for which
    ``max`` and ``min`` resolve) and at ``x = 0`` by substitution. Beyond the
    four identities of :func:`companion.derivation.confirm_rules`: the
    derivative formula is the sigmoid ``1 / (1 + exp(−x))``, and its own
    derivative (what autograd computes for second derivatives) is
    ``sigmoid(x) sigmoid(−x)``, the second derivative of ``log(1 + exp x)``.

    >>> d = derive_softplus()
    >>> d.confirmed, len(d.checks)
    (True, 7)
    """
    x = np.array([sympy.Symbol("x0", positive=True), sympy.Symbol("x1", negative=True)], dtype=object)
    truth = np.array([sympy.log(1 + sympy.exp(e)) for e in x], dtype=object)
    first = confirm_rules(
        "softplus",
        {"x": x},
        truth,
        rules.softplus(x, sympy_ops),
        lambda t: rules.softplus_tangent(x, t["x"], sympy_ops),
        lambda w: {"x": rules.softplus_cotangents(x, w, sympy_ops)[0]},
    )
    sigma = rules.softplus_derivative(x, sympy_ops)
    sigma_of_minus_x = rules.softplus_derivative(-x, sympy_ops)
    zero = np.array([sympy.Integer(0)], dtype=object)
    checks = dict(first.checks)
    checks["sigmoid(x) = 1 / (1 + exp(−x))"] = same(sigma, [1 / (1 + sympy.exp(-e)) for e in x])
    checks["d sigmoid(x) / dx = sigmoid(x) sigmoid(−x) = d² log(1 + exp x) / dx²"] = same(
        [sympy.diff(s, e) for s, e in zip(sigma, x)], sigma * sigma_of_minus_x
    ) and same(sigma * sigma_of_minus_x, [sympy.diff(t, e, 2) for t, e in zip(truth, x)])
    checks["x = 0: softplus = log 2, sigmoid = 1/2"] = same(
        rules.softplus(zero, sympy_ops), [sympy.log(2)]
    ) and same(rules.softplus_derivative(zero, sympy_ops), [sympy.Rational(1, 2)])
    return Derivation(
        "softplus", first.inputs, truth, first.jacobians, first.tangents, first.cotangent, first.jvp,
        first.vjp, checks,
    )


_ints = np.arange(6).reshape(2, 3)

OPS: tuple[Op, ...] = (
    Op(
        name="sin_mul",
        family="elementwise",
        chapter="ch-first-rule",
        arg_names=("x", "y"),
        formula="y ⊙ sin x (broadcasting)",
        reference=lambda xp, x, y: y * xp.sin(x),
        cases={
            "same_shape": lambda rng: (rng.standard_normal((3, 4)), rng.standard_normal((3, 4))),
            "broadcast": lambda rng: (rng.standard_normal((3, 1)), rng.standard_normal((4,))),
        },
        benchmark_cases={
            f"{n}×{n}": lambda rng, n=n: (rng.standard_normal((n, n)), rng.standard_normal((n, n))) for n in (256, 2048)
        },
        derive=derive_sin_mul,
        validate=rules.check_sin_mul,
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
        name="sin",
        family="elementwise",
        chapter="ch-double-backward",
        arg_names=("x",),
        formula="sin x, derivative g ⊙ cos x by a second custom rule",
        reference=lambda xp, x: xp.sin(x),
        cases={
            "vector": lambda rng: (rng.standard_normal(5),),
            "matrix": lambda rng: (rng.standard_normal((2, 3)),),
        },
        benchmark_cases={f"{n}×{n}": lambda rng, n=n: (rng.standard_normal((n, n)),) for n in (256, 2048)},
        derive=derive_sin,
        validate=rules.check_sin,
        bad_inputs=(
            BadInput("integer x", (_ints,), TypeError, r"sin: x must have a real floating dtype .*; got dtype int64"),
            BadInput("boolean x", (np.ones(2, bool),), TypeError,
                     r"sin: x must have a real floating dtype .*; got dtype bool"),
        ),
    ),
    Op(
        name="softplus",
        family="elementwise",
        arg_names=("x",),
        formula="log(1 + exp x), stably; derivative sigmoid(x) = exp(−softplus(−x))",
        reference=lambda xp, x: xp.logaddexp(xp.zeros_like(x), x),
        cases={
            "vector": lambda rng: (3 * rng.standard_normal(6),),
            "matrix": lambda rng: (3 * rng.standard_normal((3, 2)),),
            "kink and tails": lambda rng: (np.array([-30.0, -1.5, 0.0, 1.5, 30.0]),),
        },
        benchmark_cases={
            f"n={n}": lambda rng, n=n: (10 * rng.standard_normal(n),) for n in (65536, 1048576)
        },
        derive=derive_softplus,
        validate=rules.check_softplus,
        chapter="ch-elementwise",
        bad_inputs=(
            BadInput("integer x", (_ints,), TypeError,
                     r"softplus: x must have a real floating dtype .*; got dtype int64"),
            BadInput("boolean x", (np.ones(2, bool),), TypeError,
                     r"softplus: x must have a real floating dtype .*; got dtype bool"),
            BadInput("complex x", (np.ones(2, complex),), TypeError,
                     r"softplus: x must have a real floating dtype .*; got dtype complex128"),
        ),
    ),
)
