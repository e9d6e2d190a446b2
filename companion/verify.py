"""The check batteries that ``python -m companion verify`` and the tests run over the registry.

Every check takes one :class:`companion.registry.Op`, runs on every example
case of it, raises (:class:`CheckFailed` or the framework's error) on failure
and returns a short detail string on success. Failures are raised explicitly,
never by a bare ``assert``, so they are also caught under ``python -O``. Every
comparison is against something independent of the code under test: sympy,
finite differences, or the framework's *built-in* version of the op
(``op.reference(torch, ...)``, ``op.reference(jax.numpy, ...)``).

Complex ops are checked on their *real view*: every battery runs on a function
of real arrays in which a complex argument is a real array with a trailing axis
of length 2 (real and imaginary parts) and a complex output comes back the same
way (:class:`Case`). Its derivatives pass through the op's complex rule, so a
rule with a wrong conjugate gives a wrong real Jacobian; ``gradcheck``,
``gradgradcheck`` and ``check_grads`` also run on the complex arguments
themselves, with the frameworks' own complex conventions. An op with several
outputs (a tuple) is seen as one output, their flattened concatenation, so
every cotangent of its rule is exercised at once. Arguments an op reads as
symmetric (``Op.symmetric_args``) are passed as ``(X + Xᵀ)/2`` to the op and to
the reference, so finite differences stay among symmetric matrices.

The frameworks are imported inside the checks, so importing this module
imports neither.

>>> [c.name for c in CHECKS][:3]
['symbolic', 'checker: torch', 'checker: jax custom_jvp']
"""

from __future__ import annotations

import contextlib
import re
import unittest
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from companion.registry import OPS, Op
from companion.testing import check_jax, check_torch

__all__ = ["Case", "Check", "CHECKS", "CheckFailed", "Row", "run", "format_row", "format_table", "HEADER"]

_RTOL, _ATOL = 1e-10, 1e-12


class CheckFailed(AssertionError):
    """A battery found a wrong result (raised explicitly, so ``python -O`` cannot drop it)."""


def _require(ok: Any, message: str) -> None:
    """Raise :class:`CheckFailed` with ``message`` unless ``ok``."""
    if not ok:
        raise CheckFailed(message)


@dataclass(frozen=True)
class Check:
    """A named battery: ``run(op)`` raises on failure and returns a detail string.

    An op that lists the battery in ``op.not_applicable`` makes ``run`` raise
    ``unittest.SkipTest("n/a: <reason>")`` without running the battery, so a test
    runner reports a skip (never a pass) and :func:`run` an ``n/a`` row.
    """

    name: str
    framework: str
    battery: Callable[[Op], str]

    def run(self, op: Op) -> str:
        """Run the battery on ``op``; raise ``unittest.SkipTest`` if ``op`` opts out of it."""
        reason = op.not_applicable.get(self.name)
        if reason is not None:
            raise unittest.SkipTest(f"n/a: {reason}")
        return self.battery(op)


def _has_forward_ad(op: Op) -> bool:
    return "forward AD" not in op.not_applicable


def _has_torch_func(op: Op) -> bool:
    return "torch.func" not in op.not_applicable


@dataclass(frozen=True)
class Case:
    """One example of an op as the batteries see it: a function of real arrays.

    ``native`` are the example's arguments; ``args`` the same with every complex
    argument replaced by a real array with a trailing axis ``[real, imag]``.
    :meth:`real` turns a function of the native arguments into the function of
    ``args`` (complex outputs split the same way; a tuple of outputs flattened
    and concatenated); for an op with one real output and real arguments it
    changes nothing.

    >>> c = Case("c", (np.ones(2), np.array([1 + 2j])))
    >>> c.complex, c.args[1].tolist()
    (True, [[1.0, 2.0]])
    >>> c.real(lambda x, z: x.sum() * z, "numpy")(*c.args).tolist()
    [[2.0, 4.0]]
    >>> c.real(lambda x, z: (x, z), "numpy")(*c.args).tolist()
    [1.0, 1.0, 1.0, 2.0]
    """

    name: str
    native: tuple[np.ndarray, ...]
    symmetric: tuple[bool, ...] = ()
    """For each argument, whether the batteries pass it as ``(X + Xᵀ)/2``."""

    @property
    def complex(self) -> bool:
        """Whether any argument is complex."""
        return any(np.iscomplexobj(a) for a in self.native)

    @property
    def args(self) -> tuple[np.ndarray, ...]:
        """The real view of the arguments."""
        return tuple(np.stack([a.real, a.imag], -1) if np.iscomplexobj(a) else a for a in self.native)

    def real(self, f: Callable[..., Any], framework: str) -> Callable[..., Any]:
        """``f`` as a function of the real view, in ``framework`` (numpy, torch or jax)."""
        join, split, sym = _VIEWS[framework]()
        flags = tuple(np.iscomplexobj(a) for a in self.native)
        symmetric = self.symmetric or (False,) * len(flags)

        def view(x: Any, c: bool, s: bool) -> Any:
            x = join(x) if c else x
            return sym(x) if s else x

        return lambda *a: split(f(*(view(x, c, s) for x, c, s in zip(a, flags, symmetric))))


