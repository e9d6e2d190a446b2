"""PyTorch adapters of the elementwise rules: ``SinMul``, ``Sin``, ``SinBackward`` and ``Softplus``.

Each op is a ``torch.autograd.Function`` in the modern style (``forward``
without ``ctx``, a separate ``setup_context``) with ``backward`` (reverse
mode), ``jvp`` (forward mode) and ``generate_vmap_rule = True``. The formulas
come from ``companion.ops.elementwise.rules``; this module is wiring.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.elementwise import rules  # noqa: E402
from companion.xp.torch import torch_ops, zeros_if_none  # noqa: E402

__all__ = ["sin_mul", "sin", "softplus", "SinMul", "Sin", "SinBackward", "Softplus"]

_TENSOR = "a torch.Tensor"

# --------------------------------------------------------------------------
# sin_mul
# --------------------------------------------------------------------------


class SinMul(torch.autograd.Function):
    """``y ⊙ sin x`` with broadcasting. JVP: ``y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``.
    VJP: ``x̄ = Σ(ō ⊙ y ⊙ cos x)``, ``ȳ = Σ(ō ⊙ sin x)``, summed to each input's shape.

    >>> x = torch.zeros(2, dtype=torch.float64)
    >>> y = torch.ones(3, 1, dtype=torch.float64)
    >>> torch.func.jacrev(SinMul.apply)(x, y).shape
    torch.Size([3, 2, 2])
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, y: Tensor) -> Tensor:
        return rules.sin_mul(x, y, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Tensor], output: Tensor) -> None:
        x, y = inputs
        ctx.save_for_backward(x, y)
        ctx.save_for_forward(x, y)

    @staticmethod
    def backward(ctx: Any, out_bar: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        return rules.sin_mul_cotangents(
            x, y, out_bar, torch_ops, needs=ctx.needs_input_grad
        )

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor | None, y_dot: Tensor | None) -> Tensor:
        x, y = ctx.saved_tensors
        x_dot, y_dot = zeros_if_none(x_dot, x), zeros_if_none(y_dot, y)
        return rules.sin_mul_tangent(x, y, x_dot, y_dot, torch_ops)


def sin_mul(x: Tensor, y: Tensor) -> Tensor:
    """``y ⊙ sin x``, elementwise with broadcasting; a custom rule (:class:`SinMul`).

    JVP: ``out_dot = y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``;
    VJP: ``x̄ = ō ⊙ y ⊙ cos x`` and ``ȳ = ō ⊙ sin x``, each reduced to its input's shape.

    >>> import torch
    >>> x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    >>> y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    >>> sin_mul(x, y).sum().backward()
    >>> x.grad, y.grad
    (tensor([2., 2., 2.], dtype=torch.float64), tensor(0., dtype=torch.float64))
    """
    rules.check_sin_mul(x, y, _TENSOR)
    return SinMul.apply(x, y)


# --------------------------------------------------------------------------
# sin, whose backward is itself a Function (double backward by custom rules)
# --------------------------------------------------------------------------


class Sin(torch.autograd.Function):
    """``y = sin x``. VJP and JVP: ``cos x ⊙ g``, computed by :class:`SinBackward` so
    that
    second derivatives come from SinBackward's own rules.

    >>> x = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> hessian = torch.func.hessian(lambda x: Sin.apply(x).sum())(x)
    >>> torch.allclose(hessian, torch.diag(-torch.sin(x)))
    True
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> Tensor:
        return rules.sin(x, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx: Any, y_bar: Tensor) -> Tensor | None:
        (x,) = ctx.saved_tensors
        return SinBackward.apply(x, y_bar) if ctx.needs_input_grad[0] else None

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return SinBackward.apply(x, x_dot)


class SinBackward(torch.autograd.Function):
    """``(x, g) ↦ g ⊙ cos x``, the derivative of :class:`Sin`, with its own rules:
    VJP ``x̄ = −ō ⊙ g ⊙ sin x``, ``ḡ = ō ⊙ cos x``; JVP ``−g ⊙ sin x ⊙ ẋ + cos x ⊙ ġ``.

    >>> x, g = (
    ...     torch.tensor([0.0], dtype=torch.float64),
    ...     torch.tensor([3.0], dtype=torch.float64),
    ... )
    >>> SinBackward.apply(x, g)
    tensor([3.], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, g: Tensor) -> Tensor:
        return rules.sin_backward(x, g, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Tensor], output: Tensor) -> None:
        x, g = inputs
        ctx.save_for_backward(x, g)
        ctx.save_for_forward(x, g)

    @staticmethod
    def backward(ctx: Any, out_bar: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, g = ctx.saved_tensors
        return rules.sin_backward_cotangents(
            x, g, out_bar, torch_ops, needs=ctx.needs_input_grad
        )

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor | None, g_dot: Tensor | None) -> Tensor:
        x, g = ctx.saved_tensors
        x_dot, g_dot = zeros_if_none(x_dot, x), zeros_if_none(g_dot, g)
        return rules.sin_backward_tangent(x, g, x_dot, g_dot, torch_ops)


