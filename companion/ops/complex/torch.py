"""PyTorch adapters of the complex rules: ``Abs2`` and ``PhaseMul``.

PyTorch's ``backward`` receives and returns cotangents for the real inner
product ``⟨u, v⟩ = Re Σ conj(u) ⊙ v`` (for a real loss ``L`` of ``z = a + ib``,
``z.grad = ∂L/∂a + i ∂L/∂b``), the convention in which the cotangent formulas
of ``companion.ops.complex.rules`` are written: ``backward`` calls them
unchanged. ``jvp`` needs no convention. This module is wiring.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.complex import rules  # noqa: E402
from companion.xp.torch import torch_ops, zeros_if_none  # noqa: E402

__all__ = ["abs2", "phase_mul", "Abs2", "PhaseMul"]

_TENSOR = "a torch.Tensor"

# --------------------------------------------------------------------------
# abs2
# --------------------------------------------------------------------------


class Abs2(torch.autograd.Function):
    """``|z|²``, elementwise, real output.
    JVP: ``2 Re(conj(z) ⊙ ż)``. VJP: ``z̄ = 2 ō ⊙ z``.

    >>> z = torch.tensor([1 + 2j], dtype=torch.complex128, requires_grad=True)
    >>> Abs2.apply(z).backward()
    >>> z.grad
    tensor([2.+4.j], dtype=torch.complex128)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(z: Tensor) -> Tensor:
        # torch.real returns a strided view into the complex product; forward AD
        # rejects a Function output that is a view of a tensor made inside forward.
        return rules.abs2(z, torch_ops).contiguous()

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        (z,) = inputs
        ctx.save_for_backward(z)
        ctx.save_for_forward(z)

    @staticmethod
    def backward(ctx: Any, out_bar: Tensor) -> Tensor | None:
        (z,) = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return rules.abs2_cotangents(z, out_bar, torch_ops, needs=needs)[0]

    @staticmethod
    def jvp(ctx: Any, z_dot: Tensor) -> Tensor:
        (z,) = ctx.saved_tensors
        return rules.abs2_tangent(z, z_dot, torch_ops)


def abs2(z: Tensor) -> Tensor:
    """``|z|²``, elementwise (real output); a custom rule (:class:`Abs2`). ``z`` complex or real.

    ``z.grad`` after ``abs2(z).sum().backward()`` is ``2 z``, as for
    ``(z.abs() ** 2).sum()``: PyTorch's gradient is ``∂L/∂a + i ∂L/∂b``.

    >>> import torch
    >>> z = torch.tensor([3 + 4j, 1j], dtype=torch.complex128, requires_grad=True)
    >>> out = abs2(z)
    >>> out
    tensor([25.,  1.], dtype=torch.float64, grad_fn=<Abs2Backward>)
    >>> out.sum().backward()
    >>> z.grad
    tensor([6.+8.j, 0.+2.j], dtype=torch.complex128)
    """
    rules.check_abs2(z, _TENSOR)
    return Abs2.apply(z)


# --------------------------------------------------------------------------
# phase_mul
# --------------------------------------------------------------------------


class PhaseMul(torch.autograd.Function):
    """``exp(i theta) ⊙ z`` with broadcasting, ``theta`` real.
    JVP: ``exp(i theta) ⊙ (i theta_dot ⊙ z + ż)``.
    VJP: ``Σ Im(ō ⊙ conj(exp(i theta) ⊙ z))`` for ``theta`` (real),
    ``Σ exp(−i theta) ⊙ ō`` for ``z``, summed to each input's shape.

    >>> theta = torch.zeros(5, 3, 1, dtype=torch.float64)
    >>> z = torch.ones(5, 2, dtype=torch.complex128)
    >>> torch.func.vmap(PhaseMul.apply)(theta, z).shape
    torch.Size([5, 3, 2])
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(theta: Tensor, z: Tensor) -> Tensor:
        return rules.phase_mul(theta, z, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Tensor], output: Tensor) -> None:
        theta, z = inputs
        ctx.save_for_backward(theta, z)
        ctx.save_for_forward(theta, z)

    @staticmethod
    def backward(ctx: Any, out_bar: Tensor) -> tuple[Tensor | None, Tensor | None]:
        theta, z = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return rules.phase_mul_cotangents(theta, z, out_bar, torch_ops, needs=needs)

    @staticmethod
    def jvp(ctx: Any, theta_dot: Tensor | None, z_dot: Tensor | None) -> Tensor:
        theta, z = ctx.saved_tensors
        theta_dot, z_dot = zeros_if_none(theta_dot, theta), zeros_if_none(z_dot, z)
        return rules.phase_mul_tangent(theta, z, theta_dot, z_dot, torch_ops)


def phase_mul(theta: Tensor, z: Tensor) -> Tensor:
    """``exp(i theta) ⊙ z``, elementwise with broadcasting; a custom rule (:class:`PhaseMul`).

    ``theta`` real (float32/64), ``z`` complex of the same precision. The
    gradient of ``theta`` is real and has ``theta``'s shape, as for the built-in
    ``torch.exp(1j * theta) * z``.

    >>> import math, torch
    >>> theta = torch.tensor(math.pi / 2, dtype=torch.float64, requires_grad=True)
    >>> z = torch.tensor([2 + 0j], dtype=torch.complex128)
    >>> out = phase_mul(theta, z)
    >>> torch.allclose(out, torch.tensor([2j], dtype=torch.complex128))
    True
    >>> out.real.sum().backward()  # d/dtheta Re(2 exp(i theta)) = -2 sin(theta)
    >>> theta.grad
    tensor(-2., dtype=torch.float64)
    """
    rules.check_phase_mul(theta, z, _TENSOR)
    return PhaseMul.apply(theta, z)
