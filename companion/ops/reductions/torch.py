"""PyTorch adapters of the reduction rules: ``LogSumExp``, ``Softmax`` and ``Norm``.

Modern-style ``torch.autograd.Function`` classes (``setup_context``,
``backward``, ``jvp``, ``generate_vmap_rule``) that reduce over the last axis.
Their derivatives are built from differentiable tensors, so second
derivatives come from the rules as well: ``LogSumExp``'s derivative is
``Softmax.apply(x)``; ``Softmax`` saves its output ``s`` (its rules need
nothing else); ``Norm`` saves ``x`` and its output ``r`` and computes the
direction ``x / r`` with the zero subgradient at ``x = 0``. The formulas come
from ``companion.ops.reductions.rules``; this module is wiring.

Second derivatives are right by double backward, forward-over-reverse
(``torch.func.hessian``), reverse-over-forward and reverse-over-reverse.
Forward-over-forward (``torch.func.jacfwd`` of ``jacfwd``) returns 0 in
PyTorch 2.13, at every ``x``, for a Function whose ``jvp`` combines tensors
with ordinary operations, as these do (PyTorch issue 197867).
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.reductions import rules  # noqa: E402
from companion.xp.torch import torch_ops  # noqa: E402

__all__ = ["logsumexp", "softmax", "norm", "LogSumExp", "Softmax", "Norm"]

_TENSOR = "a torch.Tensor"

# --------------------------------------------------------------------------
# softmax (first: logsumexp's derivative is softmax)
# --------------------------------------------------------------------------


class Softmax(torch.autograd.Function):
    """``s = softmax(x)`` over the last axis. JVP ``ṡ = s ⊙ (ẋ − ⟨s, ẋ⟩)``;
    VJP ``x̄ = s ⊙ (s̄ − ⟨s, s̄⟩)``; the residual is the output ``s``.

    >>> x = torch.tensor([0.0, 0.0], dtype=torch.float64)
    >>> torch.func.jacrev(Softmax.apply)(x)
    tensor([[ 0.2500, -0.2500],
            [-0.2500,  0.2500]], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> Tensor:
        return rules.softmax(x, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx: Any, s_bar: Tensor) -> Tensor | None:
        (s,) = ctx.saved_tensors
        return rules.softmax_cotangent(s, s_bar) if ctx.needs_input_grad[0] else None

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor) -> Tensor:
        (s,) = ctx.saved_tensors
        return rules.softmax_tangent(s, x_dot)


def softmax(x: Tensor) -> Tensor:
    """``softmax(x)`` over the last axis, stable for large entries; a custom rule (:class:`Softmax`).

    ``s = exp(x − m) / Σ_j exp(x_j − m)`` with ``m`` the row's max; JVP
    ``ṡ = s ⊙ (ẋ − ⟨s, ẋ⟩)`` and VJP ``x̄ = s ⊙ (s̄ − ⟨s, s̄⟩)``, O(n) per row,
    without the Jacobian. A ``−inf`` entry gets ``s_j = 0`` and zero derivative;
    a row of ``−inf`` gives ``s = 0`` (``torch.softmax`` gives NaN).

    >>> import torch
    >>> x = torch.tensor([1e4, 1e4, -torch.inf], dtype=torch.float64, requires_grad=True)
    >>> s = softmax(x)
    >>> s
    tensor([0.5000, 0.5000, 0.0000], dtype=torch.float64, grad_fn=<SoftmaxBackward>)
    >>> s[0].backward()
    >>> x.grad + 0.0  # + 0.0 turns -0.0 into 0.0
    tensor([ 0.2500, -0.2500,  0.0000], dtype=torch.float64)
    """
    rules.check_softmax(x, _TENSOR)
    return Softmax.apply(x)


# --------------------------------------------------------------------------
# logsumexp
# --------------------------------------------------------------------------


