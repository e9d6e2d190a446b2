"""PyTorch adapters of the decompositions rules: ``Cholesky`` and ``Eigh``.

Modern-style ``torch.autograd.Function`` classes (``setup_context``,
``backward``, ``jvp``, ``generate_vmap_rule``). Both read ``A`` through its
symmetric part ``(A + Aᵀ)/2``, and their cotangent ``Ā`` is symmetric. The
public functions check shapes and dtypes, and, where ``A`` has values to read
(eagerly, with ``torch.autograd`` or ``torch.autograd.forward_ad``, under
``torch.func.grad``, ``jvp``, ``jacrev`` and ``jacfwd``; not inside
``torch.func.vmap``, under ``torch.compile`` or on the meta device), that
``A`` is symmetric to round-off.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.decompositions import rules  # noqa: E402
from companion.xp.torch import torch_ops  # noqa: E402

__all__ = ["cholesky", "eigh", "Cholesky", "Eigh", "NotPositiveDefiniteError"]

_TENSOR = "a torch.Tensor"


class NotPositiveDefiniteError(ValueError, torch.linalg.LinAlgError):
    """``cholesky`` met an ``A`` that is not positive definite.

    Both a :class:`ValueError` and a :class:`torch.linalg.LinAlgError`. The
    error torch raised is chained as ``__cause__``: it names the leading minor
    that is not positive definite (and the batch element under ``vmap``).
    """

    __module__ = "companion.torch"  # its public home


def _has_values(A: Tensor) -> bool:
    """Whether ``A``'s values can be read here: not under ``torch.compile``, not on the meta device, not inside ``torch.func.vmap``.

    ``torch.func.grad``, ``jvp``, ``jacrev``, ``jacfwd`` wrap ``A`` but keep
    its values; a ``vmap`` level batches it, and a batched tensor has no single
    value to test. PyTorch has no public query for "batched by ``vmap``", so
    the wrappers are read with ``torch._C._functorch`` (private). Should a later
    PyTorch drop those functions, the public behaviour takes over: ``vmap``
    refuses to read a value (``.item()`` raises ``RuntimeError``).
    """
    if torch.compiler.is_compiling() or A.is_meta:
        return False
    try:
        functorch = torch._C._functorch
        is_wrapped, is_batched, unwrap = (
            functorch.is_functorch_wrapped_tensor,
            functorch.is_batchedtensor,
            functorch.get_unwrapped,
        )
    except AttributeError:
        return _item_readable(A)
    t = A
    while is_wrapped(t):
        if is_batched(t):
            return False
        t = unwrap(t)
    return True


def _item_readable(A: Tensor) -> bool:
    """The public fallback of :func:`_has_values`: can one entry of ``A`` be read with ``.item()``?"""
    try:
        A.detach().reshape(-1)[0].item()
    except RuntimeError:  # inside vmap: "vmap: It looks like you're calling .item() on a Tensor"
        return False
    return True


def _check_symmetric(op: str, A: Tensor) -> None:
    if _has_values(A):
        rules.check_symmetric(op, A.detach(), torch_ops)


# --------------------------------------------------------------------------
# cholesky
# --------------------------------------------------------------------------


class Cholesky(torch.autograd.Function):
    """``L`` with ``L Lᵀ = sym(A)``. JVP: ``L̇ = L Φ(L⁻¹ sym(Ȧ) L⁻ᵀ)``; VJP:
    ``Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``.

    ``backward`` and ``jvp`` are differentiable torch code on the saved ``L``
    (an output of this Function), so derivatives of any order come back here.

    >>> A = torch.tensor([[4.0, 2.0], [2.0, 5.0]], dtype=torch.float64)
    >>> Cholesky.apply(A)
    tensor([[2., 0.],
            [1., 2.]], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(A: Tensor) -> Tensor:
        try:
            return rules.cholesky(A, torch_ops)
        except torch.linalg.LinAlgError as err:
            raise NotPositiveDefiniteError(
                "cholesky: A must be positive definite; got an A that is not "
                "(torch's message, chained above, names the leading minor that fails)"
            ) from err

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Tensor], output: Tensor) -> None:
        ctx.save_for_backward(output)
        ctx.save_for_forward(output)

    @staticmethod
    def backward(ctx: Any, L_bar: Tensor) -> Tensor | None:
        (L,) = ctx.saved_tensors
        (A_bar,) = rules.cholesky_cotangents(
            L, L_bar, torch_ops, needs=ctx.needs_input_grad
        )
        return A_bar

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor) -> Tensor:
        (L,) = ctx.saved_tensors
        return rules.cholesky_tangent(L, A_dot, torch_ops)


