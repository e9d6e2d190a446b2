"""PyTorch adapters of the matrix equations rules: ``Lyapunov``.

A modern-style ``torch.autograd.Function`` (``setup_context``, ``backward``,
``jvp``, ``generate_vmap_rule``). ``Lyapunov`` LU-factorises the Kronecker sum
``K = A ⊗ I + I ⊗ A`` once; its ``backward`` and ``jvp`` solve with the same
factors through :class:`companion.torch.FactoredSolve`, so derivatives of any
order never factorise again.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.matrix_equations import rules  # noqa: E402
from companion.xp.torch import (  # noqa: E402
    LUFactors,
    SingularMatrixError,
    plain_solve_ops,
    torch_ops,
    zeros_if_none,
)

__all__ = ["lyapunov", "Lyapunov"]

_TENSOR = "a torch.Tensor"
_NO_UNIQUE_SOLUTION = (
    "lyapunov: A must have no two eigenvalues with λᵢ + λⱼ = 0 (a stable A has none); "
    "got an A for which X ↦ A X + X Aᵀ is exactly singular (a zero pivot in the LU "
    "factorisation of A ⊗ I + I ⊗ A; torch's message, chained above, says which)"
)

# --------------------------------------------------------------------------
# lyapunov: one LU factorisation of K = A ⊗ I + I ⊗ A, reused by backward and jvp
# --------------------------------------------------------------------------


class Lyapunov(torch.autograd.Function):
    """``P`` with ``A P + P Aᵀ + Q = 0``, by one LU factorisation of ``A ⊗ I + I ⊗ A``.

    JVP: ``A Ṗ + Ṗ Aᵀ = −(Ȧ P + P Ȧᵀ + Q̇)``; VJP: ``Aᵀ W + W A + P̄ = 0``, then
    ``Q̄ = W``, ``Ā = W Pᵀ + Wᵀ P``; both reuse the factors. ``forward`` returns
    ``(P, lu, piv)``: the factors are outputs (marked non-differentiable), the way
    a modern-style Function hands an intermediate to ``setup_context`` that
    ``torch.func`` supports. ``backward`` and ``jvp`` rebuild ``K`` from ``A``
    (n⁴ entries, no factorisation) so that higher derivatives reach ``A``.

    >>> A = torch.tensor([[-1.0, 1.0], [0.0, -1.0]], dtype=torch.float64)
    >>> Q = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    >>> P, lu, piv = Lyapunov.apply(A, Q)
    >>> P
    tensor([[1.0000, 0.7500],
            [0.2500, 0.5000]], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(A: Tensor, Q: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        try:
            P, (_, lu, piv, _) = rules.lyapunov(A, Q, plain_solve_ops)
        except SingularMatrixError as err:
            raise SingularMatrixError(_NO_UNIQUE_SOLUTION) from err.__cause__
        return P, lu, piv

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Tensor], output: Any) -> None:
        A, _ = inputs
        P, lu, piv = output
        ctx.mark_non_differentiable(lu, piv)
        ctx.set_materialize_grads(False)  # no zero-filled cotangents for lu and piv
        ctx.save_for_backward(A, P, lu, piv)
        ctx.save_for_forward(A, P, lu, piv)

    @staticmethod
    def backward(ctx: Any, P_bar: Tensor | None, _lu_bar: None, _piv_bar: None) -> Any:
        A, P, lu, piv = ctx.saved_tensors
        if P_bar is None or not any(ctx.needs_input_grad):
            return None, None
        factors = LUFactors(rules.lyapunov_operator(A, torch_ops), lu, piv)
        needs = ctx.needs_input_grad
        return rules.lyapunov_cotangents(factors, P, P_bar, torch_ops, needs=needs)

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor | None, Q_dot: Tensor | None) -> Any:
        A, P, lu, piv = ctx.saved_tensors
        A_dot, Q_dot = zeros_if_none(A_dot, A), zeros_if_none(Q_dot, P)
        factors = LUFactors(rules.lyapunov_operator(A, torch_ops), lu, piv)
        P_dot = rules.lyapunov_tangent(factors, P, A_dot, Q_dot, torch_ops)
        return P_dot, None, None


def lyapunov(A: Tensor, Q: Tensor) -> Tensor:
    """``P`` with ``A P + P Aᵀ + Q = 0`` for square ``A`` and ``Q`` ``(n, n)``; a custom rule (:class:`Lyapunov`).

    Neither ``A`` nor ``Q`` needs to be symmetric. The Kronecker sum
    ``K = A ⊗ I + I ⊗ A`` (n² × n²) is LU-factorised once, O(n⁶) work, meant for
    n up to about 30; the JVP ``A Ṗ + Ṗ Aᵀ = −(Ȧ P + P Ȧᵀ + Q̇)`` and the VJP
    (``Aᵀ W + W A + P̄ = 0``, ``Q̄ = W``, ``Ā = W Pᵀ + Wᵀ P``) reuse the factors.
    The solution is unique when ``λᵢ + λⱼ ≠ 0`` for all eigenvalues of ``A``, as for a
    stable ``A``; stability is not checked. An ``A`` for which ``K`` is exactly
    singular (such as a singular ``A``) raises
    :class:`companion.torch.SingularMatrixError` (a ``ValueError`` and a
    ``torch.linalg.LinAlgError``); a nearly singular one gives an inaccurate ``P``.

    >>> import torch
    >>> A = torch.tensor([[-1.0, 1.0], [0.0, -1.0]], dtype=torch.float64)
    >>> A.requires_grad_(True) is A
    True
    >>> Q = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=torch.float64).requires_grad_()
    >>> P = lyapunov(A, Q)
    >>> P
    tensor([[1.0000, 0.7500],
            [0.2500, 0.5000]], dtype=torch.float64, grad_fn=<LyapunovBackward>)
    >>> C = torch.tensor([[1.0, 2.0], [0.0, 1.0]], dtype=torch.float64)
    >>> (C * P).sum().backward()  # the cotangent P̄ = C
    >>> Q.grad
    tensor([[0.5000, 1.2500],
            [0.2500, 1.2500]], dtype=torch.float64)
    >>> A.grad
    tensor([[2.0000, 1.2500],
            [2.7500, 2.2500]], dtype=torch.float64)
    >>> lyapunov(torch.zeros(2, 2, dtype=torch.float64), Q)
    Traceback (most recent call last):
        ...
    companion.torch.SingularMatrixError: lyapunov: A must have no two eigenvalues ...
    """
    rules.check_lyapunov(A, Q, _TENSOR)
    P, _, _ = Lyapunov.apply(A, Q)
    return P