View = tuple[Callable[[Any], Any], Callable[[Any], Any], Callable[[Any], Any]]
"""(join re, im into a complex array; split a complex output; (X + Xᵀ)/2) in one framework."""


def _numpy_view() -> View:
    def split(o: Any) -> Any:
        if isinstance(o, (tuple, list)):
            return np.concatenate([split(a).reshape(-1) for a in o])
        return np.stack([o.real, o.imag], -1) if np.iscomplexobj(o) else o

    return (lambda a: a[..., 0] + 1j * a[..., 1]), split, lambda X: (X + np.swapaxes(X, -1, -2)) / 2


def _torch_view() -> View:
    import torch

    def split(o: Any) -> Any:
        if isinstance(o, (tuple, list)):
            return torch.cat([split(a).reshape(-1) for a in o])
        return torch.stack([o.real, o.imag], -1) if o.is_complex() else o

    return (lambda a: torch.complex(a[..., 0], a[..., 1])), split, lambda X: (X + X.mT) / 2


def _jax_view() -> View:
    import jax
    import jax.numpy as jnp

    def split(o: Any) -> Any:
        if isinstance(o, (tuple, list)):
            return jnp.concatenate([split(a).reshape(-1) for a in o])
        return jnp.stack([jnp.real(o), jnp.imag(o)], -1) if jnp.iscomplexobj(o) else o

    return (lambda a: jax.lax.complex(a[..., 0], a[..., 1])), split, lambda X: (X + jnp.swapaxes(X, -1, -2)) / 2


_VIEWS = {"numpy": _numpy_view, "torch": _torch_view, "jax": _jax_view}


def _cases(op: Op) -> Iterator[Case]:
    for i, case in enumerate(op.cases):
        yield Case(case, op.example(case, seed=i), tuple(name in op.symmetric_args for name in op.arg_names))


def _close(got: Any, want: Any, what: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    _require(
        np.iscomplexobj(got) == np.iscomplexobj(want),
        f"{what}: a {got.dtype} result where the built-in gives {want.dtype} (a complex cotangent for a real input?)",
    )
    np.testing.assert_allclose(got, want, rtol=_RTOL, atol=_ATOL, err_msg=what)


def _tree_close(got: Any, want: Any, what: str) -> None:
    if isinstance(want, (tuple, list)):
        _require(len(got) == len(want), f"{what}: {len(got)} results, expected {len(want)}")
        for i, (g, w) in enumerate(zip(got, want)):
            _tree_close(g, w, f"{what}[{i}]")
    else:
        _close(_to_numpy(got), _to_numpy(want), what)


def _to_numpy(a: Any) -> np.ndarray:
    return a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)


# --------------------------------------------------------------------------
# symbolic and checker
# --------------------------------------------------------------------------


def check_symbolic(op: Op) -> str:
    """Every sympy check of the op's derivation holds identically."""
    d = op.derivation()
    failed = [k for k, ok in d.checks.items() if not ok]
    _require(not failed, f"{op.name}: symbolic checks failed: {failed}")
    return f"{len(d.checks)} identities"


