"""Reduction rules, written once: ``logsumexp``, ``softmax`` and the Euclidean ``norm``.

Each op reduces (``logsumexp``, ``norm``) or normalises (``softmax``) over the
**last** axis of ``x``; leading axes are a batch. The rules are Jacobian-free:
each tangent and cotangent is a few products and one sum over the last axis,
O(n) work and memory for a row of length n, never the n × n Jacobian.

* ``logsumexp``: ``y = log Σ_j exp x_j``, computed as ``m + log Σ_j exp(x_j − m)``
  with ``m = max_j x_j`` so that no ``exp`` overflows. Its derivative is
  ``s = softmax(x)``: ``ẏ = ⟨s, ẋ⟩``, ``x̄ = ȳ s``.
* ``softmax``: ``s = exp(x − m) / Σ_j exp(x_j − m)``. Its Jacobian
  ``diag(s) − s sᵀ`` is symmetric, so JVP and VJP are the same formula,
  ``s ⊙ (v − ⟨s, v⟩)``.
* ``norm``: ``r = ‖x‖ = sqrt(Σ_j x_j²)``. Its derivative is the direction
  ``u = x / r``; at ``x = 0``, where the norm has a corner, the rules choose
  the subgradient ``u = 0`` (computed with a double ``where``, so that no
  derivative of any order is NaN there).

**Non-finite entries.** A ``−inf`` entry has weight ``s_j = 0``: it gets zero
derivative. A row whose entries are all ``−inf`` has ``logsumexp = −inf``, and
the rules choose ``softmax = 0`` there (no distribution exists), so its
derivatives are zero, not NaN; the built-ins (``torch.logsumexp``,
``jax.nn.logsumexp``, ``torch.softmax``, ``jax.nn.softmax``) give NaN. A
``+inf`` entry is not covered: the value is ``+inf`` and the derivative contains NaN.

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> float(logsumexp(np.array([1e4, 1e4]), numpy_ops)) == 1e4 + float(np.log(2))
True
"""

from __future__ import annotations

from typing import Any

from companion import _validate
from companion.xp import ArrayOps, numpy_ops  # noqa: F401  (numpy_ops: doctests)

__all__ = [
    "logsumexp",
    "logsumexp_tangent",
    "logsumexp_cotangent",
    "check_logsumexp",
    "softmax",
    "softmax_tangent",
    "softmax_cotangent",
    "check_softmax",
    "norm",
    "norm_direction",
    "norm_tangent",
    "norm_cotangent",
    "check_norm",
]

Array = Any


def _finite_max(x: Array, xp: ArrayOps) -> Array:
    """The shift ``m = max_j x_j`` over the last axis (kept, length 1), or 0 where that
    max is ±inf.

    Any finite shift gives the same value and derivative; the max is the one
    that makes every exponent ``x_j − m ≤ 0``. A row of ``−inf`` would give
    ``−inf − (−inf) = nan``, hence the 0 there.

    >>> import numpy as np
    >>> _finite_max(np.array([[1.0, 3.0], [-np.inf, -np.inf]]), numpy_ops)
    array([[3.],
           [0.]])
    """
    m = xp.amax(x, axis=-1, keepdims=True)
    return xp.where(xp.isfinite(m), m, 0.0)


# --------------------------------------------------------------------------
# logsumexp(x) = log Σ_j exp x_j over the last axis
# --------------------------------------------------------------------------


def logsumexp(x: Array, xp: ArrayOps) -> Array:
    """Primal: ``y = m + log Σ_j exp(x_j − m)``, ``m = max_j x_j`` (the last axis is
    reduced).

    Equal to ``log Σ_j exp x_j`` for any shift ``m``; with the max, every
    exponent is ``≤ 0`` and one of them is ``0``, so nothing overflows and the
    sum is at least 1 (the log is safe) unless the row is all ``−inf``.

    >>> import numpy as np
    >>> logsumexp(np.array([[0.0, 0.0], [-1e4, -1e4]]), numpy_ops) - np.log(2)
    array([     0., -10000.])
    """
    m = _finite_max(x, xp)
    return m[..., 0] + xp.log(xp.exp(x - m).sum(axis=-1))


def logsumexp_tangent(s: Array, x_dot: Array) -> Array:
    """JVP: ``ẏ = ⟨s, ẋ⟩ = Σ_j s_j ẋ_j`` with ``s = softmax(x)``, the gradient of ``logsumexp``.

    >>> import numpy as np
    >>> logsumexp_tangent(np.array([0.25, 0.75]), np.array([4.0, 0.0]))
    np.float64(1.0)
    """
    return (s * x_dot).sum(axis=-1)


def logsumexp_cotangent(s: Array, y_bar: Array) -> Array:
    """VJP: ``x̄ = ȳ s``, the cotangent of each row broadcast along it.

    >>> import numpy as np
    >>> logsumexp_cotangent(np.array([0.25, 0.75]), np.array(2.0))
    array([0.5, 1.5])
    """
    return y_bar[..., None] * s


def _check_reduced(op: str, x: Any, array_type: str) -> None:
    """``x``: a floating array with at least one axis, whose last axis (the reduced one) is not empty."""
    _validate.check_arrays(op, array_type, x=x)
    if x.ndim == 0:
        raise ValueError(
            f"{op}: x must have at least one axis (the last axis is reduced); "
            f"got a 0-d array of shape {_validate.shape_of(x)}"
        )
    if x.shape[-1] == 0:
        raise ValueError(
            f"{op}: x must have a non-empty last axis (the axis that is reduced); "
            f"got shape {_validate.shape_of(x)}"
        )