def cholesky(A: Tensor) -> Tensor:
    """The Cholesky factor ``L`` (lower triangular, ``L Lᵀ = A``) of a symmetric positive definite ``A``.

    A custom rule (:class:`Cholesky`): JVP ``L̇ = L Φ(L⁻¹ Ȧ L⁻ᵀ)``, VJP
    ``Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``, where ``Φ`` takes the lower triangle and
    halves the diagonal and ``sym(X) = (X + Xᵀ)/2``.

    **Convention.** ``A`` is read through ``sym(A)``, so a tangent acts
    through ``sym(Ȧ)`` and the gradient ``Ā`` is **symmetric**: the gradient
    of ``A ↦ L(sym(A))`` over all ``n²`` entries, and for symmetric ``Ȧ``
    exactly ``⟨Ā, Ȧ⟩ = ⟨L̄, L̇⟩``. (``torch.linalg.cholesky`` reads only the
    lower triangle of ``A`` but returns the same symmetric gradient.)

    **Errors.** Integer or half-precision dtypes and non-square shapes raise
    ``TypeError``/``ValueError``. Where ``A``'s values can be read (eagerly,
    also under ``torch.autograd`` and ``torch.func.grad``, not inside
    ``torch.func.vmap``, under ``torch.compile`` or on the meta device), an ``A`` with
    ``max|A − Aᵀ| > √ε·max|A|`` (``ε`` = the dtype's machine epsilon: 1.5e-8
    relative in float64) raises ``ValueError``; inside ``vmap`` it is not checked
    and ``sym(A)`` is factorised. An ``A`` that is not positive definite raises
    :class:`NotPositiveDefiniteError` (a ``ValueError`` and a
    ``torch.linalg.LinAlgError``), also inside ``vmap``.

    >>> import torch
    >>> A = torch.tensor([[4.0, 2.0], [2.0, 5.0]], dtype=torch.float64, requires_grad=True)
    >>> L = cholesky(A)
    >>> L
    tensor([[2., 0.],
            [1., 2.]], dtype=torch.float64, grad_fn=<CholeskyBackward>)
    >>> L[1, 0].backward()
    >>> A.grad
    tensor([[-0.1250,  0.2500],
            [ 0.2500,  0.0000]], dtype=torch.float64)
    >>> cholesky(torch.tensor([[1.0, 2.0], [2.0, 1.0]], dtype=torch.float64))
    Traceback (most recent call last):
        ...
    companion.torch.NotPositiveDefiniteError: cholesky: A must be positive definite; ...
    """
    rules.check_cholesky(A, _TENSOR)
    _check_symmetric("cholesky", A)
    return Cholesky.apply(A)


# --------------------------------------------------------------------------
# eigh
# --------------------------------------------------------------------------


