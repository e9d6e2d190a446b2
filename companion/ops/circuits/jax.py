"""JAX adapters of the circuit rules: ``circuit_expectation`` (``jax.custom_jvp``) and
``circuit_expectation_vjp`` (``jax.custom_vjp``, the adjoint method).

``gates``, ``observable`` and ``n_qubits`` are static: ``nondiff_argnums``
with hashable tuples (the public functions turn lists into tuples), so a new
circuit is a new trace under ``jit``. ``theta`` and the value are real, so no
complex convention reaches the cotangent: ``bwd`` returns the real ``θ̄`` of
the rules unchanged. Reverse mode of the ``custom_jvp`` version is JAX's
transpose of the tangent sweep, which keeps a state per rotation (``P_k ψ_k``)
as a residual; the ``custom_vjp`` version keeps one (the final state).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.circuits import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "circuit_expectation",
    "circuit_expectation_vjp",
    "circuit_expectation_custom_jvp",
    "circuit_expectation_jvp_rule",
    "circuit_expectation_custom_vjp",
    "circuit_expectation_fwd",
    "circuit_expectation_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


@partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def circuit_expectation_custom_jvp(theta: Array, gates: rules.Gates, observable: rules.Observable,
                                   n_qubits: int) -> Array:
    """``⟨ψ(θ)|H|ψ(θ)⟩`` with the JVP rule :func:`circuit_expectation_jvp_rule`."""
    return rules.circuit_expectation(theta, gates, observable, n_qubits, jax_ops)


@circuit_expectation_custom_jvp.defjvp
def circuit_expectation_jvp_rule(
    gates: rules.Gates, observable: rules.Observable, n_qubits: int,
    primals: tuple[Array], tangents: tuple[Array],
) -> tuple[Array, Array]:
    """JVP: ``ḟ = 2 Re⟨Hψ|ψ̇⟩`` from one forward sweep carrying ``ψ`` and ``ψ̇``.

    >>> gates, obs = (("RY", (0,)),), ((1.0, "Z"),)
    >>> primals, tangents = (jnp.asarray([0.0]),), (jnp.asarray([1.0]),)
    >>> out = circuit_expectation_jvp_rule(gates, obs, 1, primals, tangents)
    >>> [float(a) for a in out]
    [1.0, 0.0]
    """
    (theta,), (theta_dot,) = primals, tangents
    state, state_dot = rules.circuit_state_and_tangent(
        theta, theta_dot, gates, n_qubits, jax_ops
    )
    h_state = rules.apply_observable(observable, state, jax_ops)
    value = jnp.real(jnp.sum(jnp.conj(state) * h_state))
    return value, 2 * jnp.real(jnp.sum(jnp.conj(h_state) * state_dot))


def circuit_expectation(theta: Any, gates: Any, observable: Any, n_qubits: int) -> Array:
    """``⟨ψ(θ)| H |ψ(θ)⟩`` for ``ψ(θ) = U_G(θ) … U_1(θ) |0…0⟩``; ``jax.custom_jvp`` rule.

    Arguments as in :func:`companion.torch.circuit_expectation`; ``gates``,
    ``observable`` and ``n_qubits`` are static (hashable after conversion).

    >>> import math, jax, jax.numpy as jnp
    >>> gates = [("RY", 0), ("CNOT", (0, 1)), ("RX", 1)]
    >>> f = lambda t: circuit_expectation(t, gates, [(1.0, "ZZ")], 2)  # cos θ₁
    >>> theta = jnp.asarray([math.pi / 2, 0.3])
    >>> [round(float(g), 6) for g in jax.jit(jax.grad(f))(theta)]
    [0.0, -0.29552]
    """
    theta = jnp.asarray(theta)
    gates, observable, n_qubits = rules.normalise_circuit(gates, observable, n_qubits)
    rules.check_circuit_expectation(theta, gates, observable, n_qubits, _ARRAY)
    return circuit_expectation_custom_jvp(theta, gates, observable, n_qubits)


@partial(jax.custom_vjp, nondiff_argnums=(1, 2, 3))
def circuit_expectation_custom_vjp(theta: Array, gates: rules.Gates, observable: rules.Observable,
                                   n_qubits: int) -> Array:
    """``⟨ψ(θ)|H|ψ(θ)⟩`` with the VJP rule :func:`circuit_expectation_fwd`/:func:`circuit_expectation_bwd`."""
    return rules.circuit_expectation(theta, gates, observable, n_qubits, jax_ops)


def circuit_expectation_fwd(
    theta: Array, gates: rules.Gates, observable: rules.Observable, n_qubits: int,
) -> tuple[Array, tuple[Array, Array]]:
    """Forward pass: the value and the residuals ``(θ, ψ)``: one state, whatever
    the number of gates.

    >>> gates, obs = (("RY", (0,)),), ((1.0, "Z"),)
    >>> value, (theta, state) = circuit_expectation_fwd(jnp.zeros(1), gates, obs, 1)
    >>> float(value), state.shape
    (1.0, (2,))
    """
    state = rules.circuit_state(theta, gates, n_qubits, jax_ops)
    h_state = rules.apply_observable(observable, state, jax_ops)
    return jnp.real(jnp.sum(jnp.conj(state) * h_state)), (theta, state)


def circuit_expectation_bwd(
    gates: rules.Gates, observable: rules.Observable, n_qubits: int,
    residuals: tuple[Array, Array], out_bar: Array,
) -> tuple[Array]:
    """VJP by the adjoint sweep: ``θ̄_k = ō Im⟨λ_k|P_k ψ_k⟩`` (real: the same in
    every convention).

    >>> theta = jnp.asarray([jnp.pi / 2])
    >>> state = jnp.asarray([1.0, 1.0]) / jnp.sqrt(2) + 0j
    >>> gates, obs = (("RY", (0,)),), ((1.0, "Z"),)
    >>> theta_bar = circuit_expectation_bwd(gates, obs, 1, (theta, state), 1.0)[0]
    >>> theta_bar.dtype, [round(float(g), 6) for g in theta_bar]
    (dtype('float32'), [-1.0])
    """
    theta, state = residuals
    return rules.circuit_expectation_cotangents(
        theta, gates, observable, n_qubits, out_bar, jax_ops, state=state
    )


circuit_expectation_custom_vjp.defvjp(circuit_expectation_fwd, circuit_expectation_bwd)


def circuit_expectation_vjp(theta: Any, gates: Any, observable: Any, n_qubits: int) -> Array:
    """``⟨ψ(θ)| H |ψ(θ)⟩`` with a ``jax.custom_vjp`` rule (the adjoint method): **reverse mode only**.

    >>> import math, jax, jax.numpy as jnp
    >>> f = lambda t: circuit_expectation_vjp(t, [("RX", 0)], [(1.0, "Z")], 1)  # cos θ
    >>> round(float(jax.grad(f)(jnp.asarray([math.pi / 2]))[0]), 6)  # float32
    -1.0
    """
    theta = jnp.asarray(theta)
    gates, observable, n_qubits = rules.normalise_circuit(gates, observable, n_qubits)
    rules.check_circuit_expectation(theta, gates, observable, n_qubits, _ARRAY)
    return circuit_expectation_custom_vjp(theta, gates, observable, n_qubits)