def _checker(framework: str, vjp_only: bool = False) -> Callable[[Op], str]:
    def run(op: Op) -> str:
        slopes = []
        for c in _cases(op):
            if framework == "torch" and not _has_torch_func(op):
                report = _check_torch_autograd(c.real(op.torch(), "torch"), c.args, op.arg_names)
            elif framework == "torch":
                report = check_torch(c.real(op.torch(), "torch"), c.args, arg_names=op.arg_names)
            else:
                fn = c.real(op.jax(vjp=vjp_only), "jax")
                report = check_jax(fn, c.args, jvp=not vjp_only, arg_names=op.arg_names)
            slopes.append(report.taylor_slope["all inputs jointly"])
        note = "" if framework != "torch" or _has_torch_func(op) else "; VJP by torch.autograd (torch.func n/a)"
        return "Taylor slopes " + ", ".join(f"{s:.2f}" for s in slopes) + note

    return run


def _check_torch_autograd(fn: Callable[..., Any], args: tuple[np.ndarray, ...], arg_names: tuple[str, ...]) -> Any:
    """:func:`companion.testing.check_rule` on the VJP alone, through ``torch.autograd.grad``."""
    import torch

    from companion.testing import check_rule

    def f(*a: np.ndarray) -> np.ndarray:
        return fn(*_torch_args(a)).detach().numpy()

    def vjp(primals: Any, out_bar: Any) -> tuple[np.ndarray, ...]:
        inputs = _torch_args(tuple(primals), True)
        grads = torch.autograd.grad(fn(*inputs), inputs, torch.as_tensor(np.asarray(out_bar, np.float64)))
        return tuple(g.numpy() for g in grads)

    return check_rule(f, args, vjp=vjp, arg_names=arg_names)


# --------------------------------------------------------------------------
# PyTorch batteries
# --------------------------------------------------------------------------


def _torch_args(args: tuple[np.ndarray, ...], requires_grad: bool = False) -> tuple[Any, ...]:
    """Float64 tensors (complex128 for complex arrays)."""
    import torch

    return tuple(
        torch.tensor(a, dtype=torch.complex128 if np.iscomplexobj(a) else torch.float64, requires_grad=requires_grad)
        for a in args
    )


def check_gradcheck(op: Op) -> str:
    """``torch.autograd.gradcheck``: backward and forward AD vs finite differences, batched too."""
    from torch.autograd import gradcheck

    forward = _has_forward_ad(op)
    complex_ = False
    for c in _cases(op):
        for fn, args in _real_and_native(c, op.torch(), "torch"):
            ok = gradcheck(
                fn, _torch_args(args, True), check_forward_ad=forward, check_backward_ad=True,
                check_batched_grad=True, check_batched_forward_grad=forward,
            )
            _require(ok, f"{op.name}/{c.name}: gradcheck")
        complex_ |= c.complex
    done = "backward, forward AD, batched" if forward else "backward, batched (forward AD n/a)"
    return done + ("; complex inputs too" if complex_ else "")


def _real_and_native(c: Case, fn: Callable[..., Any], framework: str) -> list[tuple[Callable[..., Any], Any]]:
    """The real view of a case, and for a complex case also the op on its complex arguments."""
    return [(c.real(fn, framework), c.args)] + ([(fn, c.native)] if c.complex else [])


def check_gradgradcheck(op: Op) -> str:
    """``torch.autograd.gradgradcheck``: reverse-over-reverse and forward-over-reverse vs finite differences."""
    from torch.autograd import gradgradcheck

    forward = _has_forward_ad(op)
    for c in _cases(op):
        for fn, args in _real_and_native(c, op.torch(), "torch"):
            ok = gradgradcheck(
                fn, _torch_args(args, True), check_fwd_over_rev=forward, check_rev_over_rev=True,
                check_batched_grad=True,
            )
            _require(ok, f"{op.name}/{c.name}: gradgradcheck")
    return "rev-over-rev, fwd-over-rev" if forward else "rev-over-rev (fwd-over-rev n/a)"


def check_torch_create_graph(op: Op) -> str:
    """``torch.autograd.grad(create_graph=True)`` twice, against the built-in op."""
    import torch

    for c in _cases(op):
        case, args = c.name, c.args
        results = []
        for f in (c.real(op.torch(), "torch"), c.real(lambda *a: op.reference(torch, *a), "torch")):
            inputs = _torch_args(args, True)
            out = f(*inputs)
            w = torch.cos(torch.arange(out.numel(), dtype=torch.float64)).reshape(out.shape)
            grads = torch.autograd.grad((out * w).sum(), inputs, create_graph=True)
            second = torch.autograd.grad(sum((g * g).sum() for g in grads), inputs)
            results.append((grads, second))
        _tree_close(results[0], results[1], f"{op.name}/{case}: grad and grad-of-grad")
    return "grad, grad of grad = built-in"


