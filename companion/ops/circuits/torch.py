"""PyTorch adapter of the circuit rules: ``CircuitExpectation`` and ``circuit_expectation``.

``theta`` is real and the value is real, so ``backward`` receives a real
``ō`` and returns a real ``θ̄``: the complex states stay inside the rules.
``forward`` returns the final state ``ψ`` as a second, non-differentiable
output, which ``backward`` starts its adjoint sweep from when grad mode is off
(a plain ``backward()`` or ``torch.autograd.grad``). When grad mode is on inside
``backward`` (``create_graph=True``, and every ``torch.func`` transform), it
recomputes ``ψ`` from ``theta`` in differentiable operations, so that second
derivatives see how ``ψ`` depends on ``theta``. This module is wiring.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.circuits import rules  # noqa: E402
from companion.xp.torch import torch_ops, zeros_if_none  # noqa: E402

__all__ = ["circuit_expectation", "CircuitExpectation"]

_TENSOR = "a torch.Tensor"


class CircuitExpectation(torch.autograd.Function):
    """``(θ, gates, observable, n) ↦ (⟨ψ|H|ψ⟩, ψ)``; only the value is differentiable.
    JVP: ``ḟ = 2 Re⟨Hψ|ψ̇⟩`` by a forward tangent sweep.
    VJP: ``θ̄_k = ō Im⟨λ_k|P_k ψ_k⟩`` by the adjoint sweep.

    >>> theta = torch.zeros(1, dtype=torch.float64)
    >>> gates, obs = (("RY", (0,)),), ((1.0, "Z"),)
    >>> value, psi = CircuitExpectation.apply(theta, gates, obs, 1)
    >>> value, psi
    (tensor(1., dtype=torch.float64), tensor([1.+0.j, 0.+0.j], dtype=torch.complex128))
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(theta: Tensor, gates: rules.Gates, observable: rules.Observable,
                n_qubits: int) -> tuple[Tensor, Tensor]:
        state = rules.circuit_state(theta, gates, n_qubits, torch_ops)
        h_state = rules.apply_observable(observable, state, torch_ops)
        return torch.real(torch_ops.conj(state) * h_state).sum(), state

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...],
                      output: tuple[Tensor, Tensor]) -> None:
        theta, ctx.gates, ctx.observable, ctx.n_qubits = inputs
        ctx.mark_non_differentiable(output[1])
        ctx.save_for_backward(theta, output[1])
        ctx.save_for_forward(theta)

    @staticmethod
    def backward(ctx: Any, out_bar: Tensor, _state_bar: Any) -> tuple[Any, ...]:
        theta, state = ctx.saved_tensors
        if torch.is_grad_enabled():  # may be differentiated: ψ must depend on theta
            state = None
        (theta_bar,) = rules.circuit_expectation_cotangents(
            theta, ctx.gates, ctx.observable, ctx.n_qubits, out_bar, torch_ops,
            needs=ctx.needs_input_grad[:1], state=state,
        )
        return theta_bar, None, None, None

    @staticmethod
    def jvp(ctx: Any, theta_dot: Tensor | None, *_: Any) -> tuple[Tensor, None]:
        (theta,) = ctx.saved_tensors
        theta_dot = zeros_if_none(theta_dot, theta)
        out_dot = rules.circuit_expectation_tangent(
            theta, theta_dot, ctx.gates, ctx.observable, ctx.n_qubits, torch_ops
        )
        return out_dot, None


def circuit_expectation(theta: Tensor, gates: Any, observable: Any, n_qubits: int) -> Tensor:
    """``⟨ψ(θ)| H |ψ(θ)⟩`` for ``ψ(θ) = U_G(θ) … U_1(θ) |0…0⟩``; a custom rule
    (:class:`CircuitExpectation`): reverse mode by the adjoint method, forward mode
    by a tangent state.

    ``theta``: real 1-D, one angle per rotation (``"RX"``, ``"RY"``, ``"RZ"``) in
    ``gates``, a sequence of ``(name, wires)`` with names ``RX, RY, RZ, H, CNOT``
    (``("CNOT", (control, target))``); ``observable``: ``[(c, "ZIX"), …]``, letter
    ``k`` acting on wire ``k``; wire 0 is the most significant (PennyLane's order).
    ``R_P(θ) = exp(−iθP/2)``. Returns a real 0-d tensor; ``theta.grad`` is real.

    >>> import math, torch
    >>> theta = torch.tensor([math.pi / 2, 0.3], dtype=torch.float64, requires_grad=True)
    >>> gates = [("RY", 0), ("CNOT", (0, 1)), ("RX", 1)]
    >>> f = circuit_expectation(theta, gates, [(1.0, "ZZ")], 2)  # cos θ₁
    >>> f.backward()
    >>> round(f.item(), 12), theta.grad.round(decimals=12)  # ∂f/∂θ = (0, −sin θ₁)
    (0.955336489126, tensor([ 0.0000, -0.2955], dtype=torch.float64))
    """
    gates, observable, n_qubits = rules.normalise_circuit(gates, observable, n_qubits)
    rules.check_circuit_expectation(theta, gates, observable, n_qubits, _TENSOR)
    return CircuitExpectation.apply(theta, gates, observable, n_qubits)[0]