def check_logsumexp(x: Any, array_type: str = "an array") -> None:
    """``x``: a floating array of shape ``(..., n)``, ``n > 0``; the last axis is reduced."""
    _check_reduced("logsumexp", x, array_type)


# --------------------------------------------------------------------------
# softmax(x) = exp x / Σ_j exp x_j over the last axis
# --------------------------------------------------------------------------


def softmax(x: Array, xp: ArrayOps) -> Array:
    """Primal: ``s = exp(x − m) / Σ_j exp(x_j − m)``, ``m = max_j x_j``; a row of ``−inf`` gives ``s = 0``.

    The denominator is at least 1 unless the row is all ``−inf``; there it is 0,
    and dividing by 1 instead gives ``0 / 1 = 0`` (the companion's convention)
    rather than ``0 / 0 = nan``.

    >>> import numpy as np
    >>> softmax(np.array([[1e4, 1e4], [0.0, -np.inf], [-np.inf, -np.inf]]), numpy_ops)
    array([[0.5, 0.5],
           [1. , 0. ],
           [0. , 0. ]])
    """
    e = xp.exp(x - _finite_max(x, xp))
    total = e.sum(axis=-1, keepdims=True)
    return e / xp.where(total > 0, total, 1.0)


def softmax_tangent(s: Array, x_dot: Array) -> Array:
    """JVP: ``ṡ = s ⊙ (ẋ − ⟨s, ẋ⟩)``, with the inner product over the last axis.

    >>> import numpy as np
    >>> softmax_tangent(np.array([0.5, 0.5]), np.array([1.0, -1.0]))
    array([ 0.5, -0.5])
    """
    return s * (x_dot - (s * x_dot).sum(axis=-1, keepdims=True))


def softmax_cotangent(s: Array, s_bar: Array) -> Array:
    """VJP: ``x̄ = s ⊙ (s̄ − ⟨s, s̄⟩)``: the JVP formula, as the Jacobian
    ``diag(s) − s sᵀ`` is symmetric.

    >>> import numpy as np
    >>> softmax_cotangent(
    ...     np.array([0.5, 0.5]), np.array([1.0, 1.0])
    ... )  # a constant s̄ is invisible
    array([0., 0.])
    """
    return s * (s_bar - (s * s_bar).sum(axis=-1, keepdims=True))


def check_softmax(x: Any, array_type: str = "an array") -> None:
    """``x``: a floating array of shape ``(..., n)``, ``n > 0``; normalised over the last axis."""
    _check_reduced("softmax", x, array_type)


# --------------------------------------------------------------------------
# norm(x) = ‖x‖ = sqrt(Σ_j x_j²) over the last axis, with the zero subgradient at 0
# --------------------------------------------------------------------------


def norm(x: Array, xp: ArrayOps) -> Array:
    """Primal: ``r = sqrt(Σ_j x_j²)`` over the last axis.

    Not rescaled, like ``numpy.linalg.norm``, ``torch.linalg.vector_norm`` and
    ``jnp.linalg.norm``: in float64, entries below about ``1e-162`` square to 0
    and entries above about ``1.3e154`` to ``inf``.

    >>> import numpy as np
    >>> norm(np.array([[3.0, 4.0], [0.0, 0.0]]), numpy_ops)
    array([5., 0.])
    """
    return xp.sqrt((x * x).sum(axis=-1))


def norm_direction(x: Array, r: Array, xp: ArrayOps) -> Array:
    """The residual of ``norm``'s rules: ``u = x / r`` where ``r > 0``, and ``u = 0``
    where ``r = 0``.

    ``u`` is the gradient of ``r``; at ``x = 0`` it is the chosen subgradient 0
    (the subgradient of least norm). Two ``where``: the inner one makes the
    division safe (``x / 1``), so the branch that is not taken is finite and
    no NaN reaches any derivative of ``u``; the outer one picks 0.

    >>> import numpy as np
    >>> x = np.array([[3.0, 4.0], [0.0, 0.0]])
    >>> norm_direction(x, norm(x, numpy_ops), numpy_ops)
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    nonzero = (r > 0)[..., None]
    r_safe = xp.where(nonzero, r[..., None], 1.0)
    return xp.where(nonzero, x / r_safe, 0.0)


def norm_tangent(u: Array, x_dot: Array) -> Array:
    """JVP: ``ṙ = ⟨u, ẋ⟩`` with ``u = x / ‖x‖`` (``u = 0`` at ``x = 0``).

    >>> import numpy as np
    >>> norm_tangent(np.array([0.6, 0.8]), np.array([1.0, 1.0]))
    np.float64(1.4)
    """
    return (u * x_dot).sum(axis=-1)


def norm_cotangent(u: Array, r_bar: Array) -> Array:
    """VJP: ``x̄ = r̄ u`` with ``u = x / ‖x‖`` (``u = 0`` at ``x = 0``).

    >>> import numpy as np
    >>> norm_cotangent(np.array([0.6, 0.8]), np.array(2.0))
    array([1.2, 1.6])
    """
    return r_bar[..., None] * u


def check_norm(x: Any, array_type: str = "an array") -> None:
    """``x``: a floating array of shape ``(..., n)``, ``n > 0``; the last axis is reduced."""
    _check_reduced("norm", x, array_type)
