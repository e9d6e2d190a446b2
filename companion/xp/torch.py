"""The array namespace for PyTorch tensors, and the differentiable factored solve it uses.

Functions come from ``torch`` (``torch_ops.sin`` is ``torch.sin``).
``lu_factor`` factorises once with ``torch.linalg.lu_factor_ex``;
``lu_solve`` solves with those factors through :class:`FactoredSolve`, a
Function whose own rules reuse the same factors, so derivatives of any order
never factorise again.

>>> import torch
>>> torch_ops.cos(torch.zeros(2, dtype=torch.float64))
tensor([1., 1.], dtype=torch.float64)
"""

from __future__ import annotations

from typing import Any, NamedTuple

from companion._extras import require

require("torch", "companion.xp.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.linalg import rules as linalg_rules  # noqa: E402
from companion.xp import Namespace  # noqa: E402

__all__ = ["torch_ops", "TorchOps", "LUFactors", "FactoredSolve", "SingularMatrixError", "zeros_if_none"]


class SingularMatrixError(ValueError, torch.linalg.LinAlgError):
    """A rule met an exactly singular matrix (a zero pivot in its LU factorisation).

    Both a :class:`ValueError` and a :class:`torch.linalg.LinAlgError`. The
    error torch raised is chained as ``__cause__``: it names the zero pivot
    (and the batch element under ``vmap``).
    """

    __module__ = "companion.torch"  # its public home


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


def lu_factor(A: Tensor, op: str = "solve") -> LUFactors:
    """Factorise ``A`` once; an exactly singular ``A`` raises :class:`SingularMatrixError`.

    torch's checked factorisation raises a plain ``RuntimeError`` (not a
    ``LinAlgError``) on a zero pivot; it is the only error it raises for a
    validated square float matrix, so it is caught by type, never by its text.
    """
    try:
        lu, piv, _ = torch.linalg.lu_factor_ex(A, check_errors=True)
    except RuntimeError as err:
        raise SingularMatrixError(
            f"{op}: A must be non-singular; got an A whose LU factorisation has an exactly zero "
            "pivot (torch's message, chained above, says which)"
        ) from err
    return LUFactors(A, lu, piv)


def _lu_solve(lu: Tensor, piv: Tensor, rhs: Tensor, adjoint: bool) -> Tensor:
    """``torch.linalg.lu_solve`` for ``rhs`` of shape ``(n,)`` or ``(n, k)``."""
    if rhs.ndim == 1:
        return torch.linalg.lu_solve(lu, piv, rhs[:, None], adjoint=adjoint)[:, 0]
    return torch.linalg.lu_solve(lu, piv, rhs, adjoint=adjoint)


def zeros_if_none(t: Tensor | None, like: Tensor) -> Tensor:
    """A tangent PyTorch passed as ``None`` (no tangent) as zeros shaped like ``like``."""
    return torch.zeros_like(like) if t is None else t


class TorchOps(Namespace):
    """:class:`companion.xp.ArrayOps` for PyTorch tensors."""

    library = torch

    @staticmethod
    def lu_factor(A: Tensor) -> LUFactors:
        return lu_factor(A)

    @staticmethod
    def lu_solve(lu_factors: LUFactors, rhs: Tensor, trans: bool = False) -> Tensor:
        """Solve with the factors, differentiably in ``A`` and ``rhs`` (see :class:`FactoredSolve`)."""
        factors = lu_factors.T if trans else lu_factors
        return FactoredSolve.apply(factors.A, rhs, factors.lu, factors.piv, factors.transposed)

    @staticmethod
    def lu_logabsdet(lu_factors: LUFactors) -> Tensor:
        """``Σ log |U_ii|`` from the factors (the same for those of ``A`` and of ``Aᵀ``)."""
        return lu_factors.lu.diagonal(dim1=-2, dim2=-1).abs().log().sum(-1)

    @staticmethod
    def eye_like(A: Tensor) -> Tensor:
        return torch.eye(A.shape[-1], dtype=A.dtype, device=A.device)

    @staticmethod
    def concatenate(tensors: Any, axis: int = 0) -> Tensor:
        """``torch.cat``: ``torch.concatenate`` (its alias) has no ``vmap`` batching rule
        inside a custom Function's ``jvp`` (batched forward-mode gradients)."""
        return torch.cat(tensors, dim=axis)

    @staticmethod
    def solve_triangular(T: Tensor, rhs: Tensor, lower: bool, trans: bool = False) -> Tensor:
        """``T⁻¹ rhs`` (``T⁻ᵀ rhs`` with ``trans``) by ``torch.linalg.solve_triangular`` (differentiable)."""
        M, upper = (T.mT, lower) if trans else (T, not lower)
        if rhs.ndim == 1:
            return torch.linalg.solve_triangular(M, rhs[:, None], upper=upper)[:, 0]
        return torch.linalg.solve_triangular(M, rhs, upper=upper)

    @staticmethod
    def moveaxis(a: Tensor, source: Any, destination: Any) -> Tensor:
        """``numpy.moveaxis`` as one ``permute``: ``torch.moveaxis`` has no batching rule in the
        legacy vmap that ``gradcheck(check_batched_grad=True)`` uses, ``permute`` has.

        >>> torch_ops.moveaxis(torch.zeros(2, 3, 4), (0, 1), (1, 2)).shape
        torch.Size([4, 2, 3])
        """
        n = a.ndim
        source = [s % n for s in ((source,) if isinstance(source, int) else source)]
        destination = [d % n for d in ((destination,) if isinstance(destination, int) else destination)]
        rest = iter(i for i in range(n) if i not in source)
        placed = dict(zip(destination, source))
        return a.permute([placed[d] if d in placed else next(rest) for d in range(n)])


torch_ops = TorchOps()
"""The :class:`companion.xp.ArrayOps` namespace for PyTorch."""


class PlainSolveOps(TorchOps):
    """For forward passes: solve with plain ``torch.linalg.lu_solve`` (no graph needed there)."""

    @staticmethod
    def lu_solve(lu_factors: LUFactors, rhs: Tensor, trans: bool = False) -> Tensor:
        return _lu_solve(lu_factors.lu, lu_factors.piv, rhs, adjoint=trans != lu_factors.transposed)


plain_solve_ops = PlainSolveOps()


class FactoredSolve(torch.autograd.Function):
    """``z = M⁻¹ r`` where ``(lu, piv)`` factorise ``M`` (or ``Mᵀ`` when ``transposed``).

    The solve that the linear-algebra rules' ``backward`` and ``jvp`` use: its
    own rules (the same :func:`companion.rules.solve_cotangents` and
    ``solve_tangent``) reuse the same factors, so derivatives of any order never
    factorise again. ``M`` is an input only so that those derivatives reach it.

    >>> A = torch.tensor([[2.0, 1.0], [0.0, 4.0]], dtype=torch.float64)
    >>> lu, piv = torch.linalg.lu_factor(A)
    >>> b = torch.tensor([2.0, 5.0], dtype=torch.float64)
    >>> FactoredSolve.apply(A.mT, b, lu, piv, True)
    tensor([1., 1.], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(
        M: Tensor, r: Tensor, lu: Tensor, piv: Tensor, transposed: bool
    ) -> Tensor:
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
        needs = ctx.needs_input_grad[:2]
        M_bar, r_bar = linalg_rules.solve_cotangents(
            factors, z, z_bar, torch_ops, needs=needs
        )
        return M_bar, r_bar, None, None, None

    @staticmethod
    def jvp(ctx: Any, M_dot: Tensor | None, r_dot: Tensor | None, *_: Any) -> Tensor:
        M, z, lu, piv = ctx.saved_tensors
        M_dot, r_dot = zeros_if_none(M_dot, M), zeros_if_none(r_dot, z)
        factors = LUFactors(M, lu, piv, ctx.transposed)
        return linalg_rules.solve_tangent(factors, z, M_dot, r_dot, torch_ops)
