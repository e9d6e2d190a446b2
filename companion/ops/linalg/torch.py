"""PyTorch adapters of the linear-algebra rules: ``MatVec``, ``Solve``, ``QuadForm``, ``Inv`` and ``LogDet``.

Modern-style ``torch.autograd.Function`` classes (``setup_context``,
``backward``, ``jvp``, ``generate_vmap_rule``). ``Solve`` and ``LogDet``
factorise ``A`` once; their ``backward`` and ``jvp`` solve with the same
factors through :class:`companion.torch.FactoredSolve`, so derivatives of any
order never factorise again. ``Inv`` factorises once in ``forward`` and its
rules use the output ``A⁻¹``.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.linalg import rules  # noqa: E402
from companion.xp.torch import LUFactors, PlainSolveOps, lu_factor, plain_solve_ops, torch_ops, zeros_if_none  # noqa: E402

__all__ = ["matvec", "solve", "quad_form", "inv", "logdet", "MatVec", "Solve", "QuadForm", "Inv", "LogDet"]

_TENSOR = "a torch.Tensor"

# --------------------------------------------------------------------------
# matvec
# --------------------------------------------------------------------------


class MatVec(torch.autograd.Function):
    """``y = A x``. JVP: ``ẏ = Ȧ x + A ẋ``. VJP: ``Ā = ȳ xᵀ``, ``x̄ = Aᵀ ȳ``.

    >>> A = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    >>> x = torch.ones(2, dtype=torch.float64)
    >>> torch.func.jacfwd(MatVec.apply, argnums=1)(A, x)
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
        return rules.matvec_cotangents(
            A, x, y_bar, torch_ops, needs=ctx.needs_input_grad
        )

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
    def setup_context(
        ctx: Any, inputs: tuple[Tensor, Tensor], output: tuple[Tensor, ...]
    ) -> None:
        A, _ = inputs
        x, lu, piv = output
        ctx.mark_non_differentiable(lu, piv)
        ctx.set_materialize_grads(False)  # no zero-filled cotangents for lu and piv
        ctx.save_for_backward(A, x, lu, piv)
        ctx.save_for_forward(A, x, lu, piv)

    @staticmethod
    def backward(
        ctx: Any, x_bar: Tensor | None, _lu_bar: None, _piv_bar: None
    ) -> tuple[Tensor | None, ...]:
        A, x, lu, piv = ctx.saved_tensors
        if x_bar is None or not any(ctx.needs_input_grad):
            return None, None
        factors = LUFactors(A, lu, piv)
        return rules.solve_cotangents(
            factors, x, x_bar, torch_ops, needs=ctx.needs_input_grad
        )

    @staticmethod
    def jvp(
        ctx: Any, A_dot: Tensor | None, b_dot: Tensor | None
    ) -> tuple[Tensor, None, None]:
        A, x, lu, piv = ctx.saved_tensors
        A_dot, b_dot = zeros_if_none(A_dot, A), zeros_if_none(b_dot, x)
        return (
            rules.solve_tangent(LUFactors(A, lu, piv), x, A_dot, b_dot, torch_ops),
            None,
            None,
        )


def solve(A: Tensor, b: Tensor) -> Tensor:
    """``x = A⁻¹ b`` for square ``A`` ``(n, n)`` and ``b`` ``(n,)`` or ``(n, k)``; a
    custom rule (:class:`Solve`).

    ``A`` is LU-factorised once; JVP ``ẋ = A⁻¹ (ḃ − Ȧ x)`` and VJP
    ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ`` reuse the factors. An exactly singular ``A``
    raises :class:`companion.torch.SingularMatrixError` (a ``ValueError`` and a
    ``torch.linalg.LinAlgError``).

    >>> import torch
    >>> A = torch.tensor([[2.0, 0.0], [0.0, 4.0]], dtype=torch.float64).requires_grad_()
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


# --------------------------------------------------------------------------
# quad_form
# --------------------------------------------------------------------------


class QuadForm(torch.autograd.Function):
    """``y = xᵀ Q x``. JVP: ``ẏ = ẋᵀ (Q + Qᵀ) x + xᵀ Q̇ x``. VJP: ``x̄ = ȳ (Q + Qᵀ) x``,
    ``Q̄ = ȳ x xᵀ``.

    >>> Q = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=torch.float64)
    >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64)
    >>> torch.func.grad(QuadForm.apply)(x, Q)
    tensor([4., 5.], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(x: Tensor, Q: Tensor) -> Tensor:
        return rules.quad_form(x, Q, torch_ops)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, Tensor], output: Tensor) -> None:
        x, Q = inputs
        ctx.save_for_backward(x, Q)
        ctx.save_for_forward(x, Q)

    @staticmethod
    def backward(ctx: Any, y_bar: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, Q = ctx.saved_tensors
        return rules.quad_form_cotangents(
            x, Q, y_bar, torch_ops, needs=ctx.needs_input_grad
        )

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor | None, Q_dot: Tensor | None) -> Tensor:
        x, Q = ctx.saved_tensors
        x_dot, Q_dot = zeros_if_none(x_dot, x), zeros_if_none(Q_dot, Q)
        return rules.quad_form_tangent(x, Q, x_dot, Q_dot, torch_ops)


