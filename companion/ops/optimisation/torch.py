"""PyTorch adapters of the optimisation family: ``EqQp`` and ``companion.torch.eq_qp``.

``EqQp`` is a modern-style ``torch.autograd.Function`` (``setup_context``,
``backward``, ``jvp``, ``generate_vmap_rule``). Its forward pass factorises the
KKT matrix once; ``backward`` and ``jvp`` solve with those factors through
:class:`companion.torch.FactoredSolve`, whose own rules reuse them again, so
derivatives of any order never factorise the KKT matrix a second time.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.optimisation import rules  # noqa: E402
from companion.xp.torch import (  # noqa: E402
    LUFactors, SingularMatrixError, plain_solve_ops, torch_ops, zeros_if_none,
)

__all__ = ["eq_qp", "EqQp"]

_TENSOR = "a torch.Tensor"

_SINGULAR = (
    "eq_qp: the KKT matrix [[S, Aᵀ], [A, 0]] (S = (Q + Qᵀ)/2) must be non-singular: "
    "A must have full row rank and S must be non-singular (for a minimiser: positive "
    "definite) on the null space of A; got a KKT matrix "
)


def _raise_if_true(flag: Tensor, message: str) -> None:
    """Raise :class:`SingularMatrixError` if ``flag`` holds, where its value can be
    read.

    Inside ``torch.func.vmap`` a batched ``flag`` has no single value: PyTorch
    refuses the ``if`` (``RuntimeError``), and the test is skipped.
    """
    try:
        bad = bool(flag)
    except RuntimeError:
        # vmap: "attempting to use a Tensor in some data-dependent control flow"
        return
    if bad:
        raise SingularMatrixError(message)


def _factorise_kkt(Q: Tensor, A: Tensor) -> LUFactors:
    """LU-factorise the KKT matrix once; raise if it is (numerically) singular."""
    K = rules.kkt_matrix(Q, A, torch_ops)
    try:
        lu, piv, _ = torch.linalg.lu_factor_ex(K, check_errors=True)
    except RuntimeError as err:  # an exactly zero pivot (also inside vmap)
        raise SingularMatrixError(_SINGULAR + "with an exactly zero pivot") from err
    _raise_if_true(
        rules.kkt_singular(lu, torch_ops),
        _SINGULAR + "whose smallest LU pivot is below (n + m) ε times its largest "
        "(numerically singular)",
    )
    return LUFactors(K, lu, piv)


class EqQp(torch.autograd.Function):
    """``(x, λ, lu, piv)``: the minimiser of ``½ xᵀ Q x + cᵀ x`` s.t. ``A x = b``, its
    multipliers, and the LU factors of the KKT matrix.

    JVP: ``K [ẋ; λ̇] = [−ċ − Ṡ x − Ȧᵀ λ; ḃ − Ȧ x]``; VJP: ``Kᵀ [u; v] = [x̄; λ̄]``,
    ``Q̄ = −(u xᵀ + x uᵀ)/2``, ``c̄ = −u``, ``Ā = −(v xᵀ + λ uᵀ)``, ``b̄ = v``; both
    reuse the factors of ``K = [[S, Aᵀ], [A, 0]]``, ``S = (Q + Qᵀ)/2``. ``x`` and
    ``λ`` are both differentiable outputs: ``backward`` uses ``λ``, so its own
    derivative (double backward) needs the rule for ``λ̄`` too. The factors are
    outputs marked non-differentiable, which is how a modern-style Function hands
    an intermediate to ``setup_context`` in a way ``torch.func`` supports.

    >>> Q, A = torch.eye(2, dtype=torch.float64), torch.ones(1, 2, dtype=torch.float64)
    >>> c, b = torch.zeros(2, dtype=torch.float64), 2 * A[:, 0]
    >>> x, lam, lu, piv = EqQp.apply(Q, c, A, b)
    >>> x, lam
    (tensor([1., 1.], dtype=torch.float64), tensor([-1.], dtype=torch.float64))
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(Q: Tensor, c: Tensor, A: Tensor, b: Tensor) -> tuple[Tensor, ...]:
        factors = _factorise_kkt(Q, A)
        n = Q.shape[0]
        z = plain_solve_ops.lu_solve(factors, torch.cat([-c, b]))
        return z[:n], z[n:], factors.lu, factors.piv

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor, ...], output: tuple) -> None:
        Q, _, A, _ = inputs
        x, lam, lu, piv = output
        ctx.mark_non_differentiable(lu, piv)
        ctx.set_materialize_grads(False)  # no zero-filled cotangents for unused outputs
        ctx.save_for_backward(Q, A, x, lam, lu, piv)
        ctx.save_for_forward(Q, A, x, lam, lu, piv)

    @staticmethod
    def backward(
        ctx: Any, x_bar: Tensor | None, lam_bar: Tensor | None, *_: Any
    ) -> tuple:
        Q, A, x, lam, lu, piv = ctx.saved_tensors
        if (x_bar is None and lam_bar is None) or not any(ctx.needs_input_grad):
            return None, None, None, None
        # derivatives of backward reach Q, A via K
        K = rules.kkt_matrix(Q, A, torch_ops)
        x_bar = zeros_if_none(x_bar, x)
        return rules.eq_qp_cotangents(
            LUFactors(K, lu, piv), x, lam, x_bar, torch_ops,
            needs=ctx.needs_input_grad, lam_bar=lam_bar,
        )

    @staticmethod
    def jvp(ctx: Any, Q_dot: Tensor | None, c_dot: Tensor | None,
            A_dot: Tensor | None, b_dot: Tensor | None) -> tuple:
        Q, A, x, lam, lu, piv = ctx.saved_tensors
        factors = LUFactors(rules.kkt_matrix(Q, A, torch_ops), lu, piv)
        x_dot, lam_dot = rules.eq_qp_tangent(
            factors, x, lam, zeros_if_none(Q_dot, Q), zeros_if_none(c_dot, x),
            zeros_if_none(A_dot, A), zeros_if_none(b_dot, lam), torch_ops,
        )
        return x_dot, lam_dot, None, None


