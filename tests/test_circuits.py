"""circuit_expectation: hard cases, the errors it raises, and PennyLane as an independent oracle.

The registry's batteries (tests/test_companion.py) check the op on one fixed
three-qubit circuit against dense matrices. Here: random circuits on four
qubits against the dense oracle and against PennyLane's ``default.qubit``
(``diff_method="adjoint"`` and ``"parameter-shift"``), the wire order, the
real cotangent, the memory the adjoint method keeps, every rejected input, a
deliberately broken rule that these tests catch, and the benchmark's smoke run.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402
from companion.ops.circuits import rules  # noqa: E402
from companion.ops.circuits.entries import EXAMPLE_GATES, EXAMPLE_OBSERVABLE, dense_expectation  # noqa: E402
from companion.xp import numpy_ops  # noqa: E402
from benchmarks.circuits import saved_bytes  # noqa: E402

PEERS = "the peers extra is not installed: pip install -e '.[peers]' (make test installs it)"
TOL = dict(rtol=1e-10, atol=1e-12)  # float64 state vectors: agreement to round-off


def random_circuit(rng: np.random.Generator, n: int, depth: int) -> tuple[rules.Gates, rules.Observable]:
    """``depth`` random gates on ``n`` wires (every kind, CNOTs in both directions) and a random
    observable of three Pauli strings using every letter."""
    gates = []
    for _ in range(depth):
        name = rng.choice(["RX", "RY", "RZ", "RX", "RY", "RZ", "H", "CNOT"])
        if name == "CNOT":
            c, t = rng.choice(n, size=2, replace=False)
            gates.append(("CNOT", (int(c), int(t))))
        else:
            gates.append((str(name), (int(rng.integers(n)),)))
    words = ["".join(rng.choice(list("IXYZ"), size=n)) for _ in range(3)]
    return tuple(gates), tuple((float(c), w) for c, w in zip(rng.standard_normal(3), words))


def n_rotations(gates: rules.Gates) -> int:
    return sum(name in rules.ROTATIONS for name, _ in gates)


CIRCUITS = [random_circuit(np.random.default_rng(seed), 4, 24) for seed in range(3)]
CIRCUITS.append((EXAMPLE_GATES, EXAMPLE_OBSERVABLE))
N_QUBITS = [4, 4, 4, 3]


def _theta(gates: rules.Gates, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(100 + seed).uniform(-np.pi, np.pi, n_rotations(gates))


def _central_differences(f, theta: np.ndarray, h: float = 1e-6) -> np.ndarray:
    e = np.eye(theta.size)
    return np.array([(f(theta + h * e[k]) - f(theta - h * e[k])) / (2 * h) for k in range(theta.size)])


# --------------------------------------------------------------------------
# Values and derivatives against the dense oracle and finite differences
# --------------------------------------------------------------------------


@pytest.mark.parametrize("i", range(len(CIRCUITS)))
def test_value_gradient_and_jvp_agree_with_the_dense_oracle(i: int) -> None:
    gates, obs = CIRCUITS[i]
    n, theta = N_QUBITS[i], _theta(CIRCUITS[i][0], i)
    want = float(dense_expectation(np, theta, gates, obs, n))
    fd = _central_differences(lambda t: float(dense_expectation(np, t, gates, obs, n)), theta)

    t = torch.tensor(theta, requires_grad=True)
    value = ct.circuit_expectation(t, gates, obs, n)
    (grad,) = torch.autograd.grad(value, t)
    np.testing.assert_allclose(value.item(), want, **TOL)
    np.testing.assert_allclose(grad.numpy(), fd, rtol=1e-6, atol=1e-8)  # central differences, h = 1e-6

    with jax.enable_x64(True):
        f = lambda a: cj.circuit_expectation(a, gates, obs, n)  # noqa: E731
        g = lambda a: cj.circuit_expectation_vjp(a, gates, obs, n)  # noqa: E731
        a = jnp.asarray(theta)
        np.testing.assert_allclose(float(jax.jit(f)(a)), want, **TOL)
        np.testing.assert_allclose(np.asarray(jax.grad(g)(a)), grad.numpy(), **TOL)
        np.testing.assert_allclose(np.asarray(jax.grad(f)(a)), grad.numpy(), **TOL)
        v = np.random.default_rng(i).standard_normal(theta.size)
        _, tangent = jax.jvp(f, (a,), (jnp.asarray(v),))
        np.testing.assert_allclose(float(tangent), grad.numpy() @ v, **TOL)


@pytest.mark.parametrize("i", range(len(CIRCUITS)))
def test_parameter_shift_equals_the_adjoint_gradient(i: int) -> None:
    gates, obs = CIRCUITS[i]
    n, theta = N_QUBITS[i], _theta(gates, i)
    shift = rules.circuit_parameter_shift(theta, gates, obs, n, numpy_ops)
    (adjoint,) = rules.circuit_expectation_cotangents(theta, gates, obs, n, np.array(1.0), numpy_ops)
    np.testing.assert_allclose(shift, adjoint, **TOL)


def test_the_cotangent_is_real_in_both_frameworks() -> None:
    gates, obs = CIRCUITS[0]
    theta = _theta(gates)
    t = torch.tensor(theta, requires_grad=True)
    ct.circuit_expectation(t, gates, obs, 4).backward()
    assert t.grad.dtype == torch.float64 and t.grad.shape == t.shape
    assert ct.circuit_expectation(t, gates, obs, 4).dtype == torch.float64
    with jax.enable_x64(True):
        for f in (cj.circuit_expectation, cj.circuit_expectation_vjp):
            g = jax.grad(lambda a, f=f: f(a, gates, obs, 4))(jnp.asarray(theta))
            assert g.dtype == jnp.float64 and g.shape == theta.shape


def test_float32_stays_float32() -> None:
    gates, obs = CIRCUITS[1]
    theta = _theta(gates).astype(np.float32)
    t = torch.tensor(theta, requires_grad=True)
    value = ct.circuit_expectation(t, gates, obs, 4)
    value.backward()
    assert value.dtype == torch.float32 and t.grad.dtype == torch.float32
    np.testing.assert_allclose(value.item(), float(dense_expectation(np, theta.astype(np.float64), gates, obs, 4)),
                               rtol=1e-5, atol=1e-5)
    g = jax.grad(lambda a: cj.circuit_expectation_vjp(a, gates, obs, 4))(jnp.asarray(theta))
    assert g.dtype == jnp.float32


def test_wire_zero_is_the_most_significant_axis() -> None:
    """RX(π) on wire 0 of three qubits: the amplitude −i sits at [1, 0, 0], flat index 4 = 0b100."""
    state = rules.circuit_state(np.array([np.pi]), (("RX", (0,)),), 3, numpy_ops)
    assert state.shape == (2, 2, 2)
    np.testing.assert_allclose(state.reshape(-1), -1j * np.eye(8)[4], atol=1e-15)
    # ⟨Z on wire 0⟩ = −1 and ⟨Z on wire 2⟩ = +1 for that state: the letter k acts on wire k
    for word, want in (("ZII", -1.0), ("IIZ", 1.0)):
        got = rules.circuit_expectation(np.array([np.pi]), (("RX", (0,)),), ((1.0, word),), 3, numpy_ops)
        np.testing.assert_allclose(got, want, atol=1e-15)


def test_a_circuit_without_rotations_has_an_empty_gradient() -> None:
    t = torch.zeros(0, dtype=torch.float64, requires_grad=True)
    bell = (("H", (0,)), ("CNOT", (0, 1)))
    value = ct.circuit_expectation(t, bell, ((1.0, "ZZ"), (1.0, "XX")), 2)
    value.backward()
    assert math.isclose(value.item(), 2.0) and t.grad.shape == (0,)


# --------------------------------------------------------------------------
# The adjoint method's memory: one state, whatever the number of parameters
# --------------------------------------------------------------------------


def test_the_adjoint_method_saves_theta_and_one_state() -> None:
    n = 6
    for layers in (2, 8):
        gates = tuple(("RY", (w,)) for _ in range(layers) for w in range(n)) + tuple(
            ("CNOT", (w, w + 1)) for w in range(n - 1)
        )
        obs = ((1.0, "Z" * n),)
        theta = torch.tensor(_theta(gates), requires_grad=True)
        saved = saved_bytes(lambda t: ct.circuit_expectation(t, gates, obs, n), theta)
        assert saved == theta.numel() * 8 + 2**n * 16  # theta (float64) + ψ (complex128)
        through = saved_bytes(lambda t: rules.circuit_expectation(t, gates, obs, n, ct.torch_ops), theta)
        assert through > 2 * layers * 2**n * 16  # autodiff through the simulator keeps states per gate


# --------------------------------------------------------------------------
# Rejected inputs: each error names the argument, what it got and what was expected
# --------------------------------------------------------------------------

_G = (("RX", (0,)), ("CNOT", (0, 1)))
_O = ((1.0, "ZZ"),)
BAD = [
    ("unknown gate", dict(gates=(("RW", (0,)),)), ValueError, r"gates\[0\] has an unknown gate name 'RW'; expected one of RX, RY, RZ, H, CNOT"),
    ("wire out of range", dict(gates=(("RX", (2,)),)), ValueError, r"gates\[0\] \(RX\) has wire 2 out of range; expected 0 ≤ wire < n_qubits = 2"),
    ("negative wire", dict(gates=(("H", (-1,)),)), ValueError, r"gates\[0\] \(H\) has wire -1 out of range"),
    ("CNOT on one wire", dict(gates=(("RX", (0,)), ("CNOT", (1, 1)))), ValueError, r"gates\[1\] \(CNOT\) must have control ≠ target; got wires \(1, 1\)"),
    ("CNOT with one wire", dict(gates=(("CNOT", (1,)),)), ValueError, r"gates\[0\] \(CNOT\) acts on 2 wire\(s\); got wires \(1,\)"),
    ("gate not a pair", dict(gates=("RX",)), ValueError, r"gates\[0\] must be a \(name, wires\) pair; got 'RX'"),
    ("gates not a sequence", dict(gates="RX"), TypeError, r"gates must be a sequence of \(name, wires\) pairs; got str"),
    ("Pauli string too short", dict(observable=((1.0, "Z"),)), ValueError, r"observable\[0\] must have a Pauli string of n_qubits = 2 letters from I, X, Y, Z .*; got 'Z'"),
    ("bad Pauli letter", dict(observable=((1.0, "ZA"),)), ValueError, r"observable\[0\] must have a Pauli string .*; got 'ZA'"),
    ("complex coefficient", dict(observable=((1j, "ZZ"),)), TypeError, r"observable\[0\] must have a real coefficient; got 1j"),
    ("empty observable", dict(observable=()), ValueError, r"observable must have at least one"),
    ("n_qubits zero", dict(n_qubits=0), ValueError, r"n_qubits must be a positive int; got 0"),
    ("n_qubits float", dict(n_qubits=2.0), TypeError, r"n_qubits must be a positive int; got float"),
    ("theta too long", dict(theta=np.zeros(2)), ValueError, r"theta must have one angle per rotation gate \(RX, RY, RZ\) in gates, 1; got length 2"),
    ("theta 0-d", dict(theta=np.float64(0.1)), ValueError, r"theta must be 1-D \(one angle per rotation gate\); got shape \(\)"),
    ("theta complex", dict(theta=np.zeros(1, complex)), TypeError, r"theta must have a real floating dtype \(float32/float64\).*; got dtype complex(64|128)"),
]


@pytest.mark.parametrize("why, change, error, match", BAD, ids=[b[0] for b in BAD])
def test_bad_inputs_are_rejected_in_both_frameworks(why: str, change: dict, error: type, match: str) -> None:
    args = dict(theta=np.zeros(1), gates=_G, observable=_O, n_qubits=2) | change
    with pytest.raises(error, match="circuit_expectation: " + match):
        ct.circuit_expectation(torch.as_tensor(args["theta"]), args["gates"], args["observable"], args["n_qubits"])
    for f in (cj.circuit_expectation, cj.circuit_expectation_vjp):
        with pytest.raises(error, match="circuit_expectation: " + match):
            f(args["theta"], args["gates"], args["observable"], args["n_qubits"])


def test_lists_are_accepted_and_made_static_for_jit() -> None:
    gates = [["RX", [0]], ("CNOT", [0, 1])]
    with jax.enable_x64(True):
        f = jax.jit(lambda t: cj.circuit_expectation(t, gates, [[1, "ZI"]], 2))
        np.testing.assert_allclose(float(f(jnp.asarray([0.3]))), math.cos(0.3), **TOL)


# --------------------------------------------------------------------------
# A broken rule is caught
# --------------------------------------------------------------------------


@pytest.mark.parametrize("broken", ["no conjugate", "real part"])
def test_a_broken_adjoint_rule_fails_these_checks(monkeypatch: pytest.MonkeyPatch, broken: str) -> None:
    gates, obs = CIRCUITS[0]
    theta = _theta(gates)
    fd = _central_differences(lambda t: float(dense_expectation(np, t, gates, obs, 4)), theta)
    if broken == "no conjugate":
        monkeypatch.setattr(rules, "_inner", lambda a, b, xp: (a * b).sum())
    else:  # Re⟨λ|Pψ⟩ where the rule reads Im⟨λ|Pψ⟩ (the factor −i/2 of ∂R_P forgotten)
        monkeypatch.setattr(type(numpy_ops), "imag", staticmethod(np.real), raising=False)
    (got,) = rules.circuit_expectation_cotangents(theta, gates, obs, 4, np.array(1.0), numpy_ops)
    assert not np.allclose(got, fd, rtol=1e-6, atol=1e-8)


# --------------------------------------------------------------------------
# PennyLane's default.qubit as an independent oracle
# --------------------------------------------------------------------------


def _pennylane_qnode(qml, gates: rules.Gates, obs: rules.Observable, n: int, diff_method: str):
    ops = {"RX": qml.RX, "RY": qml.RY, "RZ": qml.RZ}
    paulis = {"X": qml.PauliX, "Y": qml.PauliY, "Z": qml.PauliZ}
    terms = []
    for _, word in obs:
        factors = [paulis[p](wire) for wire, p in enumerate(word) if p != "I"]
        terms.append(qml.prod(*factors) if len(factors) > 1 else factors[0] if factors else qml.Identity(0))
    H = qml.Hamiltonian([c for c, _ in obs], terms)
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev, diff_method=diff_method, interface="autograd")
    def circuit(theta):
        k = 0
        for name, wires in gates:
            if name in ops:
                ops[name](theta[k], wires=wires[0])
                k += 1
            elif name == "H":
                qml.Hadamard(wires=wires[0])
            else:
                qml.CNOT(wires=list(wires))
        return qml.expval(H)

    return circuit


@pytest.mark.parametrize("diff_method", ["adjoint", "parameter-shift"])
@pytest.mark.parametrize("i", range(len(CIRCUITS)))
def test_pennylane_default_qubit_agrees(i: int, diff_method: str) -> None:
    """PennyLane 0.45's default.qubit (autograd interface, float64): values and gradients agree with
    the companion's to 1e-10 relative (both methods are exact; only round-off differs)."""
    qml = pytest.importorskip("pennylane", reason=PEERS)
    from pennylane import numpy as pnp

    gates, obs = CIRCUITS[i]
    n, theta = N_QUBITS[i], _theta(gates, i)
    circuit = _pennylane_qnode(qml, gates, obs, n, diff_method)
    p = pnp.array(theta, requires_grad=True)
    want_value, want_grad = float(circuit(p)), np.asarray(qml.grad(circuit)(p))

    t = torch.tensor(theta, requires_grad=True)
    value = ct.circuit_expectation(t, gates, obs, n)
    value.backward()
    np.testing.assert_allclose(value.item(), want_value, **TOL)
    np.testing.assert_allclose(t.grad.numpy(), want_grad, **TOL)
    with jax.enable_x64(True):
        g = jax.grad(lambda a: cj.circuit_expectation_vjp(a, gates, obs, n))(jnp.asarray(theta))
    np.testing.assert_allclose(np.asarray(g), want_grad, **TOL)