def check_torch_forward_ad(op: Op) -> str:
    """``torch.autograd.forward_ad`` dual numbers, against the built-in op."""
    import torch
    import torch.autograd.forward_ad as fwAD

    for c in _cases(op):
        case, primals = c.name, _torch_args(c.args)
        tangents = tuple(torch.sin(torch.arange(p.numel(), dtype=torch.float64) + 1).reshape(p.shape) for p in primals)
        outs = []
        for f in (c.real(op.torch(), "torch"), c.real(lambda *a: op.reference(torch, *a), "torch")):
            with fwAD.dual_level():
                out = f(*(fwAD.make_dual(p, t) for p, t in zip(primals, tangents)))
                outs.append(fwAD.unpack_dual(out).tangent.clone())
        _close(outs[0], outs[1], f"{op.name}/{case}: forward-AD tangent")
    return "tangent = built-in"


def check_torch_func(op: Op) -> str:
    """``torch.func``: grad, vjp, jvp, vmap, jacrev, jacfwd, hessian, against the built-in op."""
    import torch
    import torch.func as tf

    for c in _cases(op):
        case, primals = c.name, _torch_args(c.args)
        fn = c.real(op.torch(), "torch")
        builtin = c.real(lambda *a: op.reference(torch, *a), "torch")
        argnums = tuple(range(len(primals)))
        out = builtin(*primals)
        w = torch.cos(torch.arange(out.numel(), dtype=torch.float64)).reshape(out.shape)
        tangents = tuple(torch.sin(torch.arange(p.numel(), dtype=torch.float64) + 1).reshape(p.shape) for p in primals)
        tag = f"{op.name}/{case}"
        pairs: dict[str, Callable[[Callable[..., Any]], Any]] = {
            "grad": lambda f: tf.grad(lambda *a: (f(*a) * w).sum(), argnums)(*primals),
            "vjp": lambda f: tf.vjp(f, *primals)[1](w),
            "jvp": lambda f: tf.jvp(f, primals, tangents),
            "vmap": lambda f: tf.vmap(f)(*(torch.stack([p, 2 * p, p / 2]) for p in primals)),
            "jacrev": lambda f: tf.jacrev(f, argnums)(*primals),
            "jacfwd": lambda f: tf.jacfwd(f, argnums)(*primals),
            "hessian": lambda f: tf.hessian(lambda *a: (f(*a) * w).sum(), argnums)(*primals),
        }
        for name, transform in pairs.items():
            _tree_close(transform(fn), transform(builtin), f"{tag}: torch.func.{name}")
    return ", ".join(pairs)


def check_torch_bad_inputs(op: Op) -> str:
    """Bad inputs raise the registry's error with its message (and a non-tensor raises TypeError)."""
    import torch

    fn = op.torch()
    for bad in op.bad_inputs:
        _expect_error(lambda: fn(*(torch.from_numpy(np.asarray(a)) for a in bad.args)), bad.error, bad.match, bad.why)
    good = op.example()
    _expect_error(
        lambda: fn([0.0] * len(good[0]), *_torch_args(good[1:])), TypeError,
        rf"{op.name}: {op.arg_names[0]} must be a torch.Tensor; got list", "list argument",
    )
    _expect_error(
        lambda: fn(*_torch_args(good[:-1]), good[-1]), TypeError,
        rf"{op.name}: {op.arg_names[-1]} must be a torch.Tensor; got ndarray", "NumPy argument",
    )
    return f"{len(op.bad_inputs) + 2} rejected"


def _expect_error(call: Callable[[], Any], error: type[Exception], match: str, why: str) -> None:
    try:
        call()
    except error as err:
        _require(re.search(match, str(err)), f"{why}: message {str(err)!r} does not match {match!r}")
    else:
        raise CheckFailed(f"{why}: no {error.__name__} raised")


# --------------------------------------------------------------------------
# JAX batteries (all in float64, without touching the global setting)
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _x64() -> Iterator[None]:
    import jax

    with jax.enable_x64(True):
        yield


