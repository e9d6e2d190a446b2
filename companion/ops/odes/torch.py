"""PyTorch adapters of the ODE family: ``ODEInt`` and ``companion.torch.odeint``.

``ODEInt`` is a ``torch.autograd.Function`` whose ``backward`` is the
continuous adjoint (``rules.odeint_cotangents``) and whose ``jvp`` integrates
the variational equation (``rules.odeint_tangent``). The user's ``f`` is
differentiated with ``torch.func.vjp`` / ``torch.func.jvp`` inside them. The
backward is written in differentiable PyTorch operations, so second
derivatives (double backward, ``torch.func.hessian``) differentiate the
adjoint's own RK4 steps. Only the explicit ``*params`` receive gradients:
tensors that ``f`` captures by closure are constants to the rule.
"""

from __future__ import annotations

from typing import Any, Callable

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.odes import rules  # noqa: E402
from companion.xp.torch import torch_ops, zeros_if_none  # noqa: E402

__all__ = ["odeint", "odeint_discrete", "ODEInt"]

_TENSOR = "a torch.Tensor"


def _f_jvp(f: Callable[..., Tensor]) -> Callable[..., tuple[Tensor, Tensor]]:
    """``(x, τ, θ, ẋ, θ̇) ↦ (f, (∂f/∂x) ẋ + (∂f/∂θ) θ̇)``, the transpose of
    ``torch.func.vjp``'s pullback.

    The pullback ``u ↦ ((∂f/∂x)ᵀu, (∂f/∂θ)ᵀu)`` is linear; its VJP with the tangents
    is the JVP. (Written with reverse mode only: for dual tensors
    (``torch.autograd.forward_ad``) PyTorch calls :meth:`ODEInt.jvp` inside the
    caller's dual level, where ``torch.func.jvp`` raises "Nested forward mode AD is
    not supported".)
    """

    def f_jvp(
        x: Tensor,
        tau: Tensor,
        params: tuple[Tensor, ...],
        x_dot: Tensor,
        params_dot: tuple[Tensor, ...],
    ):
        fx = f(x, tau, *params)

        def pullback(u: Tensor) -> tuple[Tensor, ...]:
            return torch.func.vjp(lambda x, *p: f(x, tau, *p), x, *params)[1](u)

        _, transpose = torch.func.vjp(pullback, torch.zeros_like(fx))
        (f_dot,) = transpose((x_dot, *params_dot))
        return fx, f_dot

    return f_jvp


def _f_vjp(
    f: Callable[..., Tensor],
) -> Callable[..., tuple[Tensor, Tensor, tuple[Tensor, ...]]]:
    """``(x, τ, θ, a) ↦ (f, (∂f/∂x)ᵀa, (∂f/∂θ)ᵀa)`` by ``torch.func.vjp``."""

    def f_vjp(x: Tensor, tau: Tensor, params: tuple[Tensor, ...], a: Tensor):
        fx, pullback = torch.func.vjp(lambda x, *p: f(x, tau, *p), x, *params)
        x_bar, *p_bar = pullback(a)
        return fx, x_bar, tuple(p_bar)

    return f_vjp


