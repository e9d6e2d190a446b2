"""Elementwise rules, written once: ``sin_mul(x, y) = y ⊙ sin x``, ``sin x`` and ``softplus x``.

Names follow the book: primal inputs ``x, y``; tangents ``x_dot``;
cotangents ``x_bar``; the output cotangent of ``sin_mul`` is ``out_bar``.
``<op>_tangent`` is the JVP formula (the output tangent), ``<op>_cotangents``
the VJP formula (one cotangent per input). A cotangent formula takes
``needs``, one flag per input, and returns ``None`` for every input whose flag
is false, doing no work for it.

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> x, y = np.array([0.0, np.pi / 2]), np.array([2.0, 3.0])
>>> sin_mul(x, y, numpy_ops)
array([0., 3.])
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from companion import _validate
from companion.xp import ArrayOps, numpy_ops

__all__ = [
    "sin_mul",
    "sin_mul_tangent",
    "sin_mul_cotangents",
    "check_sin_mul",
    "sin",
    "sin_derivative",
    "sin_tangent",
    "sin_cotangent",
    "sin_derivative_tangent",
    "sin_backward",
    "sin_backward_tangent",
    "sin_backward_cotangents",
    "check_sin",
    "softplus",
    "softplus_derivative",
    "softplus_tangent",
    "softplus_cotangents",
    "check_softplus",
]

Array = Any
Needs = Sequence[bool]

# --------------------------------------------------------------------------
# sin_mul(x, y) = y ⊙ sin x, with NumPy broadcasting between x and y
# --------------------------------------------------------------------------


def sin_mul(x: Array, y: Array, xp: ArrayOps) -> Array:
    """Primal: ``y ⊙ sin x`` (broadcasting).

    >>> sin_mul(np.zeros(2), np.ones((3, 1)), numpy_ops).shape
    (3, 2)
    """
    return y * xp.sin(x)


def sin_mul_tangent(
    x: Array, y: Array, x_dot: Array, y_dot: Array, xp: ArrayOps
) -> Array:
    """JVP: ``out_dot = y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``.

    >>> sin_mul_tangent(np.zeros(2), np.full(2, 3.0), np.ones(2), np.ones(2), numpy_ops)
    array([3., 3.])
    """
    return y * xp.cos(x) * x_dot + xp.sin(x) * y_dot


def sin_mul_cotangents(
    x: Array, y: Array, out_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """VJP: ``x̄ = Σ(ō ⊙ y ⊙ cos x)``, ``ȳ = Σ(ō ⊙ sin x)``, each summed to its input's
    shape.

    >>> x_bar, y_bar = sin_mul_cotangents(
    ...     np.zeros(2), np.ones((3, 1)), np.ones((3, 2)), numpy_ops
    ... )
    >>> x_bar, y_bar.shape
    (array([3., 3.]), (3, 1))
    >>> x, y, out_bar = np.zeros(2), np.ones(2), np.ones(2)
    >>> sin_mul_cotangents(x, y, out_bar, numpy_ops, needs=(False, True))[0] is None
    True
    """
    x_bar = xp.sum_to_shape(out_bar * y * xp.cos(x), x.shape) if needs[0] else None
    y_bar = xp.sum_to_shape(out_bar * xp.sin(x), y.shape) if needs[1] else None
    return x_bar, y_bar


def check_sin_mul(x: Any, y: Any, array_type: str = "an array") -> None:
    """``x`` and ``y``: floating arrays of one dtype whose shapes broadcast together."""
    _validate.check_arrays("sin_mul", array_type, x=x, y=y)
    if x.shape != y.shape:
        try:
            np.broadcast_shapes(_validate.shape_of(x), _validate.shape_of(y))
        except ValueError:
            raise ValueError(
                "sin_mul: x and y must have shapes that broadcast together; "
                f"got shapes {_validate.shape_of(x)} and {_validate.shape_of(y)}"
            ) from None


# --------------------------------------------------------------------------
# sin(x), whose derivative is itself a rule
# --------------------------------------------------------------------------


def sin(x: Array, xp: ArrayOps) -> Array:
    """Primal: ``y = sin x``.

    >>> sin(np.zeros(2), numpy_ops)
    array([0., 0.])
    """
    return xp.sin(x)


def sin_derivative(x: Array, xp: ArrayOps) -> Array:
    """The residual of ``sin``'s rules: ``cos_x = cos x``, the diagonal of its Jacobian.

    >>> sin_derivative(np.zeros(2), numpy_ops)
    array([1., 1.])
    """
    return xp.cos(x)


def sin_tangent(cos_x: Array, x_dot: Array) -> Array:
    """JVP: ``ẏ = cos x ⊙ ẋ``.

    >>> sin_tangent(np.array([1.0, 0.5]), np.array([2.0, 2.0]))
    array([2., 1.])
    """
    return cos_x * x_dot


def sin_cotangent(cos_x: Array, y_bar: Array) -> Array:
    """VJP: ``x̄ = cos x ⊙ ȳ`` (the Jacobian is diagonal, so VJP and JVP coincide).

    >>> sin_cotangent(np.array([1.0, 0.5]), np.array([2.0, 2.0]))
    array([2., 1.])
    """
    return cos_x * y_bar


def sin_derivative_tangent(x: Array, x_dot: Array, xp: ArrayOps) -> Array:
    """Second-derivative rule, forward form: the JVP of ``x ↦ cos x`` is ``−sin x ⊙ ẋ``.

    >>> sin_derivative_tangent(np.array([np.pi / 2]), np.array([2.0]), numpy_ops)
    array([-2.])
    """
    return -xp.sin(x) * x_dot


def sin_backward(x: Array, g: Array, xp: ArrayOps) -> Array:
    """The derivative map of ``sin`` as a function of both arguments: ``(x, g) ↦ g ⊙ cos x``.

    >>> sin_backward(np.zeros(2), np.array([1.0, 2.0]), numpy_ops)
    array([1., 2.])
    """
    return sin_cotangent(sin_derivative(x, xp), g)


def sin_backward_cotangents(
    x: Array, g: Array, out_bar: Array, xp: ArrayOps, needs: Needs = (True, True)
) -> tuple[Array | None, Array | None]:
    """Second-derivative rule, reverse form: the VJP of ``(x, g) ↦ g ⊙ cos x`` is
    ``x̄ = −ō ⊙ g ⊙ sin x``, ``ḡ = ō ⊙ cos x``.

    >>> sin_backward_cotangents(
    ...     np.array([np.pi / 2]), np.array([3.0]), np.array([1.0]), numpy_ops
    ... )[0]
    array([-3.])
    """
    x_bar = -out_bar * g * xp.sin(x) if needs[0] else None
    g_bar = out_bar * xp.cos(x) if needs[1] else None
    return x_bar, g_bar


def sin_backward_tangent(
    x: Array, g: Array, x_dot: Array, g_dot: Array, xp: ArrayOps
) -> Array:
    """The JVP of ``(x, g) ↦ g ⊙ cos x``: ``−g ⊙ sin x ⊙ ẋ + cos x ⊙ ġ``.

    >>> x, g, x_dot, g_dot = (
    ...     np.array([np.pi / 2]),
    ...     np.array([3.0]),
    ...     np.array([1.0]),
    ...     np.array([1.0]),
    ... )
    >>> sin_backward_tangent(x, g, x_dot, g_dot, numpy_ops).round(12)
    array([-3.])
    """
    return -g * xp.sin(x) * x_dot + xp.cos(x) * g_dot


def check_sin(x: Any, array_type: str = "an array") -> None:
    """``x``: a floating array of any shape."""
    _validate.check_arrays("sin", array_type, x=x)


# --------------------------------------------------------------------------
# softplus(x) = log(1 + exp x), computed without overflow; its derivative is sigmoid(x)
# --------------------------------------------------------------------------


def softplus(x: Array, xp: ArrayOps) -> Array:
    """Primal: ``y = log(1 + exp x)``, computed as
    ``max(x, 0) + log1p(exp(min(x, −x)))``.

    ``min(x, −x) = −|x|`` is never positive, so ``exp`` never overflows, and
    ``log1p`` keeps the small term ``log(1 + exp(−|x|))`` accurate where
    ``1 + exp(−|x|)`` rounds to 1. (``−|x|`` is written ``min(x, −x)`` because
    its derivative at 0 is then 0 in PyTorch and in JAX alike, which the second
    derivative needs.)

    >>> softplus(np.array([-1e4, 0.0, 1e4]), numpy_ops).tolist()
    [0.0, 0.6931471805599453, 10000.0]
    """
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(xp.exp(xp.minimum(x, -x)))


def softplus_derivative(x: Array, xp: ArrayOps) -> Array:
    """The diagonal of softplus's Jacobian, the logistic sigmoid ``1 / (1 + exp(−x))``.

    Computed as ``exp(−softplus(−x))``: ``softplus(−x)`` is never negative, so
    the ``exp`` lies in (0, 1] and never overflows, and every function in it
    has a finite derivative, so derivatives of this formula (second
    derivatives of softplus, ``sigmoid(x) sigmoid(−x)``) are finite too.

    >>> softplus_derivative(np.array([-1e4, 0.0, 1e4]), numpy_ops).tolist()
    [0.0, 0.5, 1.0]
    """
    return xp.exp(-softplus(-x, xp))


def softplus_tangent(x: Array, x_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``ẏ = sigmoid(x) ⊙ ẋ``, where ``sigmoid(x) = 1 / (1 + exp(−x))``.

    >>> softplus_tangent(np.array([0.0, 1e4]), np.array([2.0, 2.0]), numpy_ops).tolist()
    [1.0, 2.0]
    """
    return softplus_derivative(x, xp) * x_dot


def softplus_cotangents(
    x: Array, y_bar: Array, xp: ArrayOps, needs: Needs = (True,)
) -> tuple[Array | None]:
    """VJP: ``x̄ = sigmoid(x) ⊙ ȳ`` (a diagonal Jacobian: the same product as the JVP).

    >>> x, y_bar = np.array([0.0, -1e4]), np.array([2.0, 2.0])
    >>> softplus_cotangents(x, y_bar, numpy_ops)[0].tolist()
    [1.0, 0.0]
    >>> softplus_cotangents(np.zeros(2), np.ones(2), numpy_ops, needs=(False,))
    (None,)
    """
    x_bar = softplus_derivative(x, xp) * y_bar if needs[0] else None
    return (x_bar,)


def check_softplus(x: Any, array_type: str = "an array") -> None:
    """``x``: a floating array of any shape."""
    _validate.check_arrays("softplus", array_type, x=x)
