"""Circuit rules, written once: ``circuit_expectation(theta) = ⟨ψ(θ)| H |ψ(θ)⟩`` by state-vector
simulation, its JVP (a tangent state carried forward) and its VJP (the adjoint method).

**Conventions.** A state of ``n`` qubits is a complex array of shape
``(2,) * n``; axis ``k`` is wire ``k``, and wire 0 is the most significant:
the amplitude of the basis state ``|b₀ b₁ … b_{n−1}⟩`` is ``ψ[b₀, b₁, …]``,
the entry ``Σ_k b_k 2^{n−1−k}`` of the flattened state (PennyLane's order).
``gates`` is a sequence of ``(name, wires)``: ``"RX"``, ``"RY"``, ``"RZ"``
(one wire; each consumes the next entry of ``theta``, in order), ``"H"`` (one
wire) and ``"CNOT"`` (``(control, target)``). A rotation is
``R_P(θ) = exp(−iθP/2) = cos(θ/2) I − i sin(θ/2) P``. ``observable`` is a sum
of Pauli strings ``[(c, "ZIX"), …]`` whose character ``k`` acts on wire ``k``.
Inner products are ``⟨a|b⟩ = Σ conj(a) ⊙ b``.

With ``ψ_k = U_k … U_1 |0…0⟩`` (``ψ = ψ_G``) and ``λ_k = U_{k+1}ᴴ … U_Gᴴ H ψ``:

* value: ``f = Re⟨ψ|Hψ⟩``;
* JVP: ``ψ̇_k = U_k ψ̇_{k−1} − (i/2) θ̇_k P_k ψ_k`` (``ψ̇_0 = 0``), ``ḟ = 2 Re⟨Hψ|ψ̇⟩``;
* VJP: ``θ̄_k = ō · Im⟨λ_k|P_k ψ_k⟩`` for the rotation ``k`` about ``P_k``,
  read off one backward sweep that un-applies each gate to ``ψ`` and ``λ``.

theta, the value and the cotangent are real; the states are complex only
inside the rules, so no framework's complex convention reaches ``θ̄``.

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> gates, obs = (("RY", (0,)),), ((1.0, "Z"),)
>>> theta = np.array([np.pi / 3])
>>> round(float(circuit_expectation(theta, gates, obs, 1, numpy_ops)), 12)  # cos θ
0.5
>>> circuit_expectation_cotangents(theta, gates, obs, 1, np.array(1.0), numpy_ops)[0].round(6)  # −sin θ
array([-0.866025])
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from companion import _validate
from companion.xp import ArrayOps

__all__ = [
    "circuit_expectation",
    "circuit_expectation_tangent",
    "circuit_expectation_cotangents",
    "circuit_parameter_shift",
    "circuit_state",
    "circuit_state_and_tangent",
    "apply_gate",
    "apply_observable",
    "zero_state",
    "normalise_circuit",
    "check_circuit",
    "check_circuit_expectation",
]

Array = Any
Gates = tuple[tuple[str, tuple[int, ...]], ...]
Observable = tuple[tuple[float, str], ...]

ROTATIONS = {"RX": "X", "RY": "Y", "RZ": "Z"}
"""The parametrised gates and the Pauli matrix ``P`` each one rotates about."""
GATES = {"RX": 1, "RY": 1, "RZ": 1, "H": 1, "CNOT": 2}
"""Every gate name and the number of wires it acts on."""
_SQRT_HALF = 0.5**0.5

# --------------------------------------------------------------------------
# The simulator: a gate acts on its wires' axes of the state tensor
# --------------------------------------------------------------------------


def zero_state(n_qubits: int, theta: Array, xp: ArrayOps) -> Array:
    """``|0…0⟩``: shape ``(2,) * n``, 1 at ``[0, …, 0]``, complex in ``theta``'s precision.

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> zero_state(2, np.zeros(1), numpy_ops)
    array([[1.+0.j, 0.+0.j],
           [0.+0.j, 0.+0.j]])
    """
    zero = theta[:0].sum() + 0j  # a complex 0 of theta's precision, in theta's library
    state = zero + 1
    for _ in range(n_qubits):
        state = xp.stack([state, zero * state])
    return state


def _on_wires(state: Array, wires: Sequence[int], act: Any, xp: ArrayOps) -> Array:
    """``act`` applied to the axes ``wires`` moved to the front, then moved back."""
    front = tuple(range(len(wires)))
    return xp.moveaxis(act(xp.moveaxis(state, tuple(wires), front)), front, tuple(wires))


def _pauli(letter: str, wire: int, state: Array, xp: ArrayOps) -> Array:
    """``P ψ`` for one Pauli matrix ``P`` (``"X"``, ``"Y"``, ``"Z"``) on ``wire``."""
    def act(s: Array) -> Array:
        s0, s1 = s[0], s[1]
        if letter == "X":
            return xp.stack([s1, s0])
        if letter == "Y":
            return xp.stack([-1j * s1, 1j * s0])
        return xp.stack([s0, -s1])

    return _on_wires(state, (wire,), act, xp)


def apply_gate(name: str, wires: Sequence[int], state: Array, angle: Array | None,
               xp: ArrayOps, adjoint: bool = False) -> Array:
    """``U ψ`` (``Uᴴ ψ`` with ``adjoint``) for one gate;
    ``R_P(θ)ψ = cos(θ/2) ψ − i sin(θ/2) Pψ``.

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> zero = zero_state(2, np.zeros(1), numpy_ops)
    >>> psi = apply_gate("H", (0,), zero, None, numpy_ops)
    >>> apply_gate("CNOT", (0, 1), psi, None, numpy_ops).round(6)  # the Bell state
    array([[0.707107+0.j, 0.      +0.j],
           [0.      +0.j, 0.707107+0.j]])
    """
    if name in ROTATIONS:
        half = -angle / 2 if adjoint else angle / 2  # R_P(θ)ᴴ = R_P(−θ)
        pauli = _pauli(ROTATIONS[name], wires[0], state, xp)
        return xp.cos(half) * state - 1j * xp.sin(half) * pauli
    if name == "H":  # self-inverse
        def hadamard(s: Array) -> Array:
            return _SQRT_HALF * xp.stack([s[0] + s[1], s[0] - s[1]])

        return _on_wires(state, wires, hadamard, xp)

    def cnot(s: Array) -> Array:  # on the control's |1⟩ half, swap the target's halves
        return xp.stack([s[0], xp.stack([s[1][1], s[1][0]])])

    return _on_wires(state, wires, cnot, xp)  # self-inverse


def apply_observable(observable: Observable, state: Array, xp: ArrayOps) -> Array:
    """``H ψ = Σ_j c_j P_j ψ``, each Pauli string ``P_j`` applied letter by letter (``I`` skipped).

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> apply_observable(
    ...     ((2.0, "ZI"), (1.0, "IX")), zero_state(2, np.zeros(1), numpy_ops), numpy_ops
    ... )
    array([[2.+0.j, 1.+0.j],
           [0.+0.j, 0.+0.j]])
    """
    total = None
    for c, word in observable:
        term = state
        for wire, letter in enumerate(word):
            if letter != "I":
                term = _pauli(letter, wire, term, xp)
        total = c * term if total is None else total + c * term
    return total


def _inner(a: Array, b: Array, xp: ArrayOps) -> Array:
    """``⟨a|b⟩ = Σ conj(a) ⊙ b``."""
    return (xp.conj(a) * b).sum()


def circuit_state(theta: Array, gates: Gates, n_qubits: int, xp: ArrayOps) -> Array:
    """``ψ(θ) = U_G(θ) … U_1(θ) |0…0⟩``, shape ``(2,) * n``.

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> circuit_state(np.array([np.pi]), (("RX", (0,)),), 1, numpy_ops).round(12)  # −i|1⟩
    array([0.+0.j, 0.-1.j])
    """
    state, k = zero_state(n_qubits, theta, xp), 0
    for name, wires in gates:
        angle = None
        if name in ROTATIONS:
            angle, k = theta[k], k + 1
        state = apply_gate(name, wires, state, angle, xp)
    return state


# --------------------------------------------------------------------------
# The value, its JVP and its VJP
# --------------------------------------------------------------------------


def circuit_expectation(
    theta: Array, gates: Gates, observable: Observable, n_qubits: int, xp: ArrayOps
) -> Array:
    """Primal: ``f(θ) = ⟨ψ(θ)| H |ψ(θ)⟩ = Re Σ conj(ψ) ⊙ Hψ`` (real), ``ψ(θ) = U_G … U_1 |0…0⟩``.

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> bell = (("H", (0,)), ("CNOT", (0, 1)))
    >>> observable = ((1.0, "ZZ"), (0.5, "XX"))
    >>> y = circuit_expectation(np.zeros(0), bell, observable, 2, numpy_ops)
    >>> round(float(y), 12)
    1.5
    """
    state = circuit_state(theta, gates, n_qubits, xp)
    return xp.real(_inner(state, apply_observable(observable, state, xp), xp))


def circuit_state_and_tangent(
    theta: Array, theta_dot: Array, gates: Gates, n_qubits: int, xp: ArrayOps
) -> tuple[Array, Array]:
    """``ψ`` and ``ψ̇ = Σ_k θ̇_k ∂ψ/∂θ_k`` in one forward sweep:
    ``ψ̇_k = U_k ψ̇_{k−1} − (i/2) θ̇_k P_k ψ_k``, ``ψ̇_0 = 0`` (one extra state).

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> ry = (("RY", (0,)),)
    >>> theta, theta_dot = np.zeros(1), np.ones(1)
    >>> psi, psi_dot = circuit_state_and_tangent(theta, theta_dot, ry, 1, numpy_ops)
    >>> psi_dot  # d/dθ (cos θ/2, sin θ/2) at 0
    array([0. +0.j, 0.5+0.j])
    """
    state, k = zero_state(n_qubits, theta, xp), 0
    state_dot = 0 * state
    for name, wires in gates:
        if name in ROTATIONS:
            state = apply_gate(name, wires, state, theta[k], xp)
            state_dot = apply_gate(name, wires, state_dot, theta[k], xp)
            p_state = _pauli(ROTATIONS[name], wires[0], state, xp)
            state_dot = state_dot - 0.5j * theta_dot[k] * p_state
            k += 1
        else:
            state = apply_gate(name, wires, state, None, xp)
            state_dot = apply_gate(name, wires, state_dot, None, xp)
    return state, state_dot


def circuit_expectation_tangent(
    theta: Array,
    theta_dot: Array,
    gates: Gates,
    observable: Observable,
    n_qubits: int,
    xp: ArrayOps,
) -> Array:
    """JVP: ``ḟ = 2 Re⟨Hψ|ψ̇⟩``, ``ψ̇_k = U_k ψ̇_{k−1} − (i/2) θ̇_k P_k ψ_k`` (a tangent state swept forward).

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> gates, obs = (("RY", (0,)),), ((1.0, "Z"),)
    >>> float(
    ...     circuit_expectation_tangent(
    ...         np.array([np.pi / 2]), np.ones(1), gates, obs, 1, numpy_ops
    ...     )
    ... )
    -1.0
    """
    state, state_dot = circuit_state_and_tangent(theta, theta_dot, gates, n_qubits, xp)
    return 2 * xp.real(_inner(apply_observable(observable, state, xp), state_dot, xp))


def circuit_expectation_cotangents(
    theta: Array,
    gates: Gates,
    observable: Observable,
    n_qubits: int,
    out_bar: Array,
    xp: ArrayOps,
    needs: Sequence[bool] = (True,),
    state: Array | None = None,
) -> tuple[Array | None]:
    """VJP (adjoint method): ``θ̄_k = ō · Im⟨λ_k|P_k ψ_k⟩``,
    ``λ_k = U_{k+1}ᴴ … U_Gᴴ H ψ``.

    One backward sweep from ``ψ = ψ_G`` (``state``, the forward pass's final
    state; recomputed from ``theta`` when not given) and ``λ_G = H ψ``: at each
    rotation read ``Im⟨λ_k|P_k ψ_k⟩``, then un-apply the gate to both,
    ``ψ_{k−1} = U_kᴴ ψ_k``, ``λ_{k−1} = U_kᴴ λ_k``. O(G) gate applications and
    three states (ψ, λ, P_k ψ), whatever the number of parameters. Real, of
    ``theta``'s shape.

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> gates, obs = (("RY", (0,)),), ((1.0, "Z"),)  # f = cos θ
    >>> theta, out_bar = np.array([np.pi / 2]), np.array(2.0)
    >>> circuit_expectation_cotangents(theta, gates, obs, 1, out_bar, numpy_ops)
    (array([-2.]),)
    """
    if not needs[0]:
        return (None,)
    psi = circuit_state(theta, gates, n_qubits, xp) if state is None else state
    lam = apply_observable(observable, psi, xp)
    k = sum(name in ROTATIONS for name, _ in gates)
    theta_bar = []
    for name, wires in reversed(gates):
        angle = None
        if name in ROTATIONS:
            k -= 1
            angle = theta[k]
            p_psi = _pauli(ROTATIONS[name], wires[0], psi, xp)
            theta_bar.append(out_bar * xp.imag(_inner(lam, p_psi, xp)))
        psi = apply_gate(name, wires, psi, angle, xp, adjoint=True)
        lam = apply_gate(name, wires, lam, angle, xp, adjoint=True)
    if not theta_bar:
        return (0 * theta,)
    return (xp.stack(theta_bar[::-1]),)


def circuit_parameter_shift(
    theta: Array, gates: Gates, observable: Observable, n_qubits: int, xp: ArrayOps
) -> Array:
    """The gradient by the parameter-shift rule:
    ``∂f/∂θ_k = [f(θ + (π/2) e_k) − f(θ − (π/2) e_k)]/2``, exact for
    ``R_P(θ) = exp(−iθP/2)``; ``2P`` evaluations of the circuit (not a custom rule:
    the method a quantum computer can run, shown for comparison).

    >>> import numpy as np
    >>> from companion.xp import numpy_ops
    >>> gates, obs = (("RY", (0,)), ("RX", (0,))), ((1.0, "Z"),)
    >>> theta = np.array([0.3, -0.4])
    >>> shift = circuit_parameter_shift(theta, gates, obs, 1, numpy_ops)
    >>> one = np.array(1.0)
    >>> (adj,) = circuit_expectation_cotangents(theta, gates, obs, 1, one, numpy_ops)
    >>> bool(np.allclose(shift, adj, rtol=1e-12, atol=1e-14))
    True
    """
    index = xp.arange(theta.shape[0])

    def f(shift: float, k: int) -> Array:  # f(θ + shift e_k)
        shifted = xp.where(index == k, theta + shift, theta)
        return circuit_expectation(shifted, gates, observable, n_qubits, xp)

    half_pi = math.pi / 2
    shifts = [(f(half_pi, k) - f(-half_pi, k)) / 2 for k in range(theta.shape[0])]
    return xp.stack(shifts)


# --------------------------------------------------------------------------
# Input checks: the static circuit, then theta
# --------------------------------------------------------------------------

_OP = "circuit_expectation"


def normalise_circuit(
    gates: Any, observable: Any, n_qubits: Any
) -> tuple[Gates, Observable, int]:
    """``gates``, ``observable`` and ``n_qubits`` checked and made hashable (tuples, ints, floats).

    >>> normalise_circuit([("RX", [0]), ["CNOT", (0, 1)]], [(1, "ZZ")], 2)
    ((('RX', (0,)), ('CNOT', (0, 1))), ((1.0, 'ZZ'),), 2)
    """
    if (
        isinstance(n_qubits, bool)
        or not isinstance(n_qubits, int)
        and not hasattr(n_qubits, "__index__")
    ):
        raise TypeError(
            f"{_OP}: n_qubits must be a positive int; got {type(n_qubits).__name__}"
        )
    n = int(n_qubits.__index__())
    if n < 1:
        raise ValueError(f"{_OP}: n_qubits must be a positive int; got {n}")
    out_gates = []
    for i, gate in enumerate(
        _sequence(gates, "gates", "a sequence of (name, wires) pairs")
    ):
        if not isinstance(gate, (tuple, list)) or len(gate) != 2:
            raise ValueError(
                f"{_OP}: gates[{i}] must be a (name, wires) pair; got {gate!r}"
            )
        name, wires = gate
        if name not in GATES:
            raise ValueError(
                f"{_OP}: gates[{i}] has an unknown gate name {name!r}; expected one of {', '.join(GATES)}"
            )
        wires = (
            (wires,)
            if isinstance(wires, int) and not isinstance(wires, bool)
            else wires
        )
        if not isinstance(wires, (tuple, list)) or not all(
            isinstance(w, int) and not isinstance(w, bool) for w in wires
        ):
            raise TypeError(
                f"{_OP}: gates[{i}] ({name}) must have wires a tuple of ints; got {wires!r}"
            )
        if len(wires) != GATES[name]:
            raise ValueError(
                f"{_OP}: gates[{i}] ({name}) acts on {GATES[name]} wire(s); got wires {tuple(wires)}"
            )
        for w in wires:
            if not 0 <= w < n:
                raise ValueError(
                    f"{_OP}: gates[{i}] ({name}) has wire {w} out of range; expected 0 ≤ wire < "
                    f"n_qubits = {n}"
                )
        if name == "CNOT" and wires[0] == wires[1]:
            raise ValueError(
                f"{_OP}: gates[{i}] (CNOT) must have control ≠ target; got wires {tuple(wires)}"
            )
        out_gates.append((name, tuple(int(w) for w in wires)))
    terms = _sequence(
        observable,
        "observable",
        "a non-empty sequence of (coefficient, Pauli string) pairs",
    )
    if not terms:
        raise ValueError(
            f"{_OP}: observable must have at least one (coefficient, Pauli string) term; got none"
        )
    out_obs = []
    for j, term in enumerate(terms):
        if not isinstance(term, (tuple, list)) or len(term) != 2:
            raise ValueError(
                f"{_OP}: observable[{j}] must be a (coefficient, Pauli string) pair; got {term!r}"
            )
        c, word = term
        if (
            isinstance(c, (complex, bool))
            or not isinstance(c, (int, float))
            and not hasattr(c, "__float__")
        ):
            raise TypeError(
                f"{_OP}: observable[{j}] must have a real coefficient; got {c!r}"
            )
        if not isinstance(word, str) or len(word) != n or set(word) - set("IXYZ"):
            raise ValueError(
                f"{_OP}: observable[{j}] must have a Pauli string of n_qubits = {n} letters from I, X, Y, Z "
                f"(letter k acts on wire k); got {word!r}"
            )
        out_obs.append((float(c), word))
    return tuple(out_gates), tuple(out_obs), n


def _sequence(x: Any, name: str, expected: str) -> Sequence[Any]:
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(f"{_OP}: {name} must be {expected}; got {type(x).__name__}")
    return x


def check_circuit(gates: Any, observable: Any, n_qubits: Any) -> None:
    """The static data: known gate names, wires in range, CNOT control ≠ target, Pauli strings of
    ``n_qubits`` letters from ``IXYZ``, a real coefficient for each (see :func:`normalise_circuit`)."""
    normalise_circuit(gates, observable, n_qubits)


def check_circuit_expectation(
    theta: Any, gates: Any, observable: Any, n_qubits: Any, array_type: str = "an array"
) -> None:
    """The circuit (:func:`check_circuit`), then ``theta``: a real floating 1-D array (float32/64)
    with one angle per rotation gate."""
    gates, observable, n_qubits = normalise_circuit(gates, observable, n_qubits)
    _validate.check_dtypes(
        _OP,
        array_type,
        _validate.LAPACK,
        "a real floating dtype (float32/float64): the rotation angles in radians",
        theta=theta,
    )
    shape = _validate.shape_of(theta)
    if len(shape) != 1:
        raise ValueError(
            f"{_OP}: theta must be 1-D (one angle per rotation gate); got shape {shape}"
        )
    rotations = sum(name in ROTATIONS for name, _ in gates)
    if shape[0] != rotations:
        raise ValueError(
            f"{_OP}: theta must have one angle per rotation gate (RX, RY, RZ) in gates, {rotations}; "
            f"got length {shape[0]}"
        )
