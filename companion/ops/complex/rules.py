"""Complex rules, written once: ``abs2(z) = |z|²`` and ``phase_mul(theta, z) = exp(i theta) ⊙ z``.

Names follow the book: ``z`` a complex input (``abs2`` also takes a real one),
``theta`` a real phase; tangents ``z_dot``, cotangents ``z_bar``; the output
cotangent is ``out_bar``.

**One convention.** A tangent formula (JVP) needs none: it is the R-linear
map ``ż ↦ ḟ`` and reads the same in every framework. A cotangent formula
(VJP) here is the adjoint of that map for the real inner product

    ⟨u, v⟩ = Re Σ conj(u) ⊙ v,

that is, ``Re Σ conj(ō) ⊙ ḟ = Σ Re Σ conj(x̄) ⊙ ẋ`` for every tangent. This is
what PyTorch's ``backward`` receives and returns (for a real loss ``L`` of
``z = a + ib``, ``z.grad`` is ``∂L/∂a + i ∂L/∂b``). JAX pairs complex numbers
without the conjugate (``Re Σ u ⊙ v``), so its cotangents are the conjugates
of these: the JAX adapter calls a cotangent formula on ``conj(ō)`` and
conjugates what it returns. The cotangent of a real input (``theta``; ``z``
of ``abs2`` when it is real) is real: the real part of the complex formula.

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> abs2(np.array([3 + 4j, 1j]), numpy_ops)
array([25.,  1.])
>>> phase_mul(np.array([np.pi / 2]), np.array([2.0 + 0j]), numpy_ops).round(12)
array([0.+2.j])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from companion import _validate
from companion.xp import ArrayOps, numpy_ops

__all__ = [
    "abs2",
    "abs2_tangent",
    "abs2_cotangents",
    "check_abs2",
    "phase_mul",
    "phase_mul_tangent",
    "phase_mul_cotangents",
    "check_phase_mul",
]

Array = Any
Needs = Sequence[bool]

# --------------------------------------------------------------------------
# abs2(z) = |z|² = Re(conj(z) ⊙ z), real output; z complex or real
# --------------------------------------------------------------------------


def abs2(z: Array, xp: ArrayOps) -> Array:
    """Primal: ``|z|² = Re(conj(z) ⊙ z)``, elementwise, without a square root (real output).

    >>> abs2(np.array([1 - 2j]), numpy_ops), abs2(np.array([-3.0]), numpy_ops)
    (array([5.]), array([9.]))
    """
    return xp.real(xp.conj(z) * z)


def abs2_tangent(z: Array, z_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``2 Re(conj(z) ⊙ ż)``, the output tangent (real; ``2 z ⊙ ż`` for a real z).

    >>> abs2_tangent(np.array([1 + 2j]), np.array([1j]), numpy_ops)
    array([4.])
    """
    return 2 * xp.real(xp.conj(z) * z_dot)


def abs2_cotangents(
    z: Array, out_bar: Array, xp: ArrayOps, needs: Needs = (True,)
) -> tuple[Array | None]:
    """VJP: ``z̄ = 2 ō ⊙ z``, the adjoint for ``⟨u, v⟩ = Re Σ conj(u) ⊙ v`` (PyTorch's).

    ``ō`` is real (so is the output), hence ``z̄`` is real for a real ``z``.
    JAX's cotangent is the conjugate, ``2 ō ⊙ conj(z)``.

    >>> abs2_cotangents(np.array([1 + 2j]), np.array([1.0]), numpy_ops)
    (array([2.+4.j]),)
    """
    z_bar = 2 * out_bar * z if needs[0] else None
    return (z_bar,)


def check_abs2(z: Any, array_type: str = "an array") -> None:
    """``z``: an array of a complex dtype (complex64/128) or a real floating one, any shape."""
    _validate.check_dtypes(
        "abs2", array_type, _validate.FLOATING | _validate.COMPLEX,
        "a complex or real floating dtype (complex64/128, float16/32/64, bfloat16)", z=z,
    )


# --------------------------------------------------------------------------
# phase_mul(theta, z) = exp(i theta) ⊙ z, theta real, z complex, with NumPy broadcasting
# --------------------------------------------------------------------------


def phase_mul(theta: Array, z: Array, xp: ArrayOps) -> Array:
    """Primal: ``exp(i theta) ⊙ z`` (broadcasting): ``z`` rotated by the angle ``theta``.

    >>> phase_mul(np.zeros((3, 1)), np.ones(2, complex), numpy_ops).shape
    (3, 2)
    """
    return xp.exp(1j * theta) * z


def phase_mul_tangent(theta: Array, z: Array, theta_dot: Array, z_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``exp(i theta) ⊙ (i theta_dot ⊙ z + ż)``, the output tangent.

    >>> phase_mul_tangent(
    ...     np.zeros(1), np.array([2 + 0j]), np.ones(1), np.array([1 + 0j]), numpy_ops
    ... )
    array([1.+2.j])
    """
    return xp.exp(1j * theta) * (1j * theta_dot * z + z_dot)


def phase_mul_cotangents(
    theta: Array, z: Array, out_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``Σ Im(ō ⊙ conj(exp(i theta) ⊙ z))`` for ``theta`` (real) and
    ``Σ exp(−i theta) ⊙ ō`` for ``z``, each summed to its input's shape; the adjoint
    for ``⟨u, v⟩ = Re Σ conj(u) ⊙ v`` (PyTorch's convention).

    JAX's cotangents are the conjugates for the conjugated ``ō``: the same
    ``theta`` cotangent with ``conj(ō)``, and ``Σ exp(i theta) ⊙ ō`` for ``z``.

    >>> theta, z, out_bar = np.zeros((3, 1)), np.full(2, 1j), np.ones((3, 2), complex)
    >>> theta_bar, z_bar = phase_mul_cotangents(theta, z, out_bar, numpy_ops)
    >>> theta_bar, z_bar
    (array([[-2.],
           [-2.],
           [-2.]]), array([3.+0.j, 3.+0.j]))
    """
    e = xp.exp(1j * theta)
    theta_bar = z_bar = None
    if needs[0]:
        theta_bar = xp.sum_to_shape(xp.imag(out_bar * xp.conj(e * z)), theta.shape)
    if needs[1]:
        z_bar = xp.sum_to_shape(xp.conj(e) * out_bar, z.shape)
    return theta_bar, z_bar


def check_phase_mul(theta: Any, z: Any, array_type: str = "an array") -> None:
    """``theta`` real (float32/64), ``z`` complex of the same precision (complex64/128); shapes broadcast."""
    (t,) = _validate.check_dtypes(
        "phase_mul",
        array_type,
        _validate.LAPACK,
        "a real floating dtype (float32/float64): the phase angle in radians",
        theta=theta,
    )
    (c,) = _validate.check_dtypes(
        "phase_mul",
        array_type,
        _validate.COMPLEX,
        "a complex dtype (complex64/complex128)",
        z=z,
    )
    if _validate.COMPLEX_OF[t] != c:
        raise TypeError(
            "phase_mul: theta and z must have the same precision (theta float32 with z complex64, "
            f"or float64 with complex128); got theta is {t}, z is {c}"
        )
    try:
        np.broadcast_shapes(_validate.shape_of(theta), _validate.shape_of(z))
    except ValueError:
        raise ValueError(
            "phase_mul: theta and z must have shapes that broadcast together; "
            f"got shapes {_validate.shape_of(theta)} and {_validate.shape_of(z)}"
        ) from None
