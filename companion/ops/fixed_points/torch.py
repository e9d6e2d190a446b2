"""PyTorch adapter of the fixed points: ``FixedPoint`` and the public ``fixed_point``.

``FixedPoint.forward`` iterates ``x_{k+1} = f(x_k, θ)`` without recording a
graph. ``backward`` solves the adjoint equation ``u = x̄ + (∂f/∂x)ᵀ u`` by
calling ``FixedPoint`` again, on the adjoint map, with VJPs of ``f``
(``torch.func.vjp``), then returns ``θ̄ = (∂f/∂θ)ᵀ u``. Since the backward is
built from ``FixedPoint`` and ``torch.func.vjp``, it is differentiable:
second derivatives solve one more fixed point each. ``jvp`` iterates
``ẋ = (∂f/∂x) ẋ + (∂f/∂θ) θ̇`` with JVPs of ``f`` (each the VJP of a VJP,
see :func:`_jvp`).

Only the explicit ``params`` receive gradients: tensors that ``f`` reads from
its closure are constants to the ``autograd.Function``.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.fixed_points import rules  # noqa: E402
from companion.xp.torch import torch_ops  # noqa: E402

__all__ = ["fixed_point", "FixedPoint", "FixedPointError"]

_TENSOR = "a torch.Tensor"


class FixedPointError(RuntimeError):
    """``fixed_point`` ran out of iterations: the message names the residual reached, ``tol`` and ``max_iter``."""

    __module__ = "companion.torch"  # its public home


def _values(t: Tensor) -> Tensor | None:
    """``t`` with every ``torch.func`` wrapper removed, so its values can be read; None if they cannot.

    Inside ``torch.func.vmap`` the residual is a batched tensor, which refuses
    ``.item()``; the tensor under the wrappers holds the residuals of the whole
    batch, and the iteration stops when all of them are below ``tol``. PyTorch
    has no public way to unwrap it: this reads ``torch._C._functorch``
    (private). The older vmap that ``gradcheck`` uses for its batched-gradient
    tests, reverse and forward mode (``torch._vmap_internals``), gives no access to the batch:
    then (and should a later PyTorch drop these functions) this returns None.
    """
    try:
        functorch = torch._C._functorch
        is_wrapped, unwrap = functorch.is_functorch_wrapped_tensor, functorch.get_unwrapped
        is_legacy = functorch.is_legacy_batchedtensor
    except AttributeError:
        return None
    while is_wrapped(t):
        t = unwrap(t)
    return None if is_legacy(t) else t.detach()


def _converged(residual: Tensor, tol: float) -> bool:
    """Every residual (of every batch element under ``vmap``) is at most ``tol``; False if unreadable."""
    values = _values(residual)
    return values is not None and bool((values <= tol).all())


def _iterate(f: Callable[..., Tensor], x0: Tensor, params: tuple[Any, ...], tol: float, max_iter: int, what: str) -> Tensor:
    """The iteration of :func:`companion.rules.fixed_point`; raises :class:`FixedPointError` if it does not converge.

    Where the residual cannot be read (see :func:`_values`), the iteration runs
    all ``max_iter`` steps and cannot raise.
    """
    x, residual, _ = rules.fixed_point(f, x0, params, torch_ops, tol, max_iter, converged=_converged)
    values = _values(residual)
    if values is not None and not bool((values <= tol).all()):
        raise FixedPointError(rules.not_converged_message(float(values.max()), tol, max_iter, what))
    return x


def _wrapped(*tensors: Tensor) -> bool:
    """Whether any tensor is wrapped by a ``torch.func`` transform or the older vmap (or may be)."""
    try:
        functorch = torch._C._functorch
        return any(functorch.is_functorch_wrapped_tensor(t) or functorch.is_legacy_batchedtensor(t) for t in tensors)
    except AttributeError:
        return True


def _first_order_backward(
    f: Callable[..., Tensor], x: Tensor, params: list[Tensor], x_bar: Tensor, wanted: list[int],
    needs: tuple[bool, ...], tol: float, max_iter: int,
) -> tuple[Tensor | None, ...]:
    """The backward pass when no derivative of it is wanted (no ``create_graph``, no ``torch.func``).

    The same equations, ``u = x̄ + (∂f/∂x)ᵀ u`` then ``θ̄ = (∂f/∂θ)ᵀ u``, with one graph
    of ``f`` at ``(x*, θ)`` recorded once and reused by every adjoint iteration
    (``retain_graph=True``): each iteration is one backward pass through ``f``,
    without re-evaluating ``f``. This is the classic DEQ implementation
    (Bai et al. 2019); the differentiable path calls ``FixedPoint`` instead.
    """
    with torch.enable_grad():
        xg = x.detach().requires_grad_()
        pg = [p.detach().requires_grad_(n) for p, n in zip(params, needs)]
        fx = f(xg, *pg)

    def vjp_x(u: Tensor) -> Tensor:
        return torch.autograd.grad(fx, xg, u, retain_graph=True)[0]

    adjoint = lambda u: rules.fixed_point_adjoint_map(u, x_bar, vjp_x)  # noqa: E731
    u = _iterate(adjoint, x_bar, (), tol, max_iter, "the adjoint equation u = x̄ + (∂f/∂x)ᵀ u")

    def vjp_params(u: Tensor) -> list[Tensor | None]:
        grads = torch.autograd.grad(fx, [pg[i] for i in wanted], u)
        out: list[Tensor | None] = [None] * len(params)
        for i, g in zip(wanted, grads):
            out[i] = g
        return out

    return rules.fixed_point_cotangents(u, vjp_params, needs)


def _adjoint_map(f: Callable[..., Tensor], u: Tensor, x_bar: Tensor, x: Tensor, *params: Any) -> Tensor:
    """``u ↦ x̄ + (∂f/∂x)ᵀ u`` at ``(x, θ)``, with explicit tensor arguments so that it is differentiable."""
    _, vjp_x = torch.func.vjp(lambda x: f(x, *params), x)
    return rules.fixed_point_adjoint_map(u, x_bar, lambda u: vjp_x(u)[0])


def _jvp(fn: Callable[..., Tensor], primals: tuple[Tensor, ...], tangents: tuple[Tensor, ...]) -> Tensor:
    """The JVP ``J v`` of ``fn`` as the VJP of its (linear) VJP map, ``u ↦ Jᵀ u``.

    Two reverse passes instead of one forward pass: ``torch.func.jvp`` cannot run
    here, because this code runs inside ``FixedPoint.jvp``, under the dual level
    of ``torch.autograd.forward_ad``, and PyTorch refuses nested forward-mode AD
    ("Nested forward mode AD is not supported at the moment").
    """
    y, vjp_fn = torch.func.vjp(fn, *primals)
    _, vjp_of_vjp = torch.func.vjp(vjp_fn, torch.zeros_like(y))
    return vjp_of_vjp(tangents)[0]


def _tangent_map(f: Callable[..., Tensor], v: Tensor, b: Tensor, x: Tensor, *params: Any) -> Tensor:
    """``v ↦ b + (∂f/∂x) v`` at ``(x, θ)``."""
    return rules.fixed_point_tangent_map(v, b, lambda v: _jvp(lambda x: f(x, *params), (x,), (v,)))


class FixedPoint(torch.autograd.Function):
    """``x* = f(x*, θ)`` by iteration; ``apply(f, tol, max_iter, x0, *params)``.

    VJP: ``u = x̄ + (∂f/∂x)ᵀ u`` (a ``FixedPoint`` of the adjoint map),
    ``θ̄ = (∂f/∂θ)ᵀ u``. JVP: ``ẋ = (∂f/∂x) ẋ + (∂f/∂θ) θ̇``, iterated. ``x0`` gets
    no derivative.

    >>> W = torch.tensor([[0.5]], dtype=torch.float64)
    >>> x0 = torch.zeros(1, dtype=torch.float64)
    >>> x = FixedPoint.apply(lambda x, W: W @ x + 1, 1e-14, 100, x0, W)
    >>> x.round(decimals=12)
    tensor([2.], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        f: Callable[..., Tensor], tol: float, max_iter: int, x0: Tensor, *params: Any
    ) -> Tensor:
        return _iterate(f, x0, params, tol, max_iter, "x = f(x, *params)")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        f, tol, max_iter, _, *params = inputs
        ctx.f, ctx.tol, ctx.max_iter = f, tol, max_iter
        ctx.save_for_backward(output, *params)
        ctx.save_for_forward(output, *params)

    @staticmethod
    def backward(ctx: Any, x_bar: Tensor) -> tuple[Tensor | None, ...]:
        x, *params = ctx.saved_tensors
        needs = ctx.needs_input_grad[4:]
        # x* does not depend on x0; 0 * x̄ rather than zeros_like, so that forward AD
        # over this backward sees a (zero) tangent for it too
        x0_bar = 0 * x_bar if ctx.needs_input_grad[3] else None
        if not any(needs):
            return (None, None, None, x0_bar, *(None for _ in params))
        f = ctx.f
        wanted = [i for i, n in enumerate(needs) if n]  # f differentiated in these only
        if not torch.is_grad_enabled() and not _wrapped(x_bar, x, *params):
            params_bar = _first_order_backward(
                f, x, params, x_bar, wanted, needs, ctx.tol, ctx.max_iter
            )
            return (None, None, None, x0_bar, *params_bar)
        adjoint = functools.partial(_adjoint_map, f)
        u = FixedPoint.apply(adjoint, ctx.tol, ctx.max_iter, x_bar, x_bar, x, *params)

        def f_of_wanted(*q: Tensor) -> Tensor:
            p = list(params)
            for i, qi in zip(wanted, q):
                p[i] = qi
            return f(x, *p)

        _, vjp_wanted = torch.func.vjp(f_of_wanted, *(params[i] for i in wanted))

        def vjp_params(u: Tensor) -> list[Tensor | None]:
            out: list[Tensor | None] = [None] * len(params)
            for i, g in zip(wanted, vjp_wanted(u)):
                out[i] = g
            return out

        params_bar = rules.fixed_point_cotangents(u, vjp_params, needs)
        return (None, None, None, x0_bar, *params_bar)

    @staticmethod
    def jvp(
        ctx: Any, _f: None, _tol: None, _max_iter: None, _x0_dot: Tensor | None,
        *params_dot: Tensor | None,
    ) -> Tensor:
        x, *params = ctx.saved_tensors
        f = ctx.f
        dots = tuple(
            torch.zeros_like(p) if d is None else d for p, d in zip(params, params_dot)
        )
        b = _jvp(lambda *p: f(x, *p), tuple(params), dots)
        tangent = functools.partial(_tangent_map, f)
        what = "the tangent equation"
        return _iterate(tangent, b, (b, x, *params), ctx.tol, ctx.max_iter, what)