def _jax_args(args: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
    """Float64 arrays (complex128 for complex arrays); call inside ``_x64()``."""
    import jax.numpy as jnp

    return tuple(jnp.asarray(a, dtype=jnp.complex128 if np.iscomplexobj(a) else jnp.float64) for a in args)


def check_jax_check_grads(op: Op) -> str:
    """``jax.test_util.check_grads`` to order 2: custom_jvp in fwd and rev, custom_vjp in rev."""
    from jax.test_util import check_grads

    complex_ = False
    with _x64():
        for c in _cases(op):
            for fn, args in _real_and_native(c, op.jax(), "jax"):
                check_grads(fn, _jax_args(args), order=2, modes=("fwd", "rev"))
            for fn, args in _real_and_native(c, op.jax(vjp=True), "jax"):
                check_grads(fn, _jax_args(args), order=2, modes=("rev",))
            complex_ |= c.complex
    return "order 2: custom_jvp fwd+rev, custom_vjp rev" + ("; complex inputs too" if complex_ else "")


def check_jax_jit(op: Op) -> str:
    """``jax.jit`` of the op and of its gradient, against the built-in op."""
    import jax
    import jax.numpy as jnp

    with _x64():
        for c in _cases(op):
            case, args, primals = c.name, c.args, _jax_args(c.args)
            argnums = tuple(range(len(primals)))
            reference = c.real(lambda *a: op.reference(np, *a), "numpy")
            _close(jax.jit(c.real(op.jax(), "jax"))(*primals), reference(*args), f"{op.name}/{case}: jit value")
            builtin = c.real(lambda *a: op.reference(jnp, *a), "jax")
            for vjp in (False, True):
                f = c.real(op.jax(vjp=vjp), "jax")
                grad = jax.jit(jax.grad(lambda *a, f=f: jnp.sum(jnp.cos(f(*a))), argnums))
                want = jax.grad(lambda *a: jnp.sum(jnp.cos(builtin(*a))), argnums)(*primals)
                _tree_close(grad(*primals), want, f"{op.name}/{case}: jit(grad) (vjp={vjp})")
    return "value, grad (custom_jvp, custom_vjp)"


def check_jax_vmap(op: Op) -> str:
    """``jax.vmap`` of the op, of its JVP and of its VJP (jitted), against the built-in op."""
    import jax
    import jax.numpy as jnp

    def batteries(f: Callable[..., Any], g: Callable[..., Any]) -> Any:
        @jax.jit
        def run(*a: Any) -> Any:
            value = jax.vmap(f)(*a)
            tangent = jax.vmap(lambda *p: jax.jvp(f, p, tuple(jnp.cos(q) for q in p))[1])(*a)
            cotangents = jax.vmap(lambda *p: jax.vjp(g, *p)[1](jnp.cos(g(*p))))(*a)
            return value, tangent, cotangents

        return run

    with _x64():
        for c in _cases(op):
            case, builtin = c.name, c.real(lambda *a: op.reference(jnp, *a), "jax")
            ours = batteries(c.real(op.jax(), "jax"), c.real(op.jax(vjp=True), "jax"))
            theirs = batteries(builtin, builtin)
            primals = tuple(jnp.stack([p, 2 * p, p / 2]) for p in _jax_args(c.args))
            _tree_close(ours(*primals), theirs(*primals), f"{op.name}/{case}: vmap of (value, jvp, custom_vjp's vjp)")
            _tree_close(
                jax.vmap(c.real(op.jax(vjp=True), "jax"))(*primals), jax.vmap(builtin)(*primals), f"{op.name}/{case}: vmap"
            )
    return "value, jvp, vjp"


def check_jax_transforms(op: Op) -> str:
    """``jacfwd``, ``jacrev``, ``hessian`` (custom_jvp) and ``jacrev`` of ``grad`` (custom_vjp), jitted, vs built-in."""
    import jax
    import jax.numpy as jnp

    def batteries(f: Callable[..., Any], g: Callable[..., Any], argnums: tuple[int, ...]) -> Any:
        def scalar(h: Callable[..., Any]) -> Callable[..., Any]:
            return lambda *a: jnp.sum(jnp.sin(h(*a)))

        @jax.jit
        def run(*a: Any) -> Any:
            return (
                jax.jacfwd(f, argnums)(*a),
                jax.jacrev(f, argnums)(*a),
                jax.hessian(scalar(f), argnums)(*a),
                jax.jacrev(jax.grad(scalar(g), argnums), argnums)(*a),
            )

        return run

    with _x64():
        for c in _cases(op):
            primals, builtin = _jax_args(c.args), c.real(lambda *a: op.reference(jnp, *a), "jax")
            argnums = tuple(range(len(primals)))
            tag = f"{op.name}/{c.name}"
            _tree_close(
                batteries(c.real(op.jax(), "jax"), c.real(op.jax(vjp=True), "jax"), argnums)(*primals),
                batteries(builtin, builtin, argnums)(*primals),
                f"{tag}: (jacfwd, jacrev, hessian, custom_vjp jacrev of grad)",
            )
            try:
                jax.jvp(c.real(op.jax(vjp=True), "jax"), primals, primals)
            except TypeError:
                pass
            else:
                raise CheckFailed(f"{tag}: jax.jvp of the custom_vjp version did not raise")
    return "jacfwd, jacrev, hessian; custom_vjp: rev-over-rev, no jvp"


def check_jax_bad_inputs(op: Op) -> str:
    """Bad inputs raise the registry's error with its message, also under ``jax.jit``."""
    import jax

    with _x64():
        for vjp in (False, True):
            fn = op.jax(vjp=vjp)
            for bad in op.bad_inputs:
                args = _np_args_for_jax(bad.args)
                _expect_error(lambda: fn(*args), bad.error, bad.match, bad.why)
                _expect_error(lambda: jax.jit(fn)(*args), bad.error, bad.match, bad.why + " (jit)")
    return f"{len(op.bad_inputs)} rejected, eagerly and under jit"


def _np_args_for_jax(args: tuple[np.ndarray, ...]) -> tuple[Any, ...]:
    import jax.numpy as jnp

    return tuple(jnp.asarray(a) for a in args)


CHECKS: tuple[Check, ...] = (
    Check("symbolic", "sympy", check_symbolic),
    Check("checker: torch", "torch", _checker("torch")),
    Check("checker: jax custom_jvp", "jax", _checker("jax")),
    Check("checker: jax custom_vjp", "jax", _checker("jax", vjp_only=True)),
    Check("gradcheck", "torch", check_gradcheck),
    Check("gradgradcheck", "torch", check_gradgradcheck),
    Check("create_graph", "torch", check_torch_create_graph),
    Check("forward AD", "torch", check_torch_forward_ad),
    Check("torch.func", "torch", check_torch_func),
    Check("bad inputs: torch", "torch", check_torch_bad_inputs),
    Check("check_grads", "jax", check_jax_check_grads),
    Check("jit", "jax", check_jax_jit),
    Check("vmap", "jax", check_jax_vmap),
    Check("jacfwd/jacrev/hessian", "jax", check_jax_transforms),
    Check("bad inputs: jax", "jax", check_jax_bad_inputs),
)
"""Every battery, in the order ``python -m companion verify`` prints them."""


@dataclass(frozen=True)
class Row:
    """One line of the verify table."""

    op: str
    check: str
    ok: bool
    detail: str
    seconds: float
    applicable: bool = True
    """Whether the battery applies to the op. A row of a battery the op opts out of has
    ``applicable`` false and ``detail`` ``"n/a: <reason>"``; it counts neither as passed
    nor as failed."""


def run(ops: tuple[Op, ...] = OPS, checks: tuple[Check, ...] = CHECKS) -> list[Row]:
    """Run every check on every op; failures become rows with ``ok=False`` and the error message."""
    rows = []
    for op in ops:
        for check in checks:
            start = time.perf_counter()
            applicable = True
            try:
                detail, ok = check.run(op), True
            except unittest.SkipTest as na:
                detail, ok, applicable = str(na), True, False
            except Exception as err:  # noqa: BLE001 - a failed check is a row, not a crash
                detail, ok = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}", False
            rows.append(Row(op.name, check.name, ok, detail, time.perf_counter() - start, applicable))
    return rows


HEADER = f"{'op':<9}  {'check':<24}  result    time  detail"
"""The header line of the verify table."""


def format_row(r: Row) -> str:
    """One row of the verify table."""
    result = "n/a" if not r.applicable else "ok" if r.ok else "FAIL"
    return f"{r.op:<9}  {r.check:<24}  {result:<6}  {r.seconds:5.1f}s  {r.detail}"


def format_table(rows: list[Row]) -> str:
    """The rows as a fixed-width text table."""
    return "\n".join([HEADER, "-" * len(HEADER) + "-" * 40, *map(format_row, rows)])