class Eigh(torch.autograd.Function):
    """``(w, V)`` with ``sym(A) = V diag(w) Vᵀ``, ``w`` ascending.

    JVP: ``ẇ = diag(Vᵀ sym(Ȧ) V)``, ``V̇ = V (F ∘ (Vᵀ sym(Ȧ) V))``; VJP:
    ``Ā = sym(V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ)``, with ``F_ij = 1/(w_j − w_i)``
    (``0`` where ``w_i = w_j``). An output the loss does not use has a ``None``
    cotangent (``set_materialize_grads(False)``) and its term is skipped.

    >>> A = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64)
    >>> Eigh.apply(A)[0]
    tensor([1., 3.], dtype=torch.float64)
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(A: Tensor) -> tuple[Tensor, Tensor]:
        return rules.eigh(A, torch_ops)

    @staticmethod
    def setup_context(
        ctx: Any, inputs: tuple[Tensor], output: tuple[Tensor, Tensor]
    ) -> None:
        w, V = output
        ctx.set_materialize_grads(False)  # an unused output's cotangent stays None
        ctx.save_for_backward(w, V)
        ctx.save_for_forward(w, V)

    @staticmethod
    def backward(ctx: Any, w_bar: Tensor | None, V_bar: Tensor | None) -> Tensor | None:
        w, V = ctx.saved_tensors
        (A_bar,) = rules.eigh_cotangents(
            w, V, w_bar, V_bar, torch_ops, needs=ctx.needs_input_grad
        )
        return A_bar

    @staticmethod
    def jvp(ctx: Any, A_dot: Tensor) -> tuple[Tensor, Tensor]:
        w, V = ctx.saved_tensors
        return rules.eigh_tangent(w, V, A_dot, torch_ops)


def eigh(A: Tensor) -> tuple[Tensor, Tensor]:
    """Eigenvalues ``w`` (ascending) and eigenvectors ``V`` (columns) of a symmetric ``A`` ``(n, n)``.

    Returns the tuple ``(w, V)`` with ``A = V diag(w) Vᵀ``, computed by
    ``torch.linalg.eigh`` (so ``V`` is exactly torch's, signs included). A
    custom rule (:class:`Eigh`): JVP ``ẇ = diag(Vᵀ Ȧ V)``,
    ``V̇ = V (F ∘ (Vᵀ Ȧ V))``; VJP ``Ā = sym(V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ)``,
    with ``F_ij = 1/(w_j − w_i)``. ``A`` is read through ``sym(A) = (A + Aᵀ)/2``
    and ``Ā`` is symmetric.

    **What is defined.** Each eigenvector is defined up to its sign: a loss
    that depends on the sign of a column of ``V`` has no well-defined gradient
    (the rule differentiates the sign the library picked). At a **repeated
    eigenvalue** the eigenvectors of that eigenspace are defined only up to a
    rotation, ``V`` is not a differentiable function of ``A`` and ``F`` would be
    infinite: the rule sets ``F_ij = 0`` where ``w_i = w_j``, so a loss of ``w``
    alone (``V̄ = 0``, or ``V`` unused) that is symmetric in the tied eigenvalues,
    such as ``Σ g(w_i)``, still gets its exact, finite gradient, while a loss
    of ``V`` there has in general no gradient (one that depends only on the
    eigenspace, such as a projector, does, and gets it where the tie is
    exact). (The sorted eigenvalues themselves have kinks there: ``w_0`` alone
    is not differentiable.)

    **Errors.** As for :func:`cholesky`: dtypes and shapes always; an ``A``
    with ``max|A − Aᵀ| > √ε·max|A|`` raises ``ValueError`` where values can be
    read (not inside ``torch.func.vmap``, under ``torch.compile`` or on the
    meta device, where ``sym(A)`` is used unchecked).

    >>> import torch
    >>> A = torch.tensor([[2.0, 1.0], [1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    >>> w, V = eigh(A)
    >>> w
    tensor([1., 3.], dtype=torch.float64, grad_fn=<EighBackward>)
    >>> w[1].backward()
    >>> A.grad
    tensor([[0.5000, 0.5000],
            [0.5000, 0.5000]], dtype=torch.float64)
    """
    rules.check_eigh(A, _TENSOR)
    _check_symmetric("eigh", A)
    w, V = Eigh.apply(A)
    return w, V
