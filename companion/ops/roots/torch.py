"""PyTorch adapter of the root finder: ``Root`` and ``companion.torch.root``.

``forward`` runs Newton's method (``∂F/∂x`` by ``torch.func.jacrev`` of ``F``,
factorised once per iteration); ``backward`` and ``jvp`` apply the implicit
function theorem at the root (:mod:`companion.ops.roots.rules`): one Jacobian of
``F`` at the root, one solve with its factors, one VJP or JVP of ``F`` in the
parameters. Both are written in differentiable operations on the saved root
(the Function's own output), so derivatives of any order flow back through
``Root`` again. Only tensors passed as ``*params`` get gradients: tensors ``F``
captures by closure get none.

``forward`` stops on a convergence test (a Python loop with ``.item()``), which
``torch.func.vmap`` cannot run on batched tensors; ``Root.vmap`` therefore solves
the examples of a batch one by one (each by ``Root.apply``, so each keeps its
rules).
"""

from __future__ import annotations

from typing import Any, Callable

from companion import _validate
from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.roots import rules  # noqa: E402
from companion.ops.roots.rules import RootNotFoundError  # noqa: E402
from companion.xp.torch import (  # noqa: E402
    LUFactors, SingularMatrixError, TorchOps, lu_factor, plain_solve_ops, torch_ops,
)

__all__ = ["root", "Root", "RootNotFoundError"]

_TENSOR = "a torch.Tensor"


