"""PyTorch adapters of the linear-algebra rules: ``MatVec`` and ``Solve``.

Modern-style ``torch.autograd.Function`` classes (``setup_context``,
``backward``, ``jvp``, ``generate_vmap_rule``). ``Solve`` factorises ``A``
once; its ``backward`` and ``jvp`` solve with the same factors through
:class:`companion.torch.FactoredSolve`, so derivatives of any order never
factorise again.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.linalg import rules  # noqa: E402
from companion.xp.torch import LUFactors, plain_solve_ops, torch_ops, zeros_if_none  # noqa: E402

__all__ = ["matvec", "solve", "MatVec", "Solve"]

_TENSOR = "a torch.Tensor"

# --------------------------------------------------------------------------
# matvec
# --------------------------------------------------------------------------


class MatVec(torch.autograd.Function):
    """``y = A x``. JVP: ``ẏ = Ȧ x + A ẋ``. VJP: ``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``.

    >>> A = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    >>> torch.func.jacfwd(MatVec.apply, argnums=1)(A, torch.ones(2, dtype=torch.float64))
    tensor([[1., 2.],
            [3., 4.]], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(A: Tensor, x: Tensor) -> Tensor:
        return rules.matvec(A, x, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Tensor], output: Tensor) -> None:
        A, x = inputs
        ctx.save_for_backward(A, x)
        ctx.save_for_forward(A, x)

    @staticmethod
    def backward(ctx: Any, y_bar: Tensor) -> tuple[Tensor | None, Tensor | None]:
        A, x = ctx.saved_tensors
        return rules.matvec_cotangents(A, x, y_bar, torch_ops, needs=ctx.needs_input_grad)

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor | None, x_dot: Tensor | None) -> Tensor:
        A, x = ctx.saved_tensors
        A_dot, x_dot = zeros_if_none(A_dot, A), zeros_if_none(x_dot, x)
        return rules.matvec_tangent(A, x, A_dot, x_dot, torch_ops)


def matvec(A: Tensor, x: Tensor) -> Tensor:
    """``A x`` for ``A`` of shape ``(m, n)`` and ``x`` of shape ``(n,)``; a custom rule (:class:`MatVec`).

    JVP: ``ẏ = Ȧ x + A ẋ``; VJP: ``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``.

    >>> import torch
    >>> A = torch.eye(2, dtype=torch.float64, requires_grad=True)
    >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> matvec(A, x).sum().backward()
    >>> A.grad
    tensor([[1., 2.],
            [1., 2.]], dtype=torch.float64)
    """
    rules.check_matvec(A, x, _TENSOR)
    return MatVec.apply(A, x)


# --------------------------------------------------------------------------
# solve: one LU factorisation, reused by backward and jvp
# --------------------------------------------------------------------------


class Solve(torch.autograd.Function):
    """``x = A⁻¹ b`` with one LU factorisation of ``A``.

    JVP: ``ẋ = A⁻¹ (ḃ − Ȧ x)``; VJP: ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ``; both reuse the
    factors. ``forward`` returns ``(x, lu, piv)``: the factors are outputs (marked
    non-differentiable) because that is how a modern-style Function hands an
    intermediate to ``setup_context`` in a way ``torch.func`` supports.

    >>> A = torch.tensor([[2.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
    >>> x, lu, piv = Solve.apply(A, torch.ones(2, dtype=torch.float64))
    >>> x
    tensor([0.5000, 0.2500], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(A: Tensor, b: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        x, (_, lu, piv, _) = rules.solve(A, b, plain_solve_ops)
        return x, lu, piv

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Tensor], output: tuple[Tensor, ...]) -> None:
        A, _ = inputs
        x, lu, piv = output
        ctx.mark_non_differentiable(lu, piv)
        ctx.set_materialize_grads(False)  # no zero-filled cotangents for lu and piv
        ctx.save_for_backward(A, x, lu, piv)
        ctx.save_for_forward(A, x, lu, piv)

    @staticmethod
    def backward(ctx: Any, x_bar: Tensor | None, _lu_bar: None, _piv_bar: None) -> tuple[Tensor | None, ...]:
        A, x, lu, piv = ctx.saved_tensors
        if x_bar is None or not any(ctx.needs_input_grad):
            return None, None
        factors = LUFactors(A, lu, piv)
        return rules.solve_cotangents(factors, x, x_bar, torch_ops, needs=ctx.needs_input_grad)

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor | None, b_dot: Tensor | None) -> tuple[Tensor, None, None]:
        A, x, lu, piv = ctx.saved_tensors
        A_dot, b_dot = zeros_if_none(A_dot, A), zeros_if_none(b_dot, x)
        return rules.solve_tangent(LUFactors(A, lu, piv), x, A_dot, b_dot, torch_ops), None, None


def solve(A: Tensor, b: Tensor) -> Tensor:
    """``x = A⁻¹ b`` for square ``A`` ``(n, n)`` and ``b`` ``(n,)`` or ``(n, k)``; a custom rule (:class:`Solve`).

    ``A`` is LU-factorised once; JVP ``ẋ = A⁻¹ (ḃ − Ȧ x)`` and VJP
    ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ`` reuse the factors. An exactly singular ``A``
    raises :class:`companion.torch.SingularMatrixError` (a ``ValueError`` and a
    ``torch.linalg.LinAlgError``).

    >>> import torch
    >>> A = torch.tensor([[2.0, 0.0], [0.0, 4.0]], dtype=torch.float64, requires_grad=True)
    >>> b = torch.tensor([2.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> x = solve(A, b)
    >>> x
    tensor([1.0000, 0.5000], dtype=torch.float64, grad_fn=<SolveBackward>)
    >>> x.sum().backward()
    >>> b.grad
    tensor([0.5000, 0.2500], dtype=torch.float64)
    >>> solve(torch.zeros(2, 2, dtype=torch.float64), b)
    Traceback (most recent call last):
        ...
    companion.torch.SingularMatrixError: solve: A must be non-singular; ...
    """
    rules.check_solve(A, b, _TENSOR)
    x, _, _ = Solve.apply(A, b)
    return x
