"""Tests of the companion's ops: every battery over the registry, then the hard cases.

The batteries (``companion.verify.CHECKS``) compare against sympy, finite
differences or the frameworks' built-in ops, never against the code under test.
"""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from companion.ops.elementwise import rules as elementwise_rules
from companion.registry import OPS, OPS_BY_NAME, Op
from companion.verify import CHECKS, Check

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from torch.autograd.gradcheck import GradcheckError  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402

F64 = torch.float64


# --------------------------------------------------------------------------
# Every battery on every op of the registry
# --------------------------------------------------------------------------


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_battery(op: Op, check: Check) -> None:
    check.run(op)


def _phase_mul_op(conjugate: bool) -> Op:
    """An op e^{iθ} ⊙ z whose PyTorch and JAX (custom_vjp) rules conjugate e^{iθ} in the
    z cotangent (right) or forget to (``conjugate=False``: the classic mistake)."""

    def z_bar(e: object, out_bar: object, conj: object) -> object:
        return (conj(e) if conjugate else e) * out_bar

    class PhaseMul(torch.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(theta: object, z: object) -> object:
            return torch.exp(1j * theta) * z

        @staticmethod
        def setup_context(ctx: object, inputs: tuple, output: object) -> None:
            ctx.save_for_backward(*inputs)
            ctx.save_for_forward(*inputs)

        @staticmethod
        def backward(ctx: object, out_bar: object) -> tuple:
            theta, z = ctx.saved_tensors
            e = torch.exp(1j * theta)
            return ((1j * e * z).conj() * out_bar).real, z_bar(e, out_bar, torch.conj)

        @staticmethod
        def jvp(ctx: object, theta_dot: object, z_dot: object) -> object:
            theta, z = ctx.saved_tensors
            e = torch.exp(1j * theta)
            return 1j * theta_dot * e * z + e * z_dot

    @jax.custom_vjp
    def phase_mul_vjp(theta: object, z: object) -> object:
        return jnp.exp(1j * theta) * z

    def bwd(residuals: tuple, out_bar: object) -> tuple:
        theta, z = residuals
        e, o = jnp.exp(1j * theta), jnp.conj(out_bar)  # JAX's cotangent is PyTorch's conjugate
        return jnp.real(jnp.conj(1j * e * z) * o), jnp.conj(z_bar(e, o, jnp.conj))

    phase_mul_vjp.defvjp(lambda theta, z: (phase_mul_vjp(theta, z), (theta, z)), bwd)

    class Fake(Op):
        def torch(self) -> object:
            return PhaseMul.apply

        def jax(self, *, vjp: bool = False) -> object:
            return phase_mul_vjp if vjp else (lambda theta, z: jnp.exp(1j * theta) * z)

    return Fake(
        name="phase_mul_test", family="complex", arg_names=("theta", "z"), formula="e^{iθ} ⊙ z",
        reference=lambda xp, theta, z: xp.exp(1j * theta) * z,
        cases={"vector": lambda rng: (rng.standard_normal(3), rng.standard_normal(3) + 1j * rng.standard_normal(3))},
        derive=lambda: None, validate=lambda *a, **k: None,  # type: ignore[arg-type,return-value]
    )


@pytest.mark.parametrize("name", ["gradcheck", "torch.func", "create_graph", "check_grads", "jit", "vmap"])
def test_batteries_see_a_missing_conjugate(name: str) -> None:
    """The batteries run complex ops on their real view: a rule that forgets a
    conjugate passes nothing that compares derivatives, a right one passes."""
    check = next(c for c in CHECKS if c.name == name)
    check.run(_phase_mul_op(conjugate=True))
    with pytest.raises((AssertionError, GradcheckError)):
        check.run(_phase_mul_op(conjugate=False))


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_values_match_the_reference(op: Op) -> None:
    """Each framework's op against the reference built from the same framework's functions
    (a decomposition's signs may differ between LAPACK builds, so not across frameworks)."""
    for i, case in enumerate(op.cases):
        args = op.example(case, seed=i)
        tensors = tuple(torch.from_numpy(a) for a in args)
        np.testing.assert_allclose(_flat(op.torch()(*tensors)), _flat(op.reference(torch, *tensors)),
                                   rtol=1e-12, atol=1e-12)
        with jax.enable_x64(True):
            want = _flat(op.reference(jnp, *(jnp.asarray(a) for a in args)))
            for vjp in (False, True):
                np.testing.assert_allclose(_flat(op.jax(vjp=vjp)(*args)), want, rtol=1e-12, atol=1e-12)


def _flat(out: object) -> np.ndarray:
    """An output (an array or tensor, or a tuple of them) as one NumPy array."""
    if isinstance(out, (tuple, list)):
        return np.concatenate([_flat(o).reshape(-1) for o in out])
    return out.detach().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)


