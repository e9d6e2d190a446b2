"""PyTorch adapters of the family: :class:`CGSolve` and ``companion.torch.cg_solve``.

One ``torch.autograd.Function`` serves the matrix form and the matrix-free
form: the matrix ``A`` is the parameter of the operator
:func:`~companion.ops.linear_solvers.rules.sym_matvec`. Its ``backward`` and
``jvp`` solve with :class:`CGSolve` again, and differentiate ``matvec`` at the
fixed solution with ``torch.func.vjp``/``torch.func.jvp``, so derivatives of
any order are CG solves too.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.linear_solvers import rules  # noqa: E402
from companion.xp.torch import torch_ops  # noqa: E402

__all__ = ["cg_solve", "CGSolve", "CGNotConvergedError"]

_TENSOR = "a torch.Tensor"


class CGNotConvergedError(RuntimeError):
    """``cg_solve`` did not reach ``‖b − A x‖ ≤ tol ‖b‖`` within ``max_iter`` steps, or met
    ``pᵀ A p ≤ 0`` (an ``A`` that is not positive definite)."""

    __module__ = "companion.torch"  # its public home


def _flag(t: Tensor) -> bool | None:
    """``bool(t)``, or None inside ``torch.func.vmap`` (a batched tensor has no single value)."""
    try:
        return bool(t)
    except RuntimeError:  # "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow"
        return None


def _cg(matvec: Callable[[Tensor], Tensor], b: Tensor, tol: float, max_iter: int) -> Tensor:
    """Run :func:`rules.cg_step` until ``‖r‖ ≤ tol ‖b‖``; raise if that fails.

    Inside ``torch.func.vmap`` no value can be read: the batch runs all
    ``max_iter`` steps, each system frozen once converged, and a system that
    has not converged by then comes back as NaN.
    """
    state = rules.cg_init(b, torch_ops)
    threshold = tol**2 * state.rr
    batched = False
    for k in range(max_iter):
        done = _flag(state.rr <= threshold)
        if done:
            break
        batched = batched or done is None
        state, pAp = rules.cg_step(matvec, state, torch_ops, active=(state.rr > threshold) if batched else None)
        if not batched and not pAp.item() > 0:
            raise CGNotConvergedError(
                f"cg_solve: A is not positive definite: pᵀ A p = {pAp.item():.3e} ≤ 0 at step {k + 1} "
                "(conjugate gradients needs a symmetric positive definite A)"
            )
    converged = state.rr <= threshold
    if batched or _flag(converged) is None:
        return torch.where(converged, state.x, torch.nan)
    if not converged:
        reached = math.sqrt(state.rr.item() / (b @ b).item())
        raise CGNotConvergedError(
            f"cg_solve: no convergence in max_iter = {max_iter} steps: the relative residual "
            f"‖b − A x‖/‖b‖ reached {reached:.3e}, above tol = {tol:.3e} (raise max_iter or tol, "
            "or precondition A)"
        )
    return state.x


class CGSolve(torch.autograd.Function):
    """``x = A⁻¹ b`` by CG for ``A = A(θ)`` SPD, given as ``matvec(v, *params)``.

    JVP: ``ẋ = A⁻¹ (ḃ − Ȧ x)``. VJP: ``u = A⁻¹ x̄``, ``b̄ = u``,
    ``θ̄ = −(∂(A(θ) x)/∂θ)ᵀ u``. Every solve, in every order of
    derivative, is :class:`CGSolve` again.
    Arguments: ``apply(matvec, tol, max_iter, b, *params)``.

    >>> A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    >>> b = torch.tensor([1.0, 2.0], dtype=torch.float64)
    >>> x = CGSolve.apply(rules.sym_matvec, 1e-12, 20, b, A)
    >>> torch.allclose(A @ x, b)
    True
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        matvec: Callable[..., Tensor], tol: float, max_iter: int,
        b: Tensor, *params: Tensor,
    ) -> Tensor:
        return _cg(lambda v: matvec(v, *params), b, tol, max_iter)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        matvec, tol, max_iter, _, *params = inputs
        ctx.matvec, ctx.tol, ctx.max_iter = matvec, tol, max_iter
        ctx.save_for_backward(output, *params)
        ctx.save_for_forward(output, *params)

    @staticmethod
    def backward(ctx: Any, x_bar: Tensor) -> tuple[Tensor | None, ...]:
        x, *params = ctx.saved_tensors
        needs_b, needs_params = ctx.needs_input_grad[3], ctx.needs_input_grad[4:]
        b_bar, params_bar = rules.cg_solve_cotangents(
            _solver(ctx, params), x_bar,
            lambda u: _matvec_vjp(ctx.matvec, x, params, u),
            torch_ops, needs=(needs_b, any(needs_params)),
        )
        grads = params_bar if params_bar is not None else (None,) * len(params)
        grads = tuple(g if n else None for g, n in zip(grads, needs_params))
        return (None, None, None, b_bar, *grads)

    @staticmethod
    def jvp(
        ctx: Any, _matvec: Any, _tol: Any, _max_iter: Any,
        b_dot: Tensor | None, *params_dot: Tensor | None,
    ) -> Tensor:
        x, *params = ctx.saved_tensors
        params_dot = tuple(
            torch.zeros_like(p) if t is None else t for p, t in zip(params, params_dot)
        )
        A_dot_x = _matvec_jvp(ctx.matvec, x, params, params_dot) if params else 0 * x
        b_dot = torch.zeros_like(x) if b_dot is None else b_dot
        return rules.cg_solve_tangent(_solver(ctx, params), b_dot, A_dot_x, torch_ops)


