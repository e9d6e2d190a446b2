"""The checks every project shares, built from its :class:`Project` spec.

A project asks for three functions of the same arguments: ``torch_<op>`` (a
``torch.autograd.Function`` behind a validating function), ``jax_<op>`` (a
``jax.custom_jvp``) and ``jax_<op>_vjp`` (a ``jax.custom_vjp``). Each check is a
function of the submission's namespace that returns a short note on success and
raises :class:`CheckFailed` (or any exception) on failure. Nothing here imports
PyTorch or JAX until a check runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = ["Project", "Check", "BadInput", "CheckFailed", "shared_checks"]


class CheckFailed(AssertionError):
    """A check found a defect; the message says what is wrong."""


@dataclass(frozen=True)
class Check:
    """One line of the grader's report: ``run(ns)`` raises on failure, may return a note."""

    name: str
    run: Callable[[dict[str, Any]], str | None]
    needs: tuple[str, ...] = ()


@dataclass(frozen=True)
class BadInput:
    """Arguments the submission must reject with ``error`` and a message matching ``names``.

    ``args`` are NumPy arrays, converted to tensors or JAX arrays (dtype kept);
    other objects (a list) are passed as they are. ``frameworks`` says where the
    case applies.
    """

    why: str
    args: tuple[Any, ...]
    error: tuple[type[Exception], ...] = (TypeError, ValueError)
    names: str = ""
    frameworks: tuple[str, ...] = ("torch", "jax")


@dataclass(frozen=True)
class Project:
    """The spec of a project: what to hand in and how it is checked.

    ``reference(xp, *args)`` is the primal written with built-ins that NumPy,
    PyTorch and ``jax.numpy`` share (the oracle); ``cases`` are float64 example
    inputs with a note each; ``rule_args`` the small inputs of the derivative
    checks; ``vmap_in_dims`` and ``batch`` a batched call; ``extra`` the
    project's own checks, run after the shared ones.
    """

    name: str
    title: str
    op: str
    arg_names: tuple[str, ...]
    reference: Callable[..., Any]
    cases: tuple[tuple[str, tuple[np.ndarray, ...]], ...]
    rule_args: tuple[np.ndarray, ...]
    bad_inputs: tuple[BadInput, ...]
    vmap_in_dims: tuple[int | None, ...]
    batch: tuple[np.ndarray, ...]
    gradgradcheck: bool = True
    extra: tuple[Check, ...] = field(default_factory=tuple)
    chapters: str = ""

    @property
    def required(self) -> tuple[str, str, str]:
        """The names the submission defines: ``torch_<op>``, ``jax_<op>``, ``jax_<op>_vjp``."""
        return (f"torch_{self.op}", f"jax_{self.op}", f"jax_{self.op}_vjp")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _torch_args(args: Sequence[Any], requires_grad: bool = False) -> tuple[Any, ...]:
    import torch

    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            t = torch.as_tensor(a).clone()
            if requires_grad and t.is_floating_point():
                t.requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return tuple(out)


def _jax_args(args: Sequence[Any]) -> tuple[Any, ...]:
    import jax.numpy as jnp

    return tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


def _numpy(out: Any) -> np.ndarray:
    if hasattr(out, "detach"):
        out = out.detach()
    return np.asarray(out)


