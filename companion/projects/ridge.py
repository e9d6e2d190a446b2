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

FACTORISATIONS = ("cholesky", "cholesky_ex", "solve", "solve_ex", "inv", "inv_ex", "inverse",
                  "lu", "lu_factor", "lu_factor_ex", "lstsq", "qr", "eigh", "svd", "pinv")
"""PyTorch functions (in ``torch`` and ``torch.linalg``) that factorise a matrix anew."""

_JAX_FACTORISATIONS = ("cholesky", "lu", "qr", "eigh", "svd", "householder_product")


def reference(xp: Any, A: Any, b: Any, lam: Any) -> Any:
    """The oracle: ``solve(AᵀA + lam I, Aᵀb)``, with NumPy, PyTorch or ``jax.numpy`` as ``xp``."""
    n = A.shape[-1]
    return xp.linalg.solve(A.T @ A + lam * xp.eye(n, dtype=A.dtype), A.T @ b)


def _torch_reuse(ns: dict[str, Any]) -> str:
    """Count the factorisations PyTorch runs during ``backward`` and during a forward-mode JVP."""
    import torch
    import torch.func

    calls: list[str] = []
    originals: list[tuple[Any, str, Any]] = []

    def spy(module: Any, name: str) -> None:
        f = getattr(module, name, None)
        if f is None:
            return

        def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(f"{module.__name__}.{name}")
            return f(*args, **kwargs)

        originals.append((module, name, f))
        setattr(module, name, counted)

    fn = ns["torch_ridge"]
    A, b, lam = _torch_args((np.asarray(a) for a in _ARGS), requires_grad=True)
    x = fn(A, b, lam)
    tangents = tuple(torch.ones_like(a) for a in (A, b, lam))
    for module in (torch, torch.linalg):
        for name in FACTORISATIONS:
            spy(module, name)
    try:
        x.sum().backward()
        backward_calls = list(calls)
        calls.clear()
        with torch.autograd.forward_ad.dual_level():
            duals = [torch.autograd.forward_ad.make_dual(a.detach(), t) for a, t in zip((A, b, lam), tangents)]
            primal, _ = torch.autograd.forward_ad.unpack_dual(fn(*duals))
        jvp_calls = list(calls)
    finally:
        for module, name, f in originals:
            setattr(module, name, f)
    if len(backward_calls) > 0:
        raise CheckFailed(f"backward factorises again: it calls {', '.join(backward_calls)}; "
                          "solve with the Cholesky factor saved by the forward pass (torch.cholesky_solve)")
    if len(jvp_calls) > 1:
        raise CheckFailed(f"a forward-mode call factorises {len(jvp_calls)} times ({', '.join(jvp_calls)}); "
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
    return "no factorisation in the backward jaxpr of either version"


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