def quad_form(x: Tensor, Q: Tensor) -> Tensor:
    """``xᵀ Q x`` for ``x`` of shape ``(n,)`` and ``Q`` of shape ``(n, n)``, not assumed
    symmetric; a custom
    rule (:class:`QuadForm`).

    JVP: ``ẏ = ẋᵀ (Q + Qᵀ) x + xᵀ Q̇ x``; VJP: ``x̄ = ȳ (Q + Qᵀ) x``, ``Q̄ = ȳ x xᵀ``.

    >>> import torch
    >>> x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    >>> Q = torch.tensor([[1.0, 1.0], [0.0, 1.0]], dtype=torch.float64).requires_grad_()
    >>> y = quad_form(x, Q)
    >>> y
    tensor(7., dtype=torch.float64, grad_fn=<QuadFormBackward>)
    >>> y.backward()
    >>> x.grad  # (Q + Qᵀ) x, not 2 Q x = [6, 4]
    tensor([4., 5.], dtype=torch.float64)
    """
    rules.check_quad_form(x, Q, _TENSOR)
    return QuadForm.apply(x, Q)


# --------------------------------------------------------------------------
# inv and logdet: one LU factorisation in forward
# --------------------------------------------------------------------------


class _FactoriseAs(PlainSolveOps):
    """The forward-pass namespace, with errors on a singular ``A`` that name the op."""

    def __init__(self, op: str) -> None:
        self.op = op

    def lu_factor(self, A: Tensor) -> LUFactors:
        return lu_factor(A, self.op)


