"""PyTorch adapters: ``torch.autograd.Function`` subclasses for the companion's rules.

Each op is a Function in the modern style (``forward`` without ``ctx``, a
separate ``setup_context``) with ``backward`` (reverse mode), ``jvp`` (forward
mode) and ``generate_vmap_rule = True``, so it works with ``torch.autograd``
(also ``create_graph=True``), ``torch.autograd.forward_ad`` and every
``torch.func`` transform. The formulas come from :mod:`companion.rules`; this
module is wiring: saving residuals, honouring ``ctx.needs_input_grad`` and
returning ``None`` for inputs that need no gradient.

The public functions (:func:`sin_mul`, :func:`matvec`, :func:`solve`,
:func:`sin`) validate their inputs and call ``<Function>.apply``.

>>> import torch
>>> x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
>>> y = torch.tensor([2.0, 3.0], dtype=torch.float64)
>>> sin_mul(x, y).sum().backward()
>>> torch.allclose(x.grad, y * torch.cos(x))
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from companion import _validate, rules

__all__ = [
    "sin_mul",
    "matvec",
    "solve",
    "sin",
    "SinMul",
    "MatVec",
    "Solve",
    "Sin",
    "SinBackward",
    "FactoredSolve",
    "SingularMatrixError",
    "torch_ops",
]

_TENSOR = "a torch.Tensor"


class SingularMatrixError(ValueError, torch.linalg.LinAlgError):
    """``solve`` met an exactly singular ``A`` (a zero pivot in its LU factorisation).

    Both a :class:`ValueError` and a :class:`torch.linalg.LinAlgError`.
    """


class LUFactors(NamedTuple):
    """The residual of one LU factorisation of ``A`` (``A = P L U``).

    ``A`` is kept so that derivatives of solves with these factors still flow
    to ``A`` (double backward, forward-over-reverse); ``transposed`` marks the
    factors of ``Aᵀ`` obtained for free from those of ``A``.
    """

    A: Tensor
    lu: Tensor
    piv: Tensor
    transposed: bool = False

    @property
    def T(self) -> LUFactors:
        return LUFactors(self.A.mT, self.lu, self.piv, not self.transposed)


class _TorchOps:
    """:class:`companion.rules.ArrayOps` for PyTorch tensors."""

    sin = staticmethod(torch.sin)
    cos = staticmethod(torch.cos)
    sum_to_shape = staticmethod(rules.sum_to_shape)

    @staticmethod
    def lu_factor(A: Tensor) -> LUFactors:
        try:
            lu, piv, _ = torch.linalg.lu_factor_ex(A, check_errors=True)
        except RuntimeError as err:
            if "is zero" not in str(err):
                raise
            # torch says e.g. "...: (Batch element 1): U[2,2] is zero and using it on lu_solve ..."
            where = str(err).split(": ", 1)[-1].split(" and ")[0].replace("(Batch element", "batch element")
            raise SingularMatrixError(
                "solve: A must be non-singular; got an A whose LU factorisation has an exactly zero "
                f"pivot ({where.replace('): ', ': ')}, 1-based)"
            ) from None
        return LUFactors(A, lu, piv)

    @staticmethod
    def lu_solve(lu_factors: LUFactors, rhs: Tensor, trans: bool = False) -> Tensor:
        """Solve with the factors, differentiably in ``A`` and ``rhs`` (see :class:`FactoredSolve`)."""
        factors = lu_factors.T if trans else lu_factors
        return FactoredSolve.apply(factors.A, rhs, factors.lu, factors.piv, factors.transposed)


torch_ops = _TorchOps()
"""The :class:`companion.rules.ArrayOps` namespace for PyTorch."""


def _lu_solve(lu: Tensor, piv: Tensor, rhs: Tensor, adjoint: bool) -> Tensor:
    """``torch.linalg.lu_solve`` for ``rhs`` of shape ``(n,)`` or ``(n, k)``."""
    if rhs.ndim == 1:
        return torch.linalg.lu_solve(lu, piv, rhs[:, None], adjoint=adjoint)[:, 0]
    return torch.linalg.lu_solve(lu, piv, rhs, adjoint=adjoint)


def _zeros_if_none(t: Tensor | None, like: Tensor) -> Tensor:
    return torch.zeros_like(like) if t is None else t


# --------------------------------------------------------------------------
# sin_mul
# --------------------------------------------------------------------------


class SinMul(torch.autograd.Function):
    """``y ⊙ sin x`` with broadcasting. JVP: ``y ⊙ cos x ⊙ ẋ + sin x ⊙ ẏ``.
    VJP: ``x̄ = Σ(ō ⊙ y ⊙ cos x)``, ``ȳ = Σ(ō ⊙ sin x)``, summed to each input's shape.

    >>> x, y = torch.zeros(2, dtype=torch.float64), torch.ones(3, 1, dtype=torch.float64)
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
        return rules.sin_mul_vjp(x, y, out_bar, torch_ops, needs=ctx.needs_input_grad)

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor | None, y_dot: Tensor | None) -> Tensor:
        x, y = ctx.saved_tensors
        x_dot, y_dot = _zeros_if_none(x_dot, x), _zeros_if_none(y_dot, y)
        return rules.sin_mul_jvp(x, y, x_dot, y_dot, torch_ops)


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
    _validate.check_sin_mul(x, y, _TENSOR)
    return SinMul.apply(x, y)


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
        return rules.matvec_vjp(A, x, y_bar, torch_ops, needs=ctx.needs_input_grad)

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor | None, x_dot: Tensor | None) -> Tensor:
        A, x = ctx.saved_tensors
        A_dot, x_dot = _zeros_if_none(A_dot, A), _zeros_if_none(x_dot, x)
        return rules.matvec_jvp(A, x, A_dot, x_dot, torch_ops)


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
    _validate.check_matvec(A, x, _TENSOR)
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
        x, (_, lu, piv, _) = rules.solve(A, b, _ForwardOps)
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
        return rules.solve_vjp(LUFactors(A, lu, piv), x, x_bar, torch_ops, needs=ctx.needs_input_grad)

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor | None, b_dot: Tensor | None) -> tuple[Tensor, None, None]:
        A, x, lu, piv = ctx.saved_tensors
        A_dot, b_dot = _zeros_if_none(A_dot, A), _zeros_if_none(b_dot, x)
        return rules.solve_jvp(LUFactors(A, lu, piv), x, A_dot, b_dot, torch_ops), None, None