def eq_qp(Q: Tensor, c: Tensor, A: Tensor, b: Tensor) -> Tensor:
    """``x = argmin ½ xᵀ Q x + cᵀ x`` subject to ``A x = b``; a custom rule
    (:class:`EqQp`).

    ``Q`` ``(n, n)`` (read through ``S = (Q + Qᵀ)/2``, so ``Q̄`` is symmetric),
    ``c`` ``(n,)``, ``A`` ``(m, n)`` with ``1 ≤ m < n``, ``b`` ``(m,)``. Solves the
    KKT system ``[[S, Aᵀ], [A, 0]] [x; λ] = [−c; b]`` with one LU factorisation;
    the JVP and the VJP (one solve with the transposed KKT matrix) reuse it.

    A singular KKT matrix (``A`` without full row rank, or ``S`` singular on the
    null space of ``A``) raises :class:`companion.torch.SingularMatrixError`
    (a ``ValueError`` and a ``torch.linalg.LinAlgError``): an exactly zero pivot
    always, a pivot below ``(n + m) ε`` times the largest wherever values can be
    read (not inside ``torch.func.vmap``). A non-singular KKT matrix whose ``S``
    is indefinite on the null space of ``A`` is not detected: ``x`` is then the
    constrained stationary point (a saddle), not a minimiser.

    >>> import torch
    >>> Q = torch.eye(2, dtype=torch.float64, requires_grad=True)
    >>> c = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    >>> A = torch.tensor([[1.0, 1.0]], dtype=torch.float64, requires_grad=True)
    >>> b = torch.tensor([2.0], dtype=torch.float64, requires_grad=True)
    >>> x = eq_qp(Q, c, A, b)
    >>> x
    tensor([1., 1.], dtype=torch.float64, grad_fn=<EqQpBackward>)
    >>> x[0].backward()
    >>> c.grad
    tensor([-0.5000,  0.5000], dtype=torch.float64)
    >>> b.grad
    tensor([0.5000], dtype=torch.float64)
    >>> A_rank_1 = torch.tensor([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0]], dtype=torch.float64)
    >>> Q3, c3 = torch.eye(3, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)
    >>> eq_qp(Q3, c3, A_rank_1, b.new_ones(2))
    Traceback (most recent call last):
        ...
    companion.torch.SingularMatrixError: eq_qp: the KKT matrix [[S, Aᵀ], [A, 0]] ...
    must be non-singular: ...
    """
    rules.check_eq_qp(Q, c, A, b, _TENSOR)
    x, _, _, _ = EqQp.apply(Q, c, A, b)
    return x