class ODEInt(torch.autograd.Function):
    """``ys = odeint(f, x0, t, *params)`` by RK4. VJP: the continuous adjoint
    ``ȧ = −(∂f/∂x)ᵀa``, ``dθ̄/dt = −(∂f/∂θ)ᵀa`` integrated backward with ``x``;
    JVP: the variational equation ``v̇ = (∂f/∂x) v + (∂f/∂θ) θ̇``.

    >>> t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> k = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    >>> x0 = torch.ones(1, dtype=torch.float64)
    >>> ys = ODEInt.apply(lambda x, t, k: -k * x, 40, x0, t, k)
    >>> ys[-1].sum().backward()
    >>> round(k.grad.item(), 8)  # d/dk e^{−k} = −e^{−1}
    -0.36787944
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        f: Callable[..., Tensor], steps: int, x0: Tensor, t: Tensor, *params: Tensor
    ) -> Tensor:
        return rules.odeint(f, x0, t, params, steps, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        f, steps, x0, t, *params = inputs
        ctx.f, ctx.steps = f, steps
        ctx.save_for_backward(output, t, *params)
        ctx.save_for_forward(x0, t, *params)

    @staticmethod
    def backward(ctx: Any, ys_bar: Tensor) -> tuple[Tensor | None, ...]:
        ys, t, *params = ctx.saved_tensors
        needs = ctx.needs_input_grad[2:]
        if not any(needs):
            return (None,) * (2 + len(needs))
        grads = rules.odeint_cotangents(
            ctx.f, _f_vjp(ctx.f), ys, t, tuple(params), ys_bar, ctx.steps, torch_ops,
            needs=needs,
        )
        return (None, None, *grads)

    @staticmethod
    def jvp(
        ctx: Any,
        f_dot: Any,
        steps_dot: Any,
        x0_dot: Tensor | None,
        t_dot: Tensor | None,
        *params_dot: Tensor | None,
    ) -> Tensor:
        x0, t, *params = ctx.saved_tensors
        x0_dot, t_dot = zeros_if_none(x0_dot, x0), zeros_if_none(t_dot, t)
        params_dot = tuple(zeros_if_none(d, p) for d, p in zip(params_dot, params))
        _, ys_dot = rules.odeint_tangent(
            _f_jvp(ctx.f), x0, t, tuple(params), x0_dot, t_dot, params_dot, ctx.steps,
            torch_ops,
        )
        return ys_dot


def _check_increasing(t: Tensor) -> None:
    """Raise unless ``t`` is strictly increasing, where its values can be read (not
    inside ``vmap``)."""
    if t.is_meta or torch.compiler.is_compiling() or t.shape[0] < 2:
        return
    try:
        ok = bool((t[1:] > t[:-1]).all())
    except RuntimeError:  # inside torch.func.vmap: values cannot be read
        return
    if not ok:
        raise ValueError(
            f"odeint: t must be strictly increasing; got {t.detach().tolist()}"
        )


def odeint(
    f: Callable[..., Tensor],
    x0: Tensor,
    t: Tensor,
    *params: Tensor,
    steps_per_interval: int = 100,
) -> Tensor:
    """The states ``x(t_0), …, x(t_N)`` of ``dx/dt = f(x, t, *params)``,
    ``x(t_0) = x0``, by RK4 with ``steps_per_interval`` steps between consecutive
    times; shape ``(len(t), *x0.shape)``.

    Reverse mode is the continuous adjoint (no trajectory stored: memory independent
    of the number of steps), forward mode the variational equation (:class:`ODEInt`).
    ``f(x, t, *params)`` must return an array of ``x``'s shape; only ``x0``, ``t`` and
    ``params`` get gradients, not tensors ``f`` closes over.

    >>> import torch
    >>> t = torch.linspace(0, 1, 3, dtype=torch.float64)
    >>> k = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    >>> ys = odeint(lambda x, t, k: -k * x, torch.ones(1, dtype=torch.float64), t, k)
    >>> ys.shape, round(ys[-1].item(), 8)  # e^{−2}
    (torch.Size([3, 1]), 0.13533528)
    """
    rules.check_odeint(f, x0, t, params, steps_per_interval, _TENSOR)
    _check_increasing(t)
    _check_f_shape(f, x0, t, params)
    return ODEInt.apply(f, steps_per_interval, x0, t, *params)


def _check_f_shape(
    f: Callable[..., Tensor], x0: Tensor, t: Tensor, params: tuple[Tensor, ...]
) -> None:
    """``f(x0, t[0], *params)`` runs and returns a tensor of ``x0``'s shape."""
    try:
        with torch.no_grad():
            fx = f(x0, t[0], *params)
    except Exception as err:  # noqa: BLE001 - re-raised with the shapes, chained
        message = rules.f_error(f"raised {type(err).__name__} ({err})", x0)
        raise ValueError(message) from err
    if not isinstance(fx, Tensor) or tuple(fx.shape) != tuple(x0.shape):
        shape = tuple(getattr(fx, "shape", ()))
        raise ValueError(
            rules.f_error(f"returned {type(fx).__name__} of shape {shape}", x0)
        )


def odeint_discrete(
    f: Callable[..., Tensor],
    x0: Tensor,
    t: Tensor,
    *params: Tensor,
    steps_per_interval: int = 100,
) -> Tensor:
    """The same RK4 solution as :func:`odeint`, differentiated by autograd through every
    step (discretise-then-differentiate: the exact derivative of the RK4 output, memory
    growing with the steps).

    >>> t = torch.linspace(0, 1, 2, dtype=torch.float64)
    >>> x0 = torch.ones(1, dtype=torch.float64)
    >>> odeint_discrete(lambda x, t: -x, x0, t, steps_per_interval=1)[-1]
    tensor([0.3750], dtype=torch.float64)
    """
    rules.check_odeint(f, x0, t, params, steps_per_interval, _TENSOR)
    _check_increasing(t)
    return rules.odeint(f, x0, t, params, steps_per_interval, torch_ops)