class _ForwardOps(_TorchOps):
    """The forward pass solves with plain ``torch.linalg.lu_solve`` (no graph needed there)."""

    @staticmethod
    def lu_solve(lu_factors: LUFactors, rhs: Tensor, trans: bool = False) -> Tensor:
        return _lu_solve(lu_factors.lu, lu_factors.piv, rhs, adjoint=trans != lu_factors.transposed)


class FactoredSolve(torch.autograd.Function):
    """``z = M⁻¹ r`` where ``(lu, piv)`` factorise ``M`` (or ``Mᵀ`` when ``transposed``).

    The solve that :class:`Solve`'s ``backward`` and ``jvp`` use: its own rules
    (the same :func:`companion.rules.solve_vjp`/``solve_jvp``) reuse the same
    factors, so derivatives of any order never factorise again. ``M`` is an
    input only so that those derivatives reach it.

    >>> A = torch.tensor([[2.0, 1.0], [0.0, 4.0]], dtype=torch.float64)
    >>> lu, piv = torch.linalg.lu_factor(A)
    >>> FactoredSolve.apply(A.mT, torch.tensor([2.0, 5.0], dtype=torch.float64), lu, piv, True)
    tensor([1., 1.], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(M: Tensor, r: Tensor, lu: Tensor, piv: Tensor, transposed: bool) -> Tensor:
        return _lu_solve(lu, piv, r, adjoint=transposed)

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: Tensor) -> None:
        M, _, lu, piv, transposed = inputs
        ctx.transposed = transposed
        ctx.save_for_backward(M, output, lu, piv)
        ctx.save_for_forward(M, output, lu, piv)

    @staticmethod
    def backward(ctx: Any, z_bar: Tensor) -> tuple[Tensor | None, ...]:
        M, z, lu, piv = ctx.saved_tensors
        if not any(ctx.needs_input_grad[:2]):
            return None, None, None, None, None
        factors = LUFactors(M, lu, piv, ctx.transposed)
        M_bar, r_bar = rules.solve_vjp(factors, z, z_bar, torch_ops, needs=ctx.needs_input_grad[:2])
        return M_bar, r_bar, None, None, None

    @staticmethod
    def jvp(ctx: Any, M_dot: Tensor | None, r_dot: Tensor | None, *_: Any) -> Tensor:
        M, z, lu, piv = ctx.saved_tensors
        M_dot, r_dot = _zeros_if_none(M_dot, M), _zeros_if_none(r_dot, z)
        return rules.solve_jvp(LUFactors(M, lu, piv, ctx.transposed), z, M_dot, r_dot, torch_ops)


def solve(A: Tensor, b: Tensor) -> Tensor:
    """``x = A⁻¹ b`` for square ``A`` ``(n, n)`` and ``b`` ``(n,)`` or ``(n, k)``; a custom rule (:class:`Solve`).

    ``A`` is LU-factorised once; JVP ``ẋ = A⁻¹ (ḃ − Ȧ x)`` and VJP
    ``b̄ = A⁻ᵀ x̄``, ``Ā = −b̄ xᵀ`` reuse the factors. An exactly singular ``A``
    raises :class:`SingularMatrixError` (a ``ValueError`` and a
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
    _validate.check_solve(A, b, _TENSOR)
    x, _, _ = Solve.apply(A, b)
    return x


# --------------------------------------------------------------------------
# sin, whose backward is itself a Function (double backward by custom rules)
# --------------------------------------------------------------------------


class Sin(torch.autograd.Function):
    """``y = sin x``. VJP and JVP: ``cos x ⊙ g``, computed by :class:`SinBackward` so that
    second derivatives come from SinBackward's own rules.

    >>> x = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> torch.allclose(torch.func.hessian(lambda x: Sin.apply(x).sum())(x), torch.diag(-torch.sin(x)))
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

    >>> x, g = torch.tensor([0.0], dtype=torch.float64), torch.tensor([3.0], dtype=torch.float64)
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
        return rules.sin_backward_vjp(x, g, out_bar, torch_ops, needs=ctx.needs_input_grad)

    @staticmethod
    def jvp(ctx: Any, x_dot: Tensor | None, g_dot: Tensor | None) -> Tensor:
        x, g = ctx.saved_tensors
        x_dot, g_dot = _zeros_if_none(x_dot, x), _zeros_if_none(g_dot, g)
        return rules.sin_backward_jvp(x, g, x_dot, g_dot, torch_ops)


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
    _validate.check_sin(x, _TENSOR)
    return Sin.apply(x)
