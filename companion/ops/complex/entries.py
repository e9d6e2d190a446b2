"""Registry entries of the complex ops, with their SymPy derivations.

A complex input is written ``z = a + i b`` with real symbols ``a``, ``b``
(:func:`companion.derivation.complex_symbols`), and the rules are confirmed in
real coordinates by :func:`companion.derivation.confirm_complex_rules`.

>>> [op.name for op in OPS]
['abs2', 'phase_mul']
>>> derive_abs2().confirmed, derive_phase_mul().confirmed
(True, True)
"""

from __future__ import annotations

import numpy as np
import sympy

from companion.derivation import Derivation, complex_symbols, confirm_complex_rules, symbols
from companion.ops import BadInput, Op
from companion.ops.complex import rules
from companion.xp.sympy import sympy_ops

__all__ = ["OPS", "derive_abs2", "derive_phase_mul"]


def derive_abs2() -> Derivation:
    """``abs2(z) = |z|²`` for complex ``z = a + i b`` of shape (2,), then for a real ``x`` of shape (2,).

    >>> d = derive_abs2()
    >>> d.confirmed, len(d.checks)
    (True, 14)
    """
    z = complex_symbols("a", "b", (2,))
    truth = np.vectorize(lambda e: sympy.Abs(e) ** 2, otypes=[object])(z)  # a² + b²

    def derive(z: np.ndarray, truth: np.ndarray) -> Derivation:
        return confirm_complex_rules(
            "abs2",
            {"z": z},
            truth,
            rules.abs2(z, sympy_ops),
            lambda t: rules.abs2_tangent(z, t["z"], sympy_ops),
            lambda w: {"z": rules.abs2_cotangents(z, w, sympy_ops)[0]},
        )

    complex_z = derive(z, truth)
    x = symbols("x", (2,))
    real_x = derive(x, x**2)
    checks = dict(complex_z.checks)
    checks.update({f"real z: {k}": v for k, v in real_x.checks.items()})
    c = complex_z
    return Derivation("abs2", c.inputs, c.output, c.jacobians, c.tangents, c.cotangent, c.jvp, c.vjp, checks)


def derive_phase_mul() -> Derivation:
    """``phase_mul(theta, z) = exp(i theta) ⊙ z`` with broadcasting: ``theta`` real of shape (2, 1),
    ``z = a + i b`` of shape (2,).

    The output has shape (2, 2), so both cotangents are summed back to their
    input's shape, and the cotangent of ``theta`` must come out real.

    >>> derive_phase_mul().checks["vjp = Jᵀ w (real coordinates; real for a real input)"]
    True
    """
    theta, z = symbols("theta", (2, 1)), complex_symbols("a", "b", (2,))
    truth = np.array(
        [[(sympy.cos(theta[i, 0]) + sympy.I * sympy.sin(theta[i, 0])) * z[j] for j in range(2)] for i in range(2)],
        dtype=object,
    )
    return confirm_complex_rules(
        "phase_mul",
        {"theta": theta, "z": z},
        truth,
        rules.phase_mul(theta, z, sympy_ops),
        lambda t: rules.phase_mul_tangent(theta, z, t["theta"], t["z"], sympy_ops),
        lambda w: dict(zip(("theta", "z"), rules.phase_mul_cotangents(theta, z, w, sympy_ops))),
    )


def _complex(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


_ABS2_BENCHMARKS = {f"n={n}": lambda rng, n=n: (_complex(rng, (n,)),) for n in (65536, 1048576)}
"""Complex vectors for ``python -m benchmarks``: the rules are O(n)."""
_PHASE_MUL_BENCHMARKS = {
    "n=65536": lambda rng: (rng.standard_normal(65536), _complex(rng, (65536,))),
    "1024×1024 (broadcast)": lambda rng: (rng.standard_normal((1024, 1)), _complex(rng, (1024,))),
}
"""Same shapes, and a broadcast whose cotangents are sums over 1024 entries each."""

_ints = np.arange(6).reshape(2, 3)
_z = np.ones(3, np.complex128)
_ABS2_DTYPES = r"a complex or real floating dtype \(complex64/128, float16/32/64, bfloat16\)"

OPS: tuple[Op, ...] = (
    Op(
        name="abs2",
        family="complex",
        arg_names=("z",),
        chapter="ch-complex",
        formula="|z|² (real output; z complex or real)",
        reference=lambda xp, z: xp.abs(z) ** 2,
        cases={
            "complex": lambda rng: (_complex(rng, (3, 4)),),
            "real": lambda rng: (rng.standard_normal(5),),
        },
        derive=derive_abs2,
        validate=rules.check_abs2,
        benchmark_cases=_ABS2_BENCHMARKS,
        bad_inputs=(
            BadInput("integer z", (_ints,), TypeError, rf"abs2: z must have {_ABS2_DTYPES}; got dtype int64"),
            BadInput("boolean z", (np.ones(2, bool),), TypeError, rf"abs2: z must have {_ABS2_DTYPES}; got dtype bool"),
        ),
    ),
    Op(
        name="phase_mul",
        family="complex",
        arg_names=("theta", "z"),
        chapter="ch-complex",
        formula="e^{iθ} ⊙ z (θ real, z complex, broadcasting)",
        reference=lambda xp, theta, z: xp.exp(1j * theta) * z,
        cases={
            "same_shape": lambda rng: (rng.standard_normal((3, 4)), _complex(rng, (3, 4))),
            "broadcast": lambda rng: (rng.standard_normal((3, 1)), _complex(rng, (4,))),
        },
        derive=derive_phase_mul,
        validate=rules.check_phase_mul,
        benchmark_cases=_PHASE_MUL_BENCHMARKS,
        bad_inputs=(
            BadInput("complex theta", (_z, _z), TypeError,
                     r"phase_mul: theta must have a real floating dtype \(float32/float64\): the phase angle "
                     r"in radians; got dtype complex128"),
            BadInput("integer theta", (np.arange(3), _z), TypeError,
                     r"phase_mul: theta must have a real floating dtype .*; got dtype int64"),
            BadInput("real z", (np.ones(3), np.ones(3)), TypeError,
                     r"phase_mul: z must have a complex dtype \(complex64/complex128\); got dtype float64"),
            BadInput("integer z", (np.ones(3), np.arange(3)), TypeError,
                     r"phase_mul: z must have a complex dtype .*; got dtype int64"),
            BadInput("boolean z", (np.ones(3), np.ones(3, bool)), TypeError,
                     r"phase_mul: z must have a complex dtype .*; got dtype bool"),
            BadInput("mismatched precision", (np.ones(3, np.float32), _z), TypeError,
                     r"phase_mul: theta and z must have the same precision \(theta float32 with z complex64, "
                     r"or float64 with complex128\); got theta is float32, z is complex128"),
            BadInput("shapes do not broadcast", (np.ones(3), np.ones(4, np.complex128)), ValueError,
                     r"phase_mul: theta and z must have shapes that broadcast together; got shapes \(3,\) and \(4,\)"),
        ),
    ),
)
