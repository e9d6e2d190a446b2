"""Project ``logcosh``: log cosh x, stable for every x, with its rules in both frameworks.

Hand in ``torch_logcosh(x)``, ``jax_logcosh(x)`` (``jax.custom_jvp``) and
``jax_logcosh_vjp(x)`` (``jax.custom_vjp``) for real floating ``x`` of any shape,
elementwise. The textbook formula overflows: ``cosh(800.0)`` is ``inf`` in
float64, and so is the naive derivative ``sinh x / cosh x`` (``nan``) for
large inputs. The project checks, beyond the shared checks, that value and
derivatives stay finite and right at ``|x| = 1000``.

>>> PROJECT.required
('torch_logcosh', 'jax_logcosh', 'jax_logcosh_vjp')
>>> [why for why, _ in PROJECT.cases]
['small and moderate x', 'large |x|, where cosh overflows', 'a matrix of random x']
>>> float(PROJECT.reference(np, np.array(800.0)))  # 800 - log 2
799.3068528194401
"""

from __future__ import annotations

from typing import Any

import numpy as np

from companion.projects._checks import BadInput, Check, CheckFailed, Project, _numpy, _x64

__all__ = ["PROJECT", "reference"]


def reference(xp: Any, x: Any) -> Any:
    """The oracle: ``logaddexp(x, -x) - log 2``, with NumPy, PyTorch or ``jax.numpy`` as ``xp``."""
    return xp.logaddexp(x, -x) - np.log(2.0)


def _stability(ns: dict[str, Any]) -> str:
    """Value, first and second derivative at ``x = ±1000`` in every mode."""
    import jax
    import jax.numpy as jnp
    import torch
    import torch.func

    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0])
    want = (reference(np, x), np.tanh(x), 1.0 / np.cosh(np.clip(x, -300.0, 300.0)) ** 2)
    fn = ns["torch_logcosh"]

    def compare(what: str, got: Any, expected: np.ndarray) -> None:
        g = _numpy(got)
        if not np.all(np.isfinite(g)):
            raise CheckFailed(f"{what} at x = {x.tolist()}: got {g.tolist()} (not finite)")
        if not np.allclose(g, expected, rtol=1e-12, atol=1e-14):
            raise CheckFailed(f"{what} at x = {x.tolist()}: got {g.tolist()}, expected {expected.tolist()}")

    t = torch.tensor(x, requires_grad=True)
    compare("torch_logcosh", fn(t), want[0])
    (g,) = torch.autograd.grad(fn(t).sum(), t, create_graph=True)
    compare("torch backward", g, want[1])
    if not g.requires_grad:
        raise CheckFailed("the gradient torch backward returns does not depend on x: backward is not "
                          "differentiable (a detached tensor, or a non-torch computation, in backward)")
    compare("torch second derivative (backward of backward)", torch.autograd.grad(g.sum(), t)[0], want[2])
    compare("torch forward AD", torch.func.jvp(fn, (t.detach(),), (torch.ones(5, dtype=torch.float64),))[1],
            want[1])
    with _x64():
        xs = jnp.asarray(x)
        for name in ("jax_logcosh", "jax_logcosh_vjp"):
            f = ns[name]
            compare(name, f(xs), want[0])
            d1 = jax.vmap(jax.grad(f))
            compare(f"jax.grad({name})", d1(xs), want[1])
            compare(f"second derivative of {name}", jax.vmap(jax.grad(jax.grad(f)))(xs), want[2])
        compare("jax.jvp(jax_logcosh)", jax.jvp(ns["jax_logcosh"], (xs,), (jnp.ones(5),))[1], want[1])
    return "value, first and second derivatives finite and right at |x| = 1000 in both frameworks"


_RNG = np.random.default_rng(2024)

PROJECT = Project(
    name="logcosh",
    title="A numerically stable elementwise op: log cosh",
    op="logcosh",
    arg_names=("x",),
    reference=reference,
    cases=(
        ("small and moderate x", (np.array([-3.0, -1.0, -1e-4, 0.0, 1e-8, 0.5, 2.0, 20.0]),)),
        ("large |x|, where cosh overflows", (np.array([-800.0, -720.0, 710.5, 800.0, 1e5]),)),
        ("a matrix of random x", (_RNG.standard_normal((3, 4)) * 4,)),
    ),
    rule_args=(np.array([-2.5, -0.7, 0.1, 0.9, 3.0]),),
    bad_inputs=(
        BadInput("an integer array", (np.arange(3),), (TypeError,), "x"),
        BadInput("a complex array", (np.array([1.0 + 1.0j]),), (TypeError,), "x"),
        BadInput("a Python list", ([0.5, 1.0],), (TypeError,), "x", ("torch",)),
    ),
    vmap_in_dims=(0,),
    batch=(_RNG.standard_normal((3, 4)),),
    gradgradcheck=True,
    extra=(Check("stability: value and derivatives at |x| = 1000 (both frameworks)", _stability,
                 ("torch_logcosh", "jax_logcosh", "jax_logcosh_vjp")),),
    chapters="Part I (forward and reverse rules), Part II (autograd.Function, custom_jvp, custom_vjp, "
             "double backward, testing), Part III (elementwise ops, softplus)",
)
