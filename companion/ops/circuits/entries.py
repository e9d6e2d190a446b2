"""Registry entries of the circuits family, with the SymPy derivation.

>>> [op.name for op in OPS]
['circuit_expectation']
>>> derive_circuit_expectation().confirmed
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sympy

from companion.derivation import Derivation, confirm_rules, exact, symbols
from companion.ops import BadInput, Op
from companion.ops.circuits import rules
from companion.xp.sympy import sympy_ops

__all__ = [
    "OPS", "derive_circuit_expectation", "dense_expectation", "EXAMPLE_GATES", "EXAMPLE_OBSERVABLE",
]

# --------------------------------------------------------------------------
# The independent oracle: dense 2^n × 2^n matrices (Kronecker products), ψ = U|0…0⟩
# --------------------------------------------------------------------------

_PAULI = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.diag([1.0, -1.0]).astype(complex),
}
_HADAMARD = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2)
_P0, _P1 = np.diag([1.0, 0.0]).astype(complex), np.diag([0.0, 1.0]).astype(complex)


def _kron(factors: dict[int, np.ndarray], n: int) -> np.ndarray:
    """``F_0 ⊗ F_1 ⊗ … ⊗ F_{n−1}`` (identity where no factor is given): wire 0 is the leftmost factor,
    the most significant bit of the row index."""
    out = np.ones((1, 1), dtype=complex)
    for wire in range(n):
        out = np.kron(out, factors.get(wire, _PAULI["I"]))
    return out


def dense_expectation(xp: Any, theta: Any, gates: rules.Gates, observable: rules.Observable,
                      n_qubits: int) -> Any:
    """``⟨ψ|H|ψ⟩`` with ``ψ = U_G … U_1 e₀``, every gate a dense ``2^n × 2^n`` matrix
    (``R_P(θ) = cos(θ/2) I − i sin(θ/2) P``, ``CNOT = P₀ ⊗ I + P₁ ⊗ X``), from ``xp``'s own
    ``cos``, ``sin``, ``@``: independent of the state-vector rules.

    >>> import numpy as np
    >>> round(float(dense_expectation(np, np.array([0.3]), (("RX", (0,)),), ((1.0, "Z"),), 1)), 12)
    0.955336489126
    """
    n = n_qubits
    eye = xp.asarray(_kron({}, n))
    U, k = eye, 0
    for name, wires in gates:
        if name in rules.ROTATIONS:
            P = xp.asarray(_kron({wires[0]: _PAULI[rules.ROTATIONS[name]]}, n))
            G = xp.cos(theta[k] / 2) * eye - 1j * xp.sin(theta[k] / 2) * P
            k += 1
        elif name == "H":
            G = xp.asarray(_kron({wires[0]: _HADAMARD}, n))
        else:
            c, t = wires
            G = xp.asarray(_kron({c: _P0}, n) + _kron({c: _P1, t: _PAULI["X"]}, n))
        U = G @ U
    H = xp.asarray(sum(coef * _kron(dict(enumerate(_PAULI[p] for p in word)), n) for coef, word in observable))
    psi = U[:, 0]
    return xp.real(xp.conj(psi) @ (H @ psi))


# --------------------------------------------------------------------------
# The SymPy derivation
# --------------------------------------------------------------------------

_SYM_GATES: rules.Gates = (("RY", (0,)), ("RX", (1,)), ("CNOT", (0, 1)), ("RZ", (1,)))
_SYM_OBS: rules.Observable = ((0.5, "ZI"), (1.0, "XY"), (-0.25, "ZZ"))


def _symbolic_expectation(theta: np.ndarray) -> sympy.Expr:
    """The closed form ``ψᴴ H ψ`` of the two-qubit circuit, from SymPy matrices (Kronecker products)."""
    Mat = sympy.Matrix
    pauli = {
        "I": sympy.eye(2), "X": Mat([[0, 1], [1, 0]]), "Y": Mat([[0, -sympy.I], [sympy.I, 0]]),
        "Z": Mat([[1, 0], [0, -1]]),
    }
    kron = sympy.kronecker_product

    def on(wire: int, m: sympy.Matrix) -> sympy.Matrix:
        return kron(m, sympy.eye(2)) if wire == 0 else kron(sympy.eye(2), m)

    U, k = sympy.eye(4), 0
    for name, wires in _SYM_GATES:
        if name in rules.ROTATIONS:
            t = theta[k]
            P = pauli[rules.ROTATIONS[name]]
            G = on(wires[0], sympy.cos(t / 2) * sympy.eye(2) - sympy.I * sympy.sin(t / 2) * P)
            k += 1
        else:  # CNOT (0, 1)
            G = kron(Mat([[1, 0], [0, 0]]), sympy.eye(2)) + kron(Mat([[0, 0], [0, 1]]), pauli["X"])
        U = G * U
    H = sum((sympy.Rational(c) * kron(pauli[w[0]], pauli[w[1]]) for c, w in _SYM_OBS), sympy.zeros(4))
    psi = U[:, 0]
    return sympy.expand_complex(sympy.expand((psi.H * H * psi)[0, 0]))


def derive_circuit_expectation() -> Derivation:
    """``circuit_expectation`` on a two-qubit circuit (``RY, RX, CNOT, RZ``) with symbolic θ.

    The truth is the closed-form ``ψᴴ H ψ`` from SymPy matrices; the rules run on
    object arrays (``sympy_ops``). Confirmed besides: ``R_P(θ) = exp(−iθP/2)``
    equals ``cos(θ/2) I − i sin(θ/2) P`` (SymPy's matrix exponential) for ``P = X, Y, Z``,
    and the parameter-shift rule ``∂f/∂θ_k = [f(θ + π/2 e_k) − f(θ − π/2 e_k)]/2``.

    >>> d = derive_circuit_expectation()
    >>> d.checks["parameter shift = ∂f/∂θ_k"], d.checks["R_P(θ) = exp(−iθP/2), P = X, Y, Z"]
    (True, True)
    """
    theta = symbols("theta", (3,))
    truth = np.array(_symbolic_expectation(theta), dtype=object)

    def laurent(a: Any) -> np.ndarray:
        """Trigonometric polynomials as polynomials in exp(±iθ_k/2): identities become cancellations."""
        def form(e: Any) -> Any:
            return sympy.expand(sympy.expand_complex(sympy.expand(e)).rewrite(sympy.exp))

        return np.vectorize(form, otypes=[object])(exact(a))

    args = (_SYM_GATES, _SYM_OBS, 2)
    d = confirm_rules(
        "circuit_expectation",
        {"theta": theta},
        laurent(truth),
        laurent(rules.circuit_expectation(theta, *args, sympy_ops)),
        lambda t: laurent(rules.circuit_expectation_tangent(theta, t["theta"], *args, sympy_ops)),
        lambda w: {"theta": laurent(rules.circuit_expectation_cotangents(theta, *args, w, sympy_ops)[0])},
    )
    t = sympy.Symbol("t", real=True)
    paulis = (sympy.Matrix([[0, 1], [1, 0]]), sympy.Matrix([[0, -sympy.I], [sympy.I, 0]]),
              sympy.Matrix([[1, 0], [0, -1]]))
    rotation_ok = all(
        sympy.simplify((-sympy.I * t * P / 2).exp()
                       - (sympy.cos(t / 2) * sympy.eye(2) - sympy.I * sympy.sin(t / 2) * P)).is_zero_matrix
        for P in paulis
    )
    f = laurent(truth).item()
    shift_ok = all(
        sympy.expand(
            (f.subs(theta[k], theta[k] + sympy.pi / 2) - f.subs(theta[k], theta[k] - sympy.pi / 2)) / 2
            - sympy.diff(f, theta[k])
        ) == 0
        for k in range(len(theta))
    )
    checks = dict(d.checks)
    checks["R_P(θ) = exp(−iθP/2), P = X, Y, Z"] = bool(rotation_ok)
    checks["parameter shift = ∂f/∂θ_k"] = bool(shift_ok)
    jacobians = {"theta": sympy.Matrix([truth.item()]).jacobian(list(theta))}  # shown in trigonometric form
    return Derivation(d.op, d.inputs, truth, jacobians, d.tangents, d.cotangent, d.jvp, d.vjp, checks)


# --------------------------------------------------------------------------
# The entry: a fixed three-qubit circuit
# --------------------------------------------------------------------------

EXAMPLE_GATES: rules.Gates = (
    ("RY", (0,)), ("RX", (1,)), ("H", (2,)), ("CNOT", (0, 1)), ("RZ", (1,)),
    ("CNOT", (1, 2)), ("RY", (2,)), ("CNOT", (2, 0)), ("RX", (0,)), ("RZ", (2,)),
)
"""The registry's circuit: 3 qubits, 6 rotations, 3 CNOTs and a Hadamard."""
EXAMPLE_OBSERVABLE: rules.Observable = ((0.5, "ZIZ"), (1.0, "XXI"), (-0.7, "IYZ"), (0.3, "YIX"))
"""The registry's observable: four Pauli strings, letter k on wire k."""
_N = 3
_P = sum(name in rules.ROTATIONS for name, _ in EXAMPLE_GATES)


def _validate_example(theta: Any, array_type: str = "an array") -> None:
    rules.check_circuit_expectation(theta, EXAMPLE_GATES, EXAMPLE_OBSERVABLE, _N, array_type)


_ROT = r"circuit_expectation: theta must have one angle per rotation gate \(RX, RY, RZ\) in gates, 6; "
_REAL = r"circuit_expectation: theta must have a real floating dtype \(float32/float64\): the rotation angles in radians"

OPS: tuple[Op, ...] = (
    Op(
        name="circuit_expectation",
        family="circuits",
        arg_names=("theta",),
        chapter="ch-circuit-adjoints",
        formula="⟨ψ(θ)|H|ψ(θ)⟩, ψ(θ) = U_G(θ)…U_1(θ)|0…0⟩ (3 qubits, 6 rotations)",
        reference=lambda xp, theta: dense_expectation(xp, theta, EXAMPLE_GATES, EXAMPLE_OBSERVABLE, _N),
        cases={"angles": lambda rng: (rng.uniform(-np.pi, np.pi, _P),)},
        derive=derive_circuit_expectation,
        validate=_validate_example,
        bind=lambda public, xp: (lambda theta: public(theta, EXAMPLE_GATES, EXAMPLE_OBSERVABLE, _N)),
        bad_inputs=(
            BadInput("too few angles", (np.zeros(5),), ValueError, _ROT + "got length 5"),
            BadInput("too many angles", (np.zeros(7),), ValueError, _ROT + "got length 7"),
            BadInput("2-D theta", (np.zeros((2, 3)),), ValueError,
                     r"circuit_expectation: theta must be 1-D \(one angle per rotation gate\); got shape \(2, 3\)"),
            BadInput("complex theta", (np.zeros(6, complex),), TypeError, _REAL + "; got dtype complex128"),
            BadInput("integer theta", (np.arange(6),), TypeError, _REAL + "; got dtype int64"),
        ),
    ),
)