class LogSumExp(torch.autograd.Function):
    """``y = log Σ_j exp x_j`` over the last axis. JVP ``ẏ = ⟨s, ẋ⟩``; VJP ``x̄ = ȳ s``,
    with ``s = Softmax.apply(x)``, so second derivatives come from :class:`Softmax`'s
    rules
    (except forward-over-forward, 0 in PyTorch 2.13: see the module's docstring).

    >>> x = torch.tensor([0.0, 0.0], dtype=torch.float64)
    >>> torch.func.hessian(LogSumExp.apply)(x)
    tensor([[ 0.2500, -0.2500],
            [-0.2500,  0.2500]], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> Tensor:
        return rules.logsumexp(x, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        (x,) = inputs
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx: Any, y_bar: Tensor) -> Tensor | None:
        (x,) = ctx.saved_tensors
        return (
            rules.logsumexp_cotangent(Softmax.apply(x), y_bar)
            if ctx.needs_input_grad[0]
            else None
        )

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return rules.logsumexp_tangent(Softmax.apply(x), x_dot)


def logsumexp(x: Tensor) -> Tensor:
    """``log Σ_j exp x_j`` over the last axis (shape ``x.shape[:-1]``); a custom rule (:class:`LogSumExp`).

    Computed as ``m + log Σ_j exp(x_j − m)`` with ``m`` the row's max (finite
    for entries of any size); JVP ``ẏ = ⟨s, ẋ⟩``, VJP ``x̄ = ȳ s`` with
    ``s = softmax(x)``. A ``−inf`` entry gets zero gradient; a row of ``−inf``
    gives ``−inf`` with zero gradient (``torch.logsumexp`` gives NaN).

    >>> import torch
    >>> x = torch.tensor(
    ...     [[1e4, 1e4], [-torch.inf, -torch.inf]], dtype=torch.float64, requires_grad=True
    ... )
    >>> y = logsumexp(x)
    >>> y - torch.tensor([1e4, 0.0], dtype=torch.float64)
    tensor([0.6931,   -inf], dtype=torch.float64, grad_fn=<SubBackward0>)
    >>> y[0].backward()
    >>> x.grad
    tensor([[0.5000, 0.5000],
            [0.0000, 0.0000]], dtype=torch.float64)
    """
    rules.check_logsumexp(x, _TENSOR)
    return LogSumExp.apply(x)


# --------------------------------------------------------------------------
# norm
# --------------------------------------------------------------------------


class Norm(torch.autograd.Function):
    """``r = ‖x‖`` over the last axis. JVP ``ṙ = ⟨u, ẋ⟩``; VJP ``x̄ = r̄ u``, with
    ``u = x / r`` (``u = 0`` at ``x = 0``) from the saved ``x`` and output ``r``.

    >>> x = torch.zeros(2, dtype=torch.float64)
    >>> torch.func.jacfwd(Norm.apply)(x), torch.func.hessian(Norm.apply)(x)
    (tensor([0., 0.], dtype=torch.float64), tensor([[0., 0.],
            [0., 0.]], dtype=torch.float64))
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor) -> Tensor:
        return rules.norm(x, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        (x,) = inputs
        ctx.save_for_backward(x, output)
        ctx.save_for_forward(x, output)

    @staticmethod
    def backward(ctx: Any, r_bar: Tensor) -> Tensor | None:
        x, r = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None
        return rules.norm_cotangent(rules.norm_direction(x, r, torch_ops), r_bar)

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor) -> Tensor:
        x, r = ctx.saved_tensors
        return rules.norm_tangent(rules.norm_direction(x, r, torch_ops), x_dot)


def norm(x: Tensor) -> Tensor:
    """``‖x‖ = sqrt(Σ_j x_j²)`` over the last axis; a custom rule (:class:`Norm`).

    JVP ``ṙ = ⟨u, ẋ⟩``, VJP ``x̄ = r̄ u`` with ``u = x / ‖x‖``; at ``x = 0`` the
    rules choose the subgradient ``u = 0``, so every derivative there (reverse,
    forward, second order) is 0, never NaN.

    >>> import torch
    >>> x = torch.tensor([[3.0, 4.0], [0.0, 0.0]], dtype=torch.float64, requires_grad=True)
    >>> r = norm(x)
    >>> r
    tensor([5., 0.], dtype=torch.float64, grad_fn=<NormBackward>)
    >>> (g,) = torch.autograd.grad(r.sum(), x, create_graph=True)
    >>> g
    tensor([[0.6000, 0.8000],
            [0.0000, 0.0000]], dtype=torch.float64, grad_fn=<MulBackward0>)
    >>> torch.autograd.grad(g[1].sum(), x)[0][1]  # second derivative at 0: finite
    tensor([0., 0.], dtype=torch.float64)
    """
    rules.check_norm(x, _TENSOR)
    return Norm.apply(x)