def sin(x: Tensor) -> Tensor:
    """``sin x`` whose derivative ``g ⊙ cos x`` is itself a custom rule (:class:`Sin`, :class:`SinBackward`).

    >>> import torch
    >>> x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    >>> (dx,) = torch.autograd.grad(sin(x).sum(), x, create_graph=True)
    >>> dx.grad_fn.name()
    'SinBackwardBackward'
    >>> (ddx,) = torch.autograd.grad(dx.sum(), x)
    >>> torch.allclose(ddx, -torch.sin(x))
    True
    """
    rules.check_sin(x, _TENSOR)
    return Sin.apply(x)


# --------------------------------------------------------------------------
# softplus, stable for any x; its derivative sigmoid(x) is stable too
# --------------------------------------------------------------------------


class Softplus(torch.autograd.Function):
    """``y = log(1 + exp x)``, computed stably. JVP: ``sigmoid(x) ⊙ ẋ``; VJP:
    ``x̄ = sigmoid(x) ⊙ ȳ``.

    ``sigmoid(x) = exp(−softplus(−x))`` is computed from ``x`` in ``backward`` and
    ``jvp``, so with ``create_graph=True`` autograd differentiates that
    overflow-free formula for the second derivative.

    Second derivatives are right by double backward, forward-over-reverse
    (``torch.func.hessian``) and reverse-over-forward. Forward-over-forward
    (``jacfwd`` of ``jacfwd``) returns 0 in PyTorch 2.13 for any Function whose
    ``jvp`` is written with ordinary operations (PyTorch issue 197867).

    >>> x = torch.tensor([-1e4, 0.0, 1e4], requires_grad=True)
    >>> Softplus.apply(x).sum().backward()
    >>> x.grad
    tensor([0.0000, 0.5000, 1.0000])
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> Tensor:
        return rules.softplus(x, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx: Any, y_bar: Tensor) -> Tensor | None:
        (x,) = ctx.saved_tensors
        (x_bar,) = rules.softplus_cotangents(
            x, y_bar, torch_ops, needs=ctx.needs_input_grad
        )
        return x_bar

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return rules.softplus_tangent(x, x_dot, torch_ops)


def softplus(x: Tensor) -> Tensor:
    """``y = log(1 + exp x)``, elementwise, finite with finite derivatives for every finite
    ``x``; a custom rule (:class:`Softplus`) whose derivative is ``sigmoid(x) = 1 / (1 + exp(−x))``.

    >>> import torch
    >>> x = torch.tensor([-1e4, 0.0, 1e4], dtype=torch.float64, requires_grad=True)
    >>> y = softplus(x)
    >>> (x_bar,) = torch.autograd.grad(y.sum(), x)
    >>> y.tolist()
    [0.0, 0.6931471805599453, 10000.0]
    >>> x_bar.tolist()
    [0.0, 0.5, 1.0]
    >>> import numpy as np
    >>> softplus(np.zeros(2))
    Traceback (most recent call last):
        ...
    TypeError: softplus: x must be a torch.Tensor; got ndarray
    """
    if not isinstance(x, torch.Tensor):  # a NumPy array has .shape and .dtype too
        raise TypeError(f"softplus: x must be {_TENSOR}; got {type(x).__name__}")
    rules.check_softplus(x, _TENSOR)
    return Softplus.apply(x)