def _solver(ctx: Any, params: list[Tensor]) -> Callable[[Tensor], Tensor]:
    """``r ↦ A⁻¹ r`` with the operator of the forward pass (itself a :class:`CGSolve`)."""
    return lambda r: CGSolve.apply(ctx.matvec, ctx.tol, ctx.max_iter, r, *params)


def _matvec_vjp(matvec: Callable[..., Tensor], x: Tensor, params: list[Tensor], u: Tensor) -> tuple[Tensor, ...]:
    """``(∂(A(θ) x)/∂θ)ᵀ u`` at the fixed ``x``, by ``torch.func.vjp`` (differentiable again)."""
    return torch.func.vjp(lambda *p: matvec(x, *p), *params)[1](u)


def _matvec_jvp(
    matvec: Callable[..., Tensor], x: Tensor, params: list[Tensor], params_dot: tuple[Tensor, ...]
) -> Tensor:
    """``Ȧ x = (∂(A(θ) x)/∂θ) θ̇`` at the fixed ``x``, as the VJP of the (linear) VJP.

    Not ``torch.func.jvp``: a ``jvp`` rule may run inside a forward-mode level,
    and PyTorch does not nest forward mode ("Nested forward mode AD is not
    supported"). ``w ↦ (∂(A(θ) x)/∂θ)ᵀ w`` is linear, so its own VJP with
    cotangent ``θ̇`` is ``(∂(A(θ) x)/∂θ) θ̇``.
    """
    _, transposed = torch.func.vjp(lambda w: _matvec_vjp(matvec, x, params, w), torch.zeros_like(x))
    return transposed(tuple(params_dot))[0]


def cg_solve(A: Any, b: Tensor, *params: Tensor, tol: float = 1e-10, max_iter: int | None = None) -> Tensor:
    """``x = A⁻¹ b`` for a symmetric positive definite ``A`` by conjugate gradients; CG derivatives.

    ``A`` is a matrix ``(n, n)``, read through its symmetric part ``(A + Aᵀ)/2``
    (the derivative ``Ā = −(u xᵀ + x uᵀ)/2`` is symmetric), or a function
    ``A(v, *params)`` returning ``A(θ) v`` for an operator that is symmetric
    positive definite; ``b`` is a vector ``(n,)``. CG stops when
    ``‖b − A x‖ ≤ tol ‖b‖`` (the recursively updated residual); ``max_iter``
    defaults to ``10 n``. The JVP ``ẋ = A⁻¹ (ḃ − Ȧ x)`` and the VJP ``u = A⁻¹ x̄``,
    ``b̄ = u``, ``θ̄ = −(∂(A(θ) x)/∂θ)ᵀ u`` are CG solves with the same ``tol`` and
    ``max_iter``.

    **Gradients reach explicit params only.** Tensors that ``A`` captures by
    closure get no gradient: pass them as ``params``.

    **Non-convergence** raises :class:`CGNotConvergedError`, naming the
    relative residual reached, ``tol`` and ``max_iter`` (and ``pᵀ A p ≤ 0`` for
    an ``A`` that is not positive definite). Inside ``torch.func.vmap`` no value
    can be read: every system runs ``max_iter`` steps and an unconverged one
    returns NaN.

    >>> A = torch.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=torch.float64, requires_grad=True)
    >>> b = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> x = cg_solve(A, b)
    >>> torch.allclose(x, torch.linalg.solve(A, b))
    True
    >>> A_bar, b_bar = torch.autograd.grad(x.sum(), (A, b))
    >>> torch.allclose(A_bar, A_bar.mT)
    True
    >>> theta = torch.tensor([1.0, 2.0], dtype=torch.float64)
    >>> cg_solve(lambda v, theta: theta * v, b, theta).tolist()  # diag(θ)⁻¹ b
    [1.0, 1.0]
    """
    rules.check_cg_solve(A, b, params, _TENSOR)
    rules.check_cg_options(tol, max_iter)
    max_iter = 10 * b.shape[0] if max_iter is None else max_iter
    if callable(A) and not isinstance(A, Tensor):
        return CGSolve.apply(A, float(tol), max_iter, b, *params)
    return CGSolve.apply(rules.sym_matvec, float(tol), max_iter, b, A)