def _compare(what: str, got: Any, want: np.ndarray, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Raise :class:`CheckFailed` unless ``got`` has ``want``'s shape and float64 values close to it."""
    if isinstance(got, (tuple, list)):
        raise CheckFailed(f"{what}: returned a {type(got).__name__}; expected one array")
    g = _numpy(got)
    if g.shape != want.shape:
        raise CheckFailed(f"{what}: shape {g.shape}; expected {want.shape}")
    if g.dtype != np.float64:
        raise CheckFailed(f"{what}: dtype {g.dtype} for float64 inputs; expected float64")
    bad = ~np.isclose(g, want, rtol=rtol, atol=atol)
    if bad.any():
        i = np.unravel_index(np.argmax(bad), g.shape)
        raise CheckFailed(f"{what}: {int(bad.sum())} of {g.size} values differ, "
                          f"e.g. at index {tuple(int(k) for k in i)}: got {g[i].item()!r}, expected {want[i].item()!r}")


def _x64() -> Any:
    import jax

    return jax.enable_x64(True)


# --------------------------------------------------------------------------
# the shared checks
# --------------------------------------------------------------------------


def shared_checks(p: Project) -> list[Check]:
    """The checks every project runs, in order, for the spec ``p``."""
    t_name, j_name, v_name = p.required

    def torch_primal(ns: dict[str, Any]) -> str:
        import torch

        for why, args in p.cases:
            want = np.asarray(p.reference(np, *args))
            _compare(f"{t_name} on {why}", ns[t_name](*_torch_args(args)), want)
            ref = p.reference(torch, *_torch_args(args))  # the oracle agrees with itself
            assert np.allclose(_numpy(ref), want, rtol=1e-10, atol=1e-12, equal_nan=True)
        return f"{len(p.cases)} cases"

    def torch_reverse(ns: dict[str, Any]) -> str:
        import torch

        from companion.testing import check_torch

        fn = ns[t_name]
        report = check_torch(fn, p.rule_args, jvp=False, vjp=True, arg_names=p.arg_names)
        torch.autograd.gradcheck(fn, _torch_args(p.rule_args, True), check_forward_ad=False)
        worst = max(report.vjp_error.values())
        return f"dot-product test error {worst:.1e}; gradcheck passed"

    def torch_forward(ns: dict[str, Any]) -> str:
        import torch

        from companion.testing import check_torch

        fn = ns[t_name]
        report = check_torch(fn, p.rule_args, jvp=True, vjp=False, arg_names=p.arg_names)
        torch.autograd.gradcheck(fn, _torch_args(p.rule_args, True), check_forward_ad=True,
                                 check_backward_ad=False, check_undefined_grad=False,
                                 check_batched_grad=False)
        worst = max(report.jvp_error.values())
        return f"JVP vs finite differences {worst:.1e}; gradcheck(check_forward_ad=True) passed"

    def torch_double(ns: dict[str, Any]) -> str:
        import torch

        torch.autograd.gradgradcheck(ns[t_name], _torch_args(p.rule_args, True))
        return "gradgradcheck passed"

    def torch_vmap(ns: dict[str, Any]) -> str:
        import torch
        import torch.func

        fn = ns[t_name]
        batch = _torch_args(p.batch)
        size = next(b.shape[d] for b, d in zip(p.batch, p.vmap_in_dims) if d is not None)

        def sliced(k: int) -> tuple[Any, ...]:
            return tuple(a if d is None else a.select(d, k) for a, d in zip(batch, p.vmap_in_dims))

        want = np.stack([_numpy(fn(*sliced(k))) for k in range(size)])
        _compare("torch.func.vmap of the function", torch.func.vmap(fn, in_dims=p.vmap_in_dims)(*batch), want)
        grad = torch.func.grad(lambda *a: fn(*a).sum())
        want = np.stack([_numpy(grad(*sliced(k))) for k in range(size)])
        got = torch.func.vmap(grad, in_dims=p.vmap_in_dims)(*batch)
        _compare("torch.func.vmap of torch.func.grad", got, want, rtol=1e-9, atol=1e-11)
        return f"batch of {size}"

    def bad_input(framework: str) -> Callable[[dict[str, Any]], str]:
        def run(ns: dict[str, Any]) -> str:
            cases = [c for c in p.bad_inputs if framework in c.frameworks]
            fns = [t_name] if framework == "torch" else [j_name, v_name]
            for fn_name in fns:
                for case in cases:
                    args = _torch_args(case.args) if framework == "torch" else _jax_args(case.args)
                    try:
                        ns[fn_name](*args)
                    except case.error as e:
                        if case.names and not re.search(rf"\b{case.names}\b", str(e)):
                            raise CheckFailed(f"{fn_name} with {case.why}: the {type(e).__name__} does not "
                                              f"name the argument {case.names!r}: {_first_line(e)}") from None
                        continue
                    except NotImplementedError:
                        raise
                    except Exception as e:  # noqa: BLE001 - the wrong kind of error is the finding
                        raise CheckFailed(f"{fn_name} with {case.why}: raised {type(e).__name__} "
                                          f"({_first_line(e)}); expected "
                                          f"{' or '.join(t.__name__ for t in case.error)} naming "
                                          f"{case.names!r}") from None
                    raise CheckFailed(f"{fn_name} with {case.why}: no error raised; expected "
                                      f"{' or '.join(t.__name__ for t in case.error)} naming {case.names!r}")
            return f"{len(cases)} bad inputs rejected"
        return run

    def jax_primal(ns: dict[str, Any]) -> str:
        import jax.numpy as jnp

        with _x64():
            for why, args in p.cases:
                want = np.asarray(p.reference(np, *args))
                for fn_name in (j_name, v_name):
                    _compare(f"{fn_name} on {why}", ns[fn_name](*_jax_args(args)), want)
                ref = p.reference(jnp, *_jax_args(args))
                assert np.allclose(np.asarray(ref), want, rtol=1e-10, atol=1e-12, equal_nan=True)
        return f"{len(p.cases)} cases, both versions"

    def jax_jvp_rule(ns: dict[str, Any]) -> str:
        import jax
        from jax.test_util import check_grads

        from companion.testing import check_jax

        fn = ns[j_name]
        report = check_jax(jax.jit(fn), p.rule_args, arg_names=p.arg_names)
        with _x64():
            check_grads(fn, _jax_args(p.rule_args), order=2, modes=("fwd", "rev"))
        return (f"JVP {max(report.jvp_error.values()):.1e}, VJP {max(report.vjp_error.values()):.1e}; "
                "check_grads(order=2, fwd and rev) passed")

    def jax_vjp_rule(ns: dict[str, Any]) -> str:
        import jax
        from jax.test_util import check_grads

        from companion.testing import check_jax

        fn = ns[v_name]
        report = check_jax(jax.jit(fn), p.rule_args, jvp=False, arg_names=p.arg_names)
        with _x64():
            check_grads(fn, _jax_args(p.rule_args), order=2, modes=("rev",))
        return f"VJP {max(report.vjp_error.values()):.1e}; check_grads(order=2, rev) passed"

    def jax_transforms(ns: dict[str, Any]) -> str:
        import jax

        with _x64():
            args, batch = _jax_args(p.rule_args), _jax_args(p.batch)
            size = next(b.shape[d] for b, d in zip(batch, p.vmap_in_dims) if d is not None)
            for fn_name in (j_name, v_name):
                fn = ns[fn_name]
                _compare(f"jax.jit({fn_name})", jax.jit(fn)(*args), np.asarray(fn(*args)))
                argnums = tuple(range(len(args)))
                grads = jax.grad(lambda *a: fn(*a).sum(), argnums=argnums)
                for i, (g, h) in enumerate(zip(jax.jit(grads)(*args), grads(*args))):
                    _compare(f"jax.jit(jax.grad({fn_name})) for {p.arg_names[i]}", g, np.asarray(h))

                def sliced(k: int) -> tuple[Any, ...]:
                    return tuple(a if d is None else a.take(k, axis=d) for a, d in zip(batch, p.vmap_in_dims))

                want = np.stack([np.asarray(fn(*sliced(k))) for k in range(size)])
                _compare(f"jax.vmap({fn_name})", jax.vmap(fn, in_axes=p.vmap_in_dims)(*batch), want)
                g0 = jax.grad(lambda *a: fn(*a).sum())
                want = np.stack([np.asarray(g0(*sliced(k))) for k in range(size)])
                _compare(f"jax.vmap(jax.grad({fn_name}))", jax.vmap(g0, in_axes=p.vmap_in_dims)(*batch), want,
                         rtol=1e-9, atol=1e-11)
        return "jit, grad under jit, vmap, vmap of grad: both versions"

    def custom_rules(ns: dict[str, Any]) -> str:
        import jax
        import torch

        out = ns[t_name](*_torch_args(p.rule_args, True))
        if not isinstance(getattr(out, "grad_fn", None), torch.autograd.function.BackwardCFunction):
            raise CheckFailed(f"{t_name}'s output comes from {type(out.grad_fn).__name__}, not from a "
                              "torch.autograd.Function: return YourFunction.apply(...)")
        with _x64():
            for fn_name, primitive, what in ((j_name, "custom_jvp_call", "jax.custom_jvp"),
                                             (v_name, "custom_vjp_call", "jax.custom_vjp")):
                if primitive not in str(jax.make_jaxpr(ns[fn_name])(*_jax_args(p.rule_args))):
                    raise CheckFailed(f"{fn_name} calls no {what} function: JAX differentiates its "
                                      "operations itself, not your rule")
        return "an autograd.Function, a custom_jvp and a custom_vjp"

    return [
        Check("the functions use custom rules (autograd.Function, custom_jvp, custom_vjp)", custom_rules,
              (t_name, j_name, v_name)),
        Check(f"torch: {t_name} matches the reference primal", torch_primal, (t_name,)),
        Check("torch: reverse mode (check_rule's dot-product test, gradcheck)", torch_reverse, (t_name,)),
        Check("torch: forward mode (check_rule's JVP test, gradcheck with forward AD)", torch_forward, (t_name,)),
        *([Check("torch: double backward (gradgradcheck)", torch_double, (t_name,))] if p.gradgradcheck else []),
        Check("torch: torch.func.vmap of the function and of its gradient", torch_vmap, (t_name,)),
        Check("torch: bad input raises a clear error", bad_input("torch"), (t_name,)),
        Check(f"jax: {j_name} and {v_name} match the reference primal", jax_primal, (j_name, v_name)),
        Check(f"jax: {j_name} (custom_jvp) passes check_rule and check_grads", jax_jvp_rule, (j_name,)),
        Check(f"jax: {v_name} (custom_vjp) passes check_rule and check_grads", jax_vjp_rule, (v_name,)),
        Check("jax: jit and vmap work on both versions", jax_transforms, (j_name, v_name)),
        Check("jax: bad input raises a clear error", bad_input("jax"), (j_name, v_name)),
    ]


def _first_line(e: BaseException) -> str:
    lines = [s.strip() for s in str(e).splitlines() if s.strip()]
    return lines[0] if lines else type(e).__name__