def fixed_point(
    f: Callable[..., Tensor], x0: Tensor, *params: Tensor, tol: float | None = None, max_iter: int = rules.DEFAULT_MAX_ITER
) -> Tensor:
    """The fixed point ``x* = f(x*, *params)``, found by iterating ``x ↦ f(x, *params)`` from ``x0``.

    Differentiable in ``params`` without unrolling (a custom rule,
    :class:`FixedPoint`): VJP ``u = x̄ + (∂f/∂x)ᵀ u``, ``θ̄ = (∂f/∂θ)ᵀ u``; JVP
    ``ẋ = (∂f/∂x) ẋ + (∂f/∂θ) θ̇``, each solved by the same iteration with VJPs or
    JVPs of ``f``. ``x0`` gets no gradient, and neither do tensors ``f`` reads
    from its closure: pass them as ``params``. Stops when
    ``‖f(x) − x‖_∞ ≤ tol (1 + ‖f(x)‖_∞)`` (default ``tol``: 64 machine epsilons
    of the dtype); raises :class:`FixedPointError` naming the residual reached
    if that takes more than ``max_iter`` iterations.

    >>> import torch
    >>> W = torch.tensor([[0.5, 0.0], [0.25, 0.5]], dtype=torch.float64, requires_grad=True)
    >>> b = torch.ones(2, dtype=torch.float64, requires_grad=True)
    >>> f = lambda x, W, b: W @ x + b
    >>> x = fixed_point(f, torch.zeros(2, dtype=torch.float64), W, b)
    >>> x.grad_fn.name(), x.detach().round(decimals=12)  # (I − W)⁻¹ b
    ('FixedPointBackward', tensor([2., 3.], dtype=torch.float64))
    >>> x.sum().backward()
    >>> b.grad.round(decimals=12)  # (I − W)⁻ᵀ 1
    tensor([3., 2.], dtype=torch.float64)
    >>> fixed_point(
    ...     lambda x, W, b: W @ x + b,
    ...     torch.zeros(2, dtype=torch.float64),
    ...     3 * W,
    ...     b,
    ...     max_iter=20,
    ... )
    Traceback (most recent call last):
        ...
    companion.torch.FixedPointError: fixed_point: no convergence ... in max_iter=20 ...
    """
    dtype = rules.check_fixed_point(f, x0, params, _TENSOR)
    tol = rules.default_tol(dtype) if tol is None else tol
    rules.check_fixed_point_options(tol, max_iter)
    return FixedPoint.apply(f, tol, max_iter, x0, *params)