# --------------------------------------------------------------------------
# Public names the book imports; lazy frameworks
# --------------------------------------------------------------------------


def test_public_names() -> None:
    for name in ("sin_mul", "matvec", "solve", "sin", "SinMul", "MatVec", "Solve", "Sin", "SinBackward"):
        assert hasattr(ct, name), name
    for op in OPS:
        assert callable(getattr(cj, op.name)) and callable(getattr(cj, op.name + "_vjp"))
    for cls in (ct.SinMul, ct.MatVec, ct.Solve, ct.Sin, ct.SinBackward):
        assert issubclass(cls, torch.autograd.Function)
        assert "setup_context" in vars(cls) and "jvp" in vars(cls) and "backward" in vars(cls)
        assert cls.generate_vmap_rule is True


def test_import_companion_imports_no_framework() -> None:
    code = (
        "import sys, companion, companion.rules, companion.registry, companion.symbolic, "
        "companion.testing, companion.verify, companion._validate, companion.confirm, companion.xp, "
        "companion.xp.sympy, companion.derivation, companion.ops.elementwise.entries, "
        "companion.ops.linalg.entries\n"
        "bad = [m for m in ('torch', 'jax') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------
# needs_input_grad: no work for inputs that need no gradient
# --------------------------------------------------------------------------


class _AtenRecorder(TorchDispatchMode):
    """Records the name of every aten op dispatched while active."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.ops.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def _backward_ops(op: Op, requires: tuple[bool, ...]) -> tuple[list[str], tuple[object, ...]]:
    args = tuple(torch.tensor(a, requires_grad=r) for a, r in zip(op.example(), requires))  # float64 or complex128
    out = op.torch()(*args)
    with _AtenRecorder() as rec:
        grads = torch.autograd.grad(out.real.sum(), [a for a in args if a.requires_grad])
    return rec.ops, grads


@pytest.mark.parametrize("op", [op for op in OPS if len(op.arg_names) > 1], ids=lambda op: op.name)
def test_needs_input_grad_saves_work(op: Op) -> None:
    n = len(op.arg_names)
    all_ops, all_grads = _backward_ops(op, (True,) * n)
    fewer = []
    for i in range(n):
        only = tuple(j == i for j in range(n))
        ops, (grad,) = _backward_ops(op, only)
        torch.testing.assert_close(grad, all_grads[i])  # the same gradient ...
        assert len(ops) <= len(all_ops), (op.arg_names[i], ops, all_ops)
        fewer.append(len(ops) < len(all_ops))  # ... and for some input, less work
    assert any(fewer), f"{op.name}: backward does the same work whatever needs_input_grad says"


def test_sin_mul_backward_skips_cos_when_x_needs_no_grad() -> None:
    ops, _ = _backward_ops(OPS_BY_NAME["sin_mul"], (False, True))
    assert "cos" not in ops, ops


# --------------------------------------------------------------------------
# sin: second derivatives come from the custom rules
# --------------------------------------------------------------------------


def test_torch_sin_first_derivative_is_sin_backward_node() -> None:
    x = torch.linspace(0, 1, 3, dtype=F64, requires_grad=True)
    (dx,) = torch.autograd.grad(ct.sin(x).sum(), x, create_graph=True)
    assert dx.grad_fn.name() == "SinBackwardBackward"


def _scale(monkeypatch: pytest.MonkeyPatch, name: str, factor: float) -> None:
    """Multiply every output of the elementwise formula ``<name>`` by ``factor`` (a deliberately wrong rule)."""
    original = getattr(elementwise_rules, name)

    def scaled(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = original(*args, **kwargs)
        return tuple(None if o is None else factor * o for o in out) if isinstance(out, tuple) else factor * out

    monkeypatch.setattr(elementwise_rules, name, scaled)


def test_torch_sin_second_derivative_comes_from_sin_backward_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scaling SinBackward's rules by 3 scales every second derivative by 3 and leaves the first alone."""
    x0 = torch.tensor([0.3, 1.1], dtype=F64)
    from torch.func import grad, hessian, jacfwd, jacrev

    def derivatives():  # type: ignore[no-untyped-def]
        x = x0.clone().requires_grad_()
        (dx,) = torch.autograd.grad(ct.sin(x).sum(), x, create_graph=True)
        (ddx,) = torch.autograd.grad(dx.sum(), x)
        s = lambda x: ct.sin(x).sum()  # noqa: E731
        return dx.detach(), [ddx, hessian(s)(x0).diagonal(), jacfwd(jacfwd(s))(x0).diagonal(),
                             jacfwd(grad(s))(x0).diagonal(), jacrev(grad(s))(x0).diagonal()]

    first, second = derivatives()
    for h in second:
        torch.testing.assert_close(h, -torch.sin(x0))
    _scale(monkeypatch, "sin_backward_cotangents", 3.0)
    _scale(monkeypatch, "sin_backward_tangent", 3.0)
    first_patched, second_patched = derivatives()
    torch.testing.assert_close(first_patched, first)
    for h in second_patched:
        torch.testing.assert_close(h, -3.0 * torch.sin(x0))


def test_jax_sin_second_derivative_comes_from_custom_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scaling sin_derivative's JVP rule by 3 scales every second derivative of jax sin by 3."""
    with jax.enable_x64(True):
        x = jnp.asarray(0.7)
        orders = {
            "grad(grad)": jax.grad(jax.grad(cj.sin)),
            "jacfwd(jacfwd)": jax.jacfwd(jax.jacfwd(cj.sin)),
            "jacfwd(grad)": jax.jacfwd(jax.grad(cj.sin)),
            "grad(jacfwd)": jax.grad(jax.jacfwd(cj.sin)),
            "hessian": jax.hessian(cj.sin),
        }
        for name, f in orders.items():
            np.testing.assert_allclose(f(x), -np.sin(0.7), rtol=1e-12, err_msg=name)
        _scale(monkeypatch, "sin_derivative_tangent", 3.0)
        for name, f in orders.items():
            np.testing.assert_allclose(f(x), -3.0 * np.sin(0.7), rtol=1e-12, err_msg=name)
        np.testing.assert_allclose(jax.grad(cj.sin)(x), np.cos(0.7), rtol=1e-12)


def test_jax_sin_vjp_second_derivative_comes_from_sin_backward(monkeypatch: pytest.MonkeyPatch) -> None:
    with jax.enable_x64(True):
        x = jnp.asarray(0.7)
        gg = jax.grad(jax.grad(cj.sin_vjp))
        np.testing.assert_allclose(gg(x), -np.sin(0.7), rtol=1e-12)
        _scale(monkeypatch, "sin_backward_cotangents", 3.0)
        np.testing.assert_allclose(gg(x), -3.0 * np.sin(0.7), rtol=1e-12)


def test_jax_sin_derivative_is_a_custom_jvp_call() -> None:
    with jax.enable_x64(True):
        jaxpr = str(jax.make_jaxpr(jax.grad(cj.sin))(jnp.asarray(0.5)))
    assert "custom_jvp_call" in jaxpr and "name=sin_derivative" in jaxpr


# --------------------------------------------------------------------------
# solve: one factorisation; singular A
# --------------------------------------------------------------------------


def _solve_args(case: str = "vector_b") -> tuple[np.ndarray, np.ndarray]:
    return OPS_BY_NAME["solve"].example(case)  # type: ignore[return-value]


@pytest.mark.parametrize("case", ["vector_b", "matrix_b"])
def test_torch_solve_factorises_once(case: str) -> None:
    A0, b0 = (torch.from_numpy(a) for a in _solve_args(case))
    from torch.func import jacfwd, jvp

    runs = {
        "forward+backward": lambda A, b: torch.autograd.grad(ct.solve(A, b).sum(), (A, b)),
        "double backward": lambda A, b: torch.autograd.grad(
            sum(g.sum() for g in torch.autograd.grad(ct.solve(A, b).sum(), (A, b), create_graph=True)), (A, b)
        ),
        "jvp": lambda A, b: jvp(ct.solve, (A.detach(), b.detach()), (A.detach(), b.detach())),
        "jacfwd": lambda A, b: jacfwd(ct.solve, (0, 1))(A.detach(), b.detach()),
    }
    for name, run in runs.items():
        A, b = A0.clone().requires_grad_(), b0.clone().requires_grad_()
        with _AtenRecorder() as rec:
            run(A, b)
        factorisations = [o for o in rec.ops if o.startswith("linalg_lu") and o != "linalg_lu_solve"]
        assert factorisations == ["linalg_lu_factor_ex"], (name, rec.ops)
        assert not {"linalg_inv", "linalg_inv_ex", "linalg_solve", "linalg_solve_ex"} & set(rec.ops), (name, rec.ops)


@pytest.mark.parametrize("vjp", [False, True])
def test_jax_solve_factorises_once(vjp: bool) -> None:
    f = cj.solve_vjp if vjp else cj.solve
    A, b = (jnp.asarray(a) for a in _solve_args())
    with jax.enable_x64(True):
        runs = {"value_and_grad": jax.value_and_grad(lambda A, b: f(A, b).sum(), (0, 1))}
        if not vjp:
            runs["jvp"] = lambda A, b: jax.jvp(f, (A, b), (A, b))
        for name, run in runs.items():
            jaxpr = str(jax.make_jaxpr(run)(A, b))
            assert len(re.findall(r"= lu ", jaxpr)) == 1, (name, jaxpr)
            assert "inv" not in re.findall(r"= (\w+)", jaxpr), name


def test_torch_solve_singular_raises() -> None:
    A, b = torch.tensor([[1.0, 2.0], [2.0, 4.0]], dtype=F64), torch.ones(2, dtype=F64)
    with pytest.raises(ct.SingularMatrixError, match=r"solve: A must be non-singular; .*exactly zero pivot") as info:
        ct.solve(A, b)
    assert "U[2,2] is zero" in str(info.value.__cause__)  # torch's own error, chained, not parsed
    assert issubclass(ct.SingularMatrixError, ValueError)
    assert issubclass(ct.SingularMatrixError, torch.linalg.LinAlgError)
    batch = torch.stack([torch.eye(2, dtype=F64), A])
    with pytest.raises(ct.SingularMatrixError, match=r"exactly zero pivot") as info:
        torch.func.vmap(ct.solve, in_dims=(0, None))(batch, b)
    assert "Batch element 1): U[2,2] is zero" in str(info.value.__cause__)


def test_jax_solve_singular_gives_non_finite() -> None:
    """Documented: JAX cannot raise under jit; a singular A gives inf/nan in x and its derivatives."""
    A, b = jnp.asarray([[1.0, 2.0], [2.0, 4.0]]), jnp.ones(2)
    with jax.enable_x64(True):
        for f in (cj.solve, cj.solve_vjp):
            for g in (f, jax.jit(f)):
                assert not bool(jnp.isfinite(g(A, b)).all())
            grads = jax.grad(lambda A, b: f(A, b).sum(), (0, 1))(A, b)
            assert not all(bool(jnp.isfinite(t).all()) for t in grads)


# --------------------------------------------------------------------------
# Details of the adapters
# --------------------------------------------------------------------------


def test_sin_mul_broadcast_cotangents_have_input_shapes() -> None:
    x = torch.randn(3, 1, dtype=F64, requires_grad=True)
    y = torch.randn(4, dtype=F64, requires_grad=True)
    ct.sin_mul(x, y).sum().backward()
    assert x.grad.shape == (3, 1) and y.grad.shape == (4,)
    torch.testing.assert_close(x.grad, (y * torch.cos(x)).sum(1, keepdim=True))
    torch.testing.assert_close(y.grad, torch.sin(x).expand(3, 4).sum(0))


def test_jax_custom_vjp_has_no_forward_mode() -> None:
    with pytest.raises(TypeError, match="custom_vjp"):
        jax.jvp(cj.sin_vjp, (jnp.asarray(0.5),), (jnp.asarray(1.0),))


def test_validation_names_argument_for_python_lists_in_jax() -> None:
    with pytest.raises(TypeError, match=r"matvec: A must have a real floating dtype .*; got dtype int32"):
        cj.matvec([[1, 2]], [1.0, 2.0])