class Inv(torch.autograd.Function):
    """``Y = A⁻¹`` with one LU factorisation of ``A`` in ``forward``.

    JVP: ``Ẏ = −Y Ȧ Y``; VJP: ``Ā = −Yᵀ Ȳ Yᵀ``. Both use the output ``Y``
    (see :func:`companion.rules.inv_tangent`), so ``backward`` and ``jvp``
    factorise nothing; derivatives of ``backward`` flow through ``Y`` into
    this Function's own rules again.

    >>> A = torch.tensor([[2.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
    >>> Inv.apply(A)
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(A: Tensor) -> Tensor:
        return rules.inv(A, _FactoriseAs("inv"))

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx: Any, Y_bar: Tensor) -> Tensor | None:
        (Y,) = ctx.saved_tensors
        (A_bar,) = rules.inv_cotangents(Y, Y_bar, torch_ops, needs=ctx.needs_input_grad)
        return A_bar

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor | None) -> Tensor:
        (Y,) = ctx.saved_tensors
        return rules.inv_tangent(Y, zeros_if_none(A_dot, Y), torch_ops)


def inv(A: Tensor) -> Tensor:
    """``A⁻¹`` for a square ``A`` ``(n, n)``; a custom rule (:class:`Inv`).

    ``A`` is LU-factorised once; JVP ``Ẏ = −A⁻¹ Ȧ A⁻¹`` and VJP
    ``Ā = −A⁻ᵀ Ȳ A⁻ᵀ`` reuse the output ``Y = A⁻¹``. An exactly singular ``A``
    raises :class:`companion.torch.SingularMatrixError` (a ``ValueError`` and a
    ``torch.linalg.LinAlgError``), as :func:`solve` does.

    >>> import torch
    >>> A = torch.tensor([[2.0, 1.0], [0.0, 4.0]], dtype=torch.float64, requires_grad=True)
    >>> Y = inv(A)
    >>> Y
    tensor([[ 0.5000, -0.1250],
            [ 0.0000,  0.2500]], dtype=torch.float64, grad_fn=<InvBackward>)
    >>> Y[0, 1].backward()
    >>> A.grad
    tensor([[ 0.0625, -0.1250],
            [-0.0156,  0.0312]], dtype=torch.float64)
    >>> inv(torch.ones(2, 2, dtype=torch.float64))
    Traceback (most recent call last):
        ...
    companion.torch.SingularMatrixError: inv: A must be non-singular; ...
    """
    rules.check_inv(A, _TENSOR)
    return Inv.apply(A)


class LogDet(torch.autograd.Function):
    """``y = log |det A|`` with one LU factorisation of ``A``, for any invertible ``A``.

    ``y = Σ log |U_ii|``; JVP ``ẏ = tr(A⁻¹ Ȧ)``, VJP ``Ā = ȳ A⁻ᵀ``, both with
    the factors of ``forward``. As in :class:`Solve`, the factors are outputs
    marked non-differentiable.

    >>> A = torch.tensor([[0.0, 2.0], [3.0, 0.0]], dtype=torch.float64)  # det A = −6
    >>> y, lu, piv = LogDet.apply(A)
    >>> torch.isclose(y, torch.log(torch.tensor(6.0, dtype=torch.float64))).item()
    True
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(A: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        y, (_, lu, piv, _) = rules.logdet(A, _FactoriseAs("logdet"))
        return y, lu, piv

    @staticmethod
    def setup_context(
        ctx: Any, inputs: tuple[Tensor], output: tuple[Tensor, ...]
    ) -> None:
        (A,) = inputs
        _, lu, piv = output
        ctx.mark_non_differentiable(lu, piv)
        ctx.set_materialize_grads(False)  # no zero-filled cotangents for lu and piv
        ctx.save_for_backward(A, lu, piv)
        ctx.save_for_forward(A, lu, piv)

    @staticmethod
    def backward(
        ctx: Any, y_bar: Tensor | None, _lu_bar: None, _piv_bar: None
    ) -> Tensor | None:
        A, lu, piv = ctx.saved_tensors
        if y_bar is None or not ctx.needs_input_grad[0]:
            return None
        (A_bar,) = rules.logdet_cotangents(A, LUFactors(A, lu, piv), y_bar, torch_ops)
        return A_bar

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor | None) -> tuple[Tensor, None, None]:
        A, lu, piv = ctx.saved_tensors
        return (
            rules.logdet_tangent(
                LUFactors(A, lu, piv), zeros_if_none(A_dot, A), torch_ops
            ),
            None,
            None,
        )


def logdet(A: Tensor) -> Tensor:
    """``log |det A|`` for a square invertible ``A`` ``(n, n)`` of either sign of determinant; a custom
    rule (:class:`LogDet`).

    ``A`` is LU-factorised once, ``log |det A| = Σ log |U_ii|``; JVP
    ``ẏ = tr(A⁻¹ Ȧ)`` and VJP ``Ā = ȳ A⁻ᵀ`` reuse the factors. The sign of
    ``det A`` is not returned (``torch.linalg.slogdet`` gives it). An exactly
    singular ``A`` raises :class:`companion.torch.SingularMatrixError`
    (``torch.linalg.slogdet`` returns ``-inf`` there, with no finite gradient).

    >>> import torch
    >>> A = torch.tensor([[0.0, 2.0], [3.0, 0.0]], dtype=torch.float64, requires_grad=True)
    >>> y = logdet(A)  # det A = −6
    >>> torch.isclose(y, torch.log(torch.tensor(6.0, dtype=torch.float64))).item()
    True
    >>> y.backward()
    >>> A.grad  # A⁻ᵀ
    tensor([[0.0000, 0.5000],
            [0.3333, 0.0000]], dtype=torch.float64)
    """
    rules.check_logdet(A, _TENSOR)
    y, _, _ = LogDet.apply(A)
    return y
