"""JAX adapters of the complex rules: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions.

``abs2``, ``phase_mul`` are :func:`jax.custom_jvp` functions. A JVP rule needs
no convention (it is the R-linear map ``ż ↦ ḟ``), and JAX's own transposition
gives reverse mode in JAX's convention. ``abs2_vjp``, ``phase_mul_vjp`` are the
:func:`jax.custom_vjp` versions (**reverse mode only**). Their ``bwd`` converts
conventions: the cotangent formulas of ``companion.ops.complex.rules`` are the
adjoints for ``⟨u, v⟩ = Re Σ conj(u) ⊙ v`` (PyTorch's), while JAX pairs
``Re Σ u ⊙ v`` (no conjugate), so a JAX cotangent is the conjugate of the
formula applied to the conjugated output cotangent:
``x̄_jax = conj(x̄(conj(ō_jax)))``. The public functions convert their
arguments with :func:`jax.numpy.asarray` and validate them (statically, so
also under ``jit``).
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.complex import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "abs2",
    "phase_mul",
    "abs2_vjp",
    "phase_mul_vjp",
    "abs2_custom_jvp",
    "abs2_jvp_rule",
    "phase_mul_custom_jvp",
    "phase_mul_jvp_rule",
    "abs2_custom_vjp",
    "abs2_fwd",
    "abs2_bwd",
    "phase_mul_custom_vjp",
    "phase_mul_fwd",
    "phase_mul_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


# --------------------------------------------------------------------------
# abs2
# --------------------------------------------------------------------------


@jax.custom_jvp
def abs2_custom_jvp(z: Array) -> Array:
    """``|z|²`` with the JVP rule :func:`abs2_jvp_rule`."""
    return rules.abs2(z, jax_ops)


@abs2_custom_jvp.defjvp
def abs2_jvp_rule(primals: tuple[Array], tangents: tuple[Array]) -> tuple[Array, Array]:
    """JVP: ``2 Re(conj(z) ⊙ ż)``, the same in every convention.

    >>> _, out_dot = abs2_jvp_rule((jnp.asarray([1 + 2j]),), (jnp.asarray([1j]),))
    >>> out_dot.tolist()
    [4.0]
    """
    (z,), (z_dot,) = primals, tangents
    return rules.abs2(z, jax_ops), rules.abs2_tangent(z, z_dot, jax_ops)


def abs2(z: Any) -> Array:
    """``|z|²``, elementwise (real output); ``jax.custom_jvp`` rule. ``z`` complex or real.

    ``jax.grad`` of ``abs2(z).sum()`` is ``2 conj(z)``, as for ``jnp.abs(z) ** 2``:
    JAX's gradient is ``∂L/∂a − i ∂L/∂b``, the conjugate of PyTorch's.

    >>> import jax, jax.numpy as jnp
    >>> z = jnp.asarray([3 + 4j, 1j])
    >>> abs2(z).tolist()
    [25.0, 1.0]
    >>> jax.grad(lambda z: abs2(z).sum())(z).tolist()
    [(6-8j), -2j]
    """
    z = jnp.asarray(z)
    rules.check_abs2(z, _ARRAY)
    return abs2_custom_jvp(z)


@jax.custom_vjp
def abs2_custom_vjp(z: Array) -> Array:
    """``|z|²`` with the VJP rule :func:`abs2_fwd`/:func:`abs2_bwd`."""
    return rules.abs2(z, jax_ops)


def abs2_fwd(z: Array) -> tuple[Array, Array]:
    """Forward pass: ``|z|²`` and the residual ``z``.

    >>> abs2_fwd(jnp.asarray([1j]))[0].tolist()
    [1.0]
    """
    return rules.abs2(z, jax_ops), z


def abs2_bwd(z: Array, out_bar: Array) -> tuple[Array]:
    """VJP in JAX's convention: ``conj(2 conj(ō) ⊙ z) = 2 ō ⊙ conj(z)``.

    >>> abs2_bwd(jnp.asarray([1 + 2j]), jnp.asarray([1.0]))[0].tolist()
    [(2-4j)]
    """
    (z_bar,) = rules.abs2_cotangents(z, jnp.conj(out_bar), jax_ops)
    return (jnp.conj(z_bar),)


abs2_custom_vjp.defvjp(abs2_fwd, abs2_bwd)


def abs2_vjp(z: Any) -> Array:
    """``|z|²`` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    >>> import jax, jax.numpy as jnp
    >>> jax.grad(lambda z: abs2_vjp(z).sum())(jnp.asarray([1 + 2j])).tolist()
    [(2-4j)]
    """
    z = jnp.asarray(z)
    rules.check_abs2(z, _ARRAY)
    return abs2_custom_vjp(z)


# --------------------------------------------------------------------------
# phase_mul
# --------------------------------------------------------------------------


@jax.custom_jvp
def phase_mul_custom_jvp(theta: Array, z: Array) -> Array:
    """``exp(i theta) ⊙ z`` with the JVP rule :func:`phase_mul_jvp_rule`."""
    return rules.phase_mul(theta, z, jax_ops)


@phase_mul_custom_jvp.defjvp
def phase_mul_jvp_rule(
    primals: tuple[Array, Array], tangents: tuple[Array, Array]
) -> tuple[Array, Array]:
    """JVP: ``exp(i theta) ⊙ (i theta_dot ⊙ z + ż)``, the same in every convention.

    >>> primals = (jnp.zeros(1), jnp.asarray([2 + 0j]))
    >>> _, out_dot = phase_mul_jvp_rule(primals, (jnp.ones(1), jnp.asarray([1 + 0j])))
    >>> out_dot.tolist()
    [(1+2j)]
    """
    theta, z = primals
    theta_dot, z_dot = tangents
    out_dot = rules.phase_mul_tangent(theta, z, theta_dot, z_dot, jax_ops)
    return rules.phase_mul(theta, z, jax_ops), out_dot


def phase_mul(theta: Any, z: Any) -> Array:
    """``exp(i theta) ⊙ z``, elementwise with broadcasting; ``jax.custom_jvp`` rule.

    ``theta`` real (float32/64), ``z`` complex of the same precision; the
    cotangent of ``theta`` is real, with ``theta``'s shape.

    >>> import jax, jax.numpy as jnp
    >>> theta, z = jnp.zeros((3, 1), dtype=jnp.float32), jnp.ones(2, dtype=jnp.complex64)
    >>> phase_mul(theta, z).shape
    (3, 2)
    >>> theta_bar = jax.grad(lambda t: phase_mul(t, 1j * z).real.sum())(theta)
    >>> theta_bar.dtype, theta_bar.ravel().tolist()
    (dtype('float32'), [-2.0, -2.0, -2.0])
    """
    theta, z = jnp.asarray(theta), jnp.asarray(z)
    rules.check_phase_mul(theta, z, _ARRAY)
    return phase_mul_custom_jvp(theta, z)


@jax.custom_vjp
def phase_mul_custom_vjp(theta: Array, z: Array) -> Array:
    """``exp(i theta) ⊙ z`` with the VJP rule :func:`phase_mul_fwd`/:func:`phase_mul_bwd`."""
    return rules.phase_mul(theta, z, jax_ops)


def phase_mul_fwd(theta: Array, z: Array) -> tuple[Array, tuple[Array, Array]]:
    """Forward pass: the output and the residuals ``(theta, z)``.

    >>> phase_mul_fwd(jnp.zeros(1), jnp.asarray([1j]))[0].tolist()
    [1j]
    """
    return rules.phase_mul(theta, z, jax_ops), (theta, z)


def phase_mul_bwd(
    residuals: tuple[Array, Array], out_bar: Array
) -> tuple[Array, Array]:
    """VJP in JAX's convention: the formulas on ``conj(ō)``, conjugated:
    ``Σ Im(conj(ō) ⊙ conj(exp(i theta) ⊙ z))`` for ``theta`` (real),
    ``Σ exp(i theta) ⊙ ō`` for ``z``.

    >>> residuals = (jnp.zeros((3, 1)), jnp.full(2, 1j))
    >>> theta_bar, z_bar = phase_mul_bwd(residuals, jnp.ones((3, 2), complex))
    >>> theta_bar.ravel().tolist(), bool(jnp.allclose(z_bar, 3.0))
    ([-2.0, -2.0, -2.0], True)
    """
    theta, z = residuals
    theta_bar, z_bar = rules.phase_mul_cotangents(theta, z, jnp.conj(out_bar), jax_ops)
    return jnp.conj(theta_bar), jnp.conj(z_bar)


phase_mul_custom_vjp.defvjp(phase_mul_fwd, phase_mul_bwd)


def phase_mul_vjp(theta: Any, z: Any) -> Array:
    """``exp(i theta) ⊙ z`` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    >>> import jax, jax.numpy as jnp
    >>> f = lambda z: phase_mul_vjp(jnp.zeros(1), z).real.sum()
    >>> jax.grad(f)(jnp.asarray([1j])).tolist()
    [(1+0j)]
    """
    theta, z = jnp.asarray(theta), jnp.asarray(z)
    rules.check_phase_mul(theta, z, _ARRAY)
    return phase_mul_custom_vjp(theta, z)
