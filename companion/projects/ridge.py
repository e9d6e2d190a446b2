"""Project ``ridge``: the ridge-regression solve with a backward that reuses the factorisation.

Hand in ``torch_ridge(A, b, lam)``, ``jax_ridge(A, b, lam)`` (``jax.custom_jvp``)
and ``jax_ridge_vjp(A, b, lam)`` (``jax.custom_vjp``): the minimiser ``x`` of
the squared residual plus ``lam`` times the squared norm of ``x``, for ``A`` of
shape ``(m, n)``, ``b`` of shape ``(m,)`` and a scalar ``lam > 0``. Factorise
the matrix ``M = AᵀA + lam I`` once, with a Cholesky factorisation, in the
forward pass; the derivative rules solve with that factor and never factorise
again (the project checks it).

Double backward is not asked for: a backward that reads the factor saved by
the forward pass treats it as a constant, so PyTorch's ``gradgradcheck``
fails; making it twice differentiable is an extension of the project.

>>> PROJECT.required
('torch_ridge', 'jax_ridge', 'jax_ridge_vjp')
>>> A, b, lam = PROJECT.rule_args
>>> A.shape, b.shape, lam.shape
((5, 3), (5,), ())
>>> reference(np, np.eye(2), np.ones(2), np.array(1.0))
array([0.5, 0.5])
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from companion.projects._checks import BadInput, Check, CheckFailed, Project, _torch_args, _x64

__all__ = ["PROJECT", "reference", "FACTORISATIONS"]

FACTORISATIONS = ("cholesky", "lu", "_linalg_solve", "linalg_solve", "inv", "inverse",
                  "lstsq", "qr", "eigh", "_linalg_eigh", "svd", "_linalg_svd", "pinv")
"""PyTorch's low-level (ATen) operators that factorise a matrix anew, by name prefix
(``linalg_cholesky_ex``, ``linalg_lu_factor_ex``, ``_linalg_solve_ex``, ...); solves with
a saved factor (``cholesky_solve``, ``linalg_solve_triangular``) are not among them."""

_JAX_FACTORISATIONS = ("cholesky", "lu", "qr", "eigh", "svd", "householder_product")


def reference(xp: Any, A: Any, b: Any, lam: Any) -> Any:
    """The oracle: ``solve(AᵀA + lam I, Aᵀb)``, with NumPy, PyTorch or ``jax.numpy`` as ``xp``."""
    n = A.shape[-1]
    return xp.linalg.solve(A.T @ A + lam * xp.eye(n, dtype=A.dtype), A.T @ b)


def _torch_reuse(ns: dict[str, Any]) -> str:
    """Count the factorisations PyTorch runs during ``backward`` and during a forward-mode JVP.

    Counted at the level of PyTorch's operators (a dispatch mode), so every way of calling
    a factorisation is seen: ``torch.linalg.solve``, an imported name, a tensor method.
    """
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Factorisations(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[str] = []

        def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            name = func.__name__.split(".")[0]
            if name.startswith(FACTORISATIONS) and not name.startswith(("cholesky_solve", "linalg_solve_triangular")):
                self.calls.append(name)
            return func(*args, **(kwargs or {}))

    fn = ns["torch_ridge"]
    A, b, lam = _torch_args((np.asarray(a) for a in _ARGS), requires_grad=True)
    x = fn(A, b, lam)
    tangents = tuple(torch.ones_like(a) for a in (A, b, lam))
    with Factorisations() as backward:
        x.sum().backward()
    with Factorisations() as forward, torch.autograd.forward_ad.dual_level():
        duals = [torch.autograd.forward_ad.make_dual(a.detach(), t) for a, t in zip((A, b, lam), tangents)]
        torch.autograd.forward_ad.unpack_dual(fn(*duals))
    if backward.calls:
        raise CheckFailed(f"backward factorises again: it runs {', '.join(backward.calls)}; "
                          "solve with the Cholesky factor saved by the forward pass (torch.cholesky_solve)")
    if len(forward.calls) > 1:
        raise CheckFailed(f"a forward-mode call factorises {len(forward.calls)} times ({', '.join(forward.calls)}); "
                          "the jvp should reuse the forward pass's factor")
    return "no factorisation in backward, at most one in a forward-mode call"


def _jax_reuse(ns: dict[str, Any]) -> str:
    """The pullback of ``jax_ridge_vjp`` (and of ``jax_ridge``) has no factorisation in its jaxpr."""
    import jax

    with _x64():
        args = tuple(jax.numpy.asarray(a) for a in _ARGS)
        for name in ("jax_ridge_vjp", "jax_ridge"):
            out, pullback = jax.vjp(ns[name], *args)
            text = str(jax.make_jaxpr(pullback)(out))
            found = sorted(set(re.findall(rf"= ({'|'.join(_JAX_FACTORISATIONS)})\b", text)))
            if found:
                raise CheckFailed(f"the backward pass of {name} factorises again (its jaxpr contains "
                                  f"{', '.join(found)}); solve with the factor saved by the forward pass")
        # A custom_jvp rule runs whole in the forward part: count its factorisations there.
        ones = tuple(jax.numpy.ones_like(a) for a in args)
        text = str(jax.make_jaxpr(lambda *a: jax.jvp(ns["jax_ridge"], a, ones))(*args))
        found = re.findall(rf"= ({'|'.join(_JAX_FACTORISATIONS)})\b", text)
        if len(found) > 1:
            raise CheckFailed(f"jax.jvp of jax_ridge factorises {len(found)} times ({', '.join(found)}); "
                              "the JVP rule should solve with the primal's factor")
    return "no factorisation in the backward jaxpr of either version, one in jax.jvp of jax_ridge"


_RNG = np.random.default_rng(7)
_ARGS = (_RNG.standard_normal((5, 3)), _RNG.standard_normal(5), np.array(0.7))

PROJECT = Project(
    name="ridge",
    title="A matrix op: the ridge solve, reusing its factorisation",
    op="ridge",
    arg_names=("A", "b", "lam"),
    reference=reference,
    cases=(
        ("a tall A (5, 3)", _ARGS),
        ("a square A (4, 4), small lam", (_RNG.standard_normal((4, 4)), _RNG.standard_normal(4), np.array(1e-3))),
        ("a wide A (3, 5): AᵀA is singular, lam is not", (_RNG.standard_normal((3, 5)), _RNG.standard_normal(3),
                                                         np.array(0.5))),
    ),
    rule_args=_ARGS,
    bad_inputs=(
        BadInput("an integer A", (np.ones((3, 2), dtype=np.int64), np.ones(3), np.array(1.0)), (TypeError,), "A"),
        BadInput("a vector A", (np.ones(3), np.ones(3), np.array(1.0)), (ValueError,), "A"),
        BadInput("b of the wrong length", (np.ones((3, 2)), np.ones(2), np.array(1.0)), (ValueError,), "b"),
        BadInput("lam of shape (1,)", (np.ones((3, 2)), np.ones(3), np.array([1.0])), (ValueError,), "lam"),
    ),
    vmap_in_dims=(None, 0, None),
    batch=(_ARGS[0], _RNG.standard_normal((4, 5)), _ARGS[2]),
    gradgradcheck=False,
    extra=(
        Check("torch: the rules reuse the forward pass's Cholesky factor", _torch_reuse, ("torch_ridge",)),
        Check("jax: the backward passes reuse the forward pass's factor", _jax_reuse,
              ("jax_ridge", "jax_ridge_vjp")),
    ),
    chapters="Part I (adjoints), Part II (autograd.Function, custom_jvp, custom_vjp, memory, testing), "
             "Part III (linear solves, inverses, products)",
)