def test_pennylane_state_has_the_same_wire_order() -> None:
    qml = pytest.importorskip("pennylane", reason=PEERS)
    gates, _ = CIRCUITS[0]
    theta = _theta(gates)
    dev = qml.device("default.qubit", wires=4)

    @qml.qnode(dev)
    def state():
        k = 0
        for name, wires in gates:
            if name in rules.ROTATIONS:
                getattr(qml, name)(theta[k], wires=wires[0])
                k += 1
            elif name == "H":
                qml.Hadamard(wires=wires[0])
            else:
                qml.CNOT(wires=list(wires))
        return qml.state()

    ours = rules.circuit_state(theta, gates, 4, numpy_ops).reshape(-1)
    np.testing.assert_allclose(ours, np.asarray(state()), **TOL)


# --------------------------------------------------------------------------
# The benchmark's smoke run
# --------------------------------------------------------------------------


def test_the_benchmark_runs_quick(tmp_path) -> None:
    from benchmarks import circuits

    out = tmp_path / "circuits.json"
    circuits.main(["--quick", "--json", str(out)])
    import json

    results = json.loads(out.read_text())
    assert [r["P"] for r in results["figures"]] == [12, 24]
    assert all(r["adjoint_saved_bytes"] < r["autodiff_saved_bytes"] for r in results["figures"])
    assert all(r["max_gradient_difference"] < 1e-10 for r in results["figures"])