def _jacobian(F: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``∂F/∂x`` as a function of ``(x, *params)``: PyTorch's own
    ``torch.func.jacrev``."""
    return torch.func.jacrev(F, argnums=0)


class _AtTheRoot(TorchOps):
    """The rules' namespace at the root: a singular ``∂F/∂x`` there raises an error
    naming the op."""

    @staticmethod
    def lu_factor(A: Tensor) -> LUFactors:
        try:
            return lu_factor(A, "root")
        except SingularMatrixError as err:
            raise SingularMatrixError(
                "root: the Jacobian ∂F/∂x is singular at the root, so the implicit "
                "function theorem gives no derivative there (a fold or a multiple root)"
            ) from err


_at_root = _AtTheRoot()


def _newton(
    F: Callable[..., Tensor],
    x0: Tensor,
    params: tuple[Tensor, ...],
    tol: float,
    max_iter: int,
) -> Tensor:
    """Newton's method from ``x0``: the step from the first iterate with ``‖F‖∞ ≤ tol``
    is returned."""
    rules.check_residual(F(x0, *params), x0)
    x, jacobian = x0, _jacobian(F)
    for k in range(max_iter):
        try:
            x_next, r, _ = rules.root_newton_step(
                F, jacobian, x, params, plain_solve_ops
            )
        except SingularMatrixError as err:
            residual = float(F(x, *params).abs().max())
            message = rules.not_converged_message(
                "the Jacobian ∂F/∂x is singular", k, residual, tol, max_iter
            )
            raise RootNotFoundError(message) from err
        residual = float(r)
        if not residual < float("inf"):
            message = rules.not_converged_message(
                "non-finite residual", k, residual, tol, max_iter
            )
            raise RootNotFoundError(message)
        if residual <= tol:
            return x_next
        x = x_next
    residual = float(F(x, *params).abs().max())
    message = rules.not_converged_message(
        "max_iter reached", max_iter, residual, tol, max_iter
    )
    raise RootNotFoundError(message)


class Root(torch.autograd.Function):
    """``x`` with ``F(x, θ) = 0`` by Newton's method; derivatives by the implicit
    function theorem.

    ``apply(F, tol, max_iter, x0, *params)``. JVP: ``ẋ = −J⁻¹ (∂F/∂θ) θ̇``; VJP:
    ``u = J⁻ᵀ x̄``, ``θ̄ = −(∂F/∂θ)ᵀ u``, ``x̄₀ = 0``, with ``J = ∂F/∂x`` at the root.

    >>> F = lambda x, c: x * x - c
    >>> x0 = torch.ones(2, dtype=torch.float64)
    >>> c = torch.tensor([4.0, 9.0], dtype=torch.float64)
    >>> torch.func.jacrev(lambda c: Root.apply(F, 1e-8, 50, x0, c))(c)
    tensor([[0.2500, 0.0000],
            [0.0000, 0.1667]], dtype=torch.float64)
    """

    @staticmethod
    def forward(
        F: Callable[..., Tensor], tol: float, max_iter: int, x0: Tensor, *params: Tensor
    ) -> Tensor:
        return _newton(F, x0, params, tol, max_iter)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        F, _, _, _, *params = inputs
        ctx.F = F
        ctx.save_for_backward(output, *params)
        ctx.save_for_forward(output, *params)

    @staticmethod
    def backward(ctx: Any, x_bar: Tensor) -> tuple[Tensor | None, ...]:
        x, *params = ctx.saved_tensors
        F, needs = ctx.F, ctx.needs_input_grad[3:]
        if not any(needs):
            return (None,) * (3 + len(needs))
        lu_factors = _at_root.lu_factor(_jacobian(F)(x, *params))
        _, F_vjp = torch.func.vjp(lambda *p: F(x, *p), *params)
        cotangents = rules.root_cotangents(lu_factors, x_bar, F_vjp, torch_ops, needs)
        return (None, None, None, *cotangents)

    @staticmethod
    def jvp(
        ctx: Any,
        _F: None,
        _tol: None,
        _max_iter: None,
        x0_dot: Tensor | None,
        *params_dot: Tensor | None,
    ) -> Tensor:
        x, *params = ctx.saved_tensors
        F = ctx.F
        # One jacrev of F in (x, *params) at the root gives ∂F/∂x and the rows of ∂F/∂θ.
        # (∂F/∂θ) θ̇ is formed from those rows: torch.func.jvp would nest forward AD
        # inside torch.autograd.forward_ad, which PyTorch does not support.
        jacobians = torch.func.jacrev(F, argnums=tuple(range(1 + len(params))))
        J_x, *J_params = jacobians(x, *params)
        F_dot = torch.zeros_like(x)
        for J, t in zip(J_params, params_dot):
            if t is not None:
                F_dot = F_dot + J.reshape(x.shape[0], -1) @ t.reshape(-1)
        return rules.root_tangent(_at_root.lu_factor(J_x), F_dot, torch_ops)

    @staticmethod
    def vmap(
        info: Any,
        in_dims: tuple[int | None, ...],
        F: Any,
        tol: float,
        max_iter: int,
        *args: Tensor,
    ) -> tuple[Tensor, int]:
        """Solve each example of the batch by ``Root.apply`` (Newton's loop tests
        convergence with ``.item()``)."""

        def example(i: int) -> tuple[Tensor, ...]:
            dims = in_dims[3:]
            return tuple(a if d is None else a.select(d, i) for a, d in zip(args, dims))

        batch = range(info.batch_size)
        roots = [Root.apply(F, tol, max_iter, *example(i)) for i in batch]
        return torch.stack(roots), 0


def root(
    F: Callable[..., Tensor],
    x0: Tensor,
    *params: Tensor,
    tol: float | None = None,
    max_iter: int = 50,
) -> Tensor:
    """``x`` with ``F(x, *params) = 0`` for ``x`` of shape ``(n,)``, by Newton's method
    from ``x0``; a custom rule (:class:`Root`).

    ``F(x, *params)`` returns a tensor of ``x``'s shape. Newton's step
    ``x_{k+1} = x_k − J(x_k)⁻¹ F(x_k, θ)`` uses ``J = ∂F/∂x`` formed by
    ``torch.func.jacrev`` (``n`` reverse passes of ``F``: meant for small ``n``);
    the loop stops after the step taken from the first iterate with
    ``‖F(x_k, θ)‖∞ ≤ tol`` (default: the square root of the dtype's epsilon).
    Derivatives by the implicit function theorem (not through the iterations):
    JVP ``ẋ = −J⁻¹ (∂F/∂θ) θ̇``, VJP ``θ̄ = −(∂F/∂θ)ᵀ J⁻ᵀ x̄``, and zero for ``x0``.
    Only ``params`` get gradients; tensors ``F`` captures by closure get none.

    Raises :class:`RootNotFoundError` (naming the residual reached, ``tol`` and
    ``max_iter``) when ``max_iter`` steps do not reach ``tol``, when ``∂F/∂x`` is
    singular at an iterate, or when the residual is not finite.

    >>> import torch
    >>> F = lambda x, c: x * x - c
    >>> c = torch.tensor([4.0, 9.0], dtype=torch.float64, requires_grad=True)
    >>> x = root(F, torch.ones(2, dtype=torch.float64), c)
    >>> x
    tensor([2., 3.], dtype=torch.float64, grad_fn=<RootBackward>)
    >>> x.sum().backward()
    >>> c.grad  # d√c/dc = 1 / (2 √c)
    tensor([0.2500, 0.1667], dtype=torch.float64)
    >>> root(F, torch.ones(2, dtype=torch.float64), -c.detach(), max_iter=20)
    Traceback (most recent call last):
        ...
    companion.torch.RootNotFoundError: root: Newton's method found no root
    (max_iter reached): ...
    """
    names = rules.param_names(F, len(params))
    rules.check_root(F, x0, dict(zip(names, params)), _TENSOR)
    tol = rules.default_tol(_validate.dtype_name(x0)) if tol is None else tol
    rules.check_iteration(tol, max_iter)
    return Root.apply(F, float(tol), max_iter, x0, *params)
