"""PyTorch adapter of the external rules: ``bessel_jn``, a ``torch.library.custom_op``.

``companion::bessel_jn`` is an opaque operator: its kernel copies ``x`` to
NumPy and calls SciPy (:func:`companion.ops.external.rules.bessel_jn_numpy`).
Its registrations make it a citizen of PyTorch:

* ``register_fake``: the output's shape and dtype without running SciPy, so
  ``torch.compile`` traces through the call (no graph break);
* ``register_autograd`` (``setup_context`` + ``backward``): reverse mode; the
  backward calls the operator itself, at orders ``n − 1`` and ``n + 1``, so every
  reverse-mode derivative, of any order, is external too;
* ``register_vmap``: under ``torch.func.vmap`` the whole batch goes to SciPy in one
  call (without it, PyTorch's fallback calls the kernel once per batch element).

What it does **not** give, in torch 2.13: forward mode (``torch.func.jvp`` and
``jacfwd`` return a *zero* tangent, silently; a ``torch.autograd.forward_ad`` dual
tensor loses its tangent, ``unpack_dual`` gives ``None``, or raises
``NotImplementedError`` if it also requires grad) and the ``torch.func`` reverse
transforms (``grad``, ``vjp``, ``jacrev``,
``hessian`` raise a ``RuntimeError``: the autograd.Function that
``register_autograd`` generates has no ``setup_context``). The registry entry
lists these as not applicable.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("torch", "companion.torch")

import torch  # noqa: E402
from torch import Tensor  # noqa: E402

from companion.ops.external import rules  # noqa: E402

# The operator itself is reached as ``torch.ops.companion.bessel_jn`` (an operator of
# the dispatcher, not a function, so it is not re-exported by companion.torch).
__all__ = ["bessel_j0"]

_TENSOR = "a torch.Tensor"


@torch.library.custom_op("companion::bessel_jn", mutates_args=())
def bessel_jn(x: Tensor, n: int) -> Tensor:
    """``J_n(x)``, evaluated by SciPy on a NumPy copy of ``x``: code PyTorch cannot see
    into."""
    y = rules.bessel_jn_numpy(x.detach().cpu().numpy(), n)
    return torch.from_numpy(y).to(x.device)


@bessel_jn.register_fake
def bessel_jn_fake(x: Tensor, n: int) -> Tensor:
    """The output's metadata only: same shape, dtype and device as ``x``."""
    return torch.empty_like(x)


def bessel_jn_setup_context(
    ctx: Any, inputs: tuple[Tensor, int], output: Tensor
) -> None:
    """Save ``x`` (a tensor) and the order ``n`` (an int) for the backward."""
    x, n = inputs
    ctx.save_for_backward(x)
    ctx.n = n


def bessel_jn_backward(ctx: Any, y_bar: Tensor) -> tuple[Tensor | None, None]:
    """VJP: ``x̄ = (J_{n−1}(x) − J_{n+1}(x)) / 2 ⊙ ȳ``, both Bessel values external
    again.

    The order ``n`` is an int: its cotangent is ``None``.
    """
    (x,) = ctx.saved_tensors
    if not ctx.needs_input_grad[0]:
        return None, None
    j_prev, j_next = bessel_jn(x, ctx.n - 1), bessel_jn(x, ctx.n + 1)
    return rules.bessel_jn_cotangent(j_prev, j_next, y_bar), None


bessel_jn.register_autograd(bessel_jn_backward, setup_context=bessel_jn_setup_context)


@bessel_jn.register_vmap
def bessel_jn_vmap(
    info: Any, in_dims: tuple[int | None, None], x: Tensor, n: int
) -> tuple[Tensor, int | None]:
    """Batching rule: ``J_n`` is elementwise and SciPy's ufunc takes any shape, so the
    whole batch goes to SciPy in one call, with the batch axis where it is."""
    x_dim, _ = in_dims
    return bessel_jn(x, n), x_dim


def bessel_j0(x: Tensor) -> Tensor:
    """``J_0(x)``, the Bessel function of the first kind, evaluated by SciPy.

    VJP: ``x̄ = −J_1(x) ⊙ ȳ``, by the custom operator ``companion::bessel_jn``
    (``torch.ops.companion.bessel_jn``); works with ``backward`` (any order),
    ``torch.compile(fullgraph=True)``, ``torch.func.vmap`` and ``gradcheck``;
    not with forward mode or ``torch.func.grad`` (see the module docstring).

    >>> import torch
    >>> x = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    >>> bessel_j0(x).sum().backward()
    >>> x.grad  # −J_1(x)
    tensor([-0.0000, -0.4401], dtype=torch.float64)
    """
    rules.check_bessel_j0(x, _TENSOR)
    return bessel_jn(x, 0)
