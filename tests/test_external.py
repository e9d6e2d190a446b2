"""Tests of the external family: code the frameworks cannot see (``bessel_j0``).

PyTorch: ``companion::bessel_jn`` is a ``torch.library.custom_op``; ``opcheck``
passes, ``torch.compile(fullgraph=True)`` traces it without a graph break (the
book's own ``SinMul``, whose ``jvp`` Dynamo cannot trace, breaks), and what it
does not support (forward mode, ``torch.func.grad``) is pinned here so that the
registry's opt-outs are revisited when PyTorch changes. JAX: the callback's
``vmap_method`` calls SciPy once per batch; without the custom rule, ``grad``
raises. The registry's ``not_applicable`` opt-out is honoured by ``verify``.
"""

from __future__ import annotations

import dataclasses
import re
import unittest
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from companion import verify
from companion.registry import OPS_BY_NAME

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
pytest.importorskip("scipy")
import jax.numpy as jnp  # noqa: E402
import scipy.special  # noqa: E402
import torch._dynamo  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402
from companion.ops.external import rules as external_rules  # noqa: E402

F64 = torch.float64
OP = OPS_BY_NAME["bessel_j0"]


def _x(requires_grad: bool = False) -> torch.Tensor:
    x = torch.tensor([-2.5, -0.3, 0.0, 0.7, 4.0], dtype=F64)
    return x.requires_grad_(requires_grad)


# --------------------------------------------------------------------------
# PyTorch: the custom operator
# --------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, -1, 3])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_opcheck_passes(n: int, requires_grad: bool) -> None:
    result = torch.library.opcheck(torch.ops.companion.bessel_jn, (_x(requires_grad), n))
    assert set(result.values()) == {"SUCCESS"}, result
    assert set(result) == {"test_schema", "test_autograd_registration", "test_faketensor",
                           "test_aot_dispatch_dynamic"}


def test_values_and_gradient_are_scipys() -> None:
    x = _x(True)
    y = ct.bessel_j0(x)
    (x_bar,) = torch.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(y.detach().numpy(), scipy.special.j0(x.detach().numpy()), rtol=1e-14)
    np.testing.assert_allclose(x_bar.numpy(), -scipy.special.j1(x.detach().numpy()), rtol=1e-14)


def test_backward_of_any_order_is_the_recurrence() -> None:
    """Third derivative of J_0 by three reverse passes: −J_1''' ... = (3 J_1 − J_3) / 4."""
    x = _x(True)
    (g,) = torch.autograd.grad(ct.bessel_j0(x).sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x, create_graph=True)
    (t,) = torch.autograd.grad(h.sum(), x)
    xn = x.detach().numpy()
    np.testing.assert_allclose(t.numpy(), (3 * scipy.special.j1(xn) - scipy.special.jv(3, xn)) / 4,
                               rtol=1e-12, atol=1e-15)


def _explain(f: object, *args: object) -> object:
    """``torch._dynamo.explain`` after one eager run (forward and backward)."""
    torch.autograd.grad(f(*args), args)
    torch._dynamo.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch._dynamo.explain(f)(*args)


def test_compile_fullgraph_has_no_graph_break() -> None:
    def f(x: torch.Tensor) -> torch.Tensor:
        return torch.cos(ct.bessel_j0(x)).sum()

    explanation = _explain(f, _x(True))
    assert (explanation.graph_count, explanation.graph_break_count) == (1, 0)
    torch._dynamo.reset()
    compiled = torch.compile(f, fullgraph=True)
    x, x_eager = _x(True), _x(True)
    out = compiled(x)
    out.backward()
    f(x_eager).backward()
    torch.testing.assert_close(out, f(_x()))
    torch.testing.assert_close(x.grad, x_eager.grad)


def test_book_function_with_jvp_breaks_the_graph() -> None:
    """The contrast: the book's SinMul defines ``jvp``, which Dynamo does not trace."""

    def f(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.cos(ct.SinMul.apply(x, y)).sum()

    args = (_x(True), _x(True))
    explanation = _explain(f, *args)
    assert (explanation.graph_count, explanation.graph_break_count) == (2, 1)
    torch._dynamo.reset()
    with pytest.raises(torch._dynamo.exc.Unsupported, match="custom `jvp`"):
        torch.compile(f, fullgraph=True)(*args)
    torch._dynamo.reset()


def _count_scipy_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, ...]]:
    """Record the shape of every array handed to SciPy by either framework."""
    shapes: list[tuple[int, ...]] = []
    original = external_rules.bessel_jn_numpy

    def counting(x: np.ndarray, n: int) -> np.ndarray:
        shapes.append(np.shape(x))
        return original(x, n)

    monkeypatch.setattr(external_rules, "bessel_jn_numpy", counting)
    return shapes


def test_torch_vmap_calls_scipy_once_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``register_vmap``: one kernel call for the batch (the fallback would loop)."""
    shapes = _count_scipy_calls(monkeypatch)
    xs = torch.stack([_x(), 2 * _x(), -_x()])
    got = torch.func.vmap(ct.bessel_j0)(xs)
    assert shapes == [(3, 5)]
    shapes.clear()
    got_t = torch.func.vmap(ct.bessel_j0, in_dims=1)(xs)
    assert shapes == [(3, 5)] and got_t.shape == (5, 3)
    want = torch.from_numpy(scipy.special.j0(xs.numpy()))
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_t, want.T)


def test_forward_mode_is_not_supported_and_silent() -> None:
    """What the registry's opt-outs say: forward mode gives a zero tangent, torch.func.grad raises.

    If a PyTorch release fixes either, this test fails: then drop the opt-out.
    """
    x = _x()
    _, tangent = torch.func.jvp(ct.bessel_j0, (x,), (torch.ones_like(x),))
    assert torch.count_nonzero(tangent) == 0
    with pytest.raises(RuntimeError, match="must override the setup_context staticmethod"):
        torch.func.grad(lambda x: ct.bessel_j0(x).sum())(x)
    assert set(OP.not_applicable) == {"forward AD", "torch.func"}


def test_custom_op_without_autograd_raises_in_backward() -> None:
    @torch.library.custom_op("companion_test::bare_j0", mutates_args=())
    def bare_j0(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(scipy.special.j0(x.detach().numpy()))

    x = _x(True)
    with pytest.raises(RuntimeError, match="no autograd formula was registered"):
        bare_j0(x).sum().backward()


# --------------------------------------------------------------------------
# JAX: the callback
# --------------------------------------------------------------------------


def test_vmap_calls_scipy_once_per_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes = _count_scipy_calls(monkeypatch)
    with jax.enable_x64(True):
        xs = jnp.asarray(np.linspace(-3.0, 3.0, 12).reshape(4, 3))
        got = jax.vmap(cj.bessel_j0)(xs)
        assert shapes == [(4, 3)]  # one call for the whole batch, not four
        shapes.clear()
        jax.vmap(jax.grad(cj.bessel_j0))(xs[:, 0]).block_until_ready()
        assert shapes == [(4,)] * 3  # J_0, J_{-1} and J_1, each once for the batch
    np.testing.assert_allclose(np.asarray(got), scipy.special.j0(np.asarray(xs)), rtol=1e-14)


def test_jit_vmap_grad_agree_with_scipy() -> None:
    with jax.enable_x64(True):
        xs = jnp.linspace(-5.0, 5.0, 7)
        for f in (cj.bessel_j0, cj.bessel_j0_vjp):
            g = jax.jit(jax.vmap(jax.grad(f)))(xs)
            np.testing.assert_allclose(np.asarray(g), -scipy.special.j1(np.asarray(xs)), rtol=1e-13)


def test_grad_through_a_bare_callback_raises() -> None:
    def bare(x: jax.Array) -> jax.Array:
        return jax.pure_callback(scipy.special.j0, jax.ShapeDtypeStruct(x.shape, x.dtype), x,
                                 vmap_method="expand_dims")

    with pytest.raises(ValueError, match="Pure callbacks do not support JVP"):
        jax.grad(bare)(1.0)


def test_custom_vjp_reverse_over_reverse() -> None:
    """``bessel_jn_fwd`` returns the op's own output, so grad of grad works (J_0'' = (J_2 − J_0)/2)."""
    with jax.enable_x64(True):
        x = 1.3
        got = jax.grad(jax.grad(cj.bessel_j0_vjp))(x)
        np.testing.assert_allclose(got, (scipy.special.jv(2, x) - scipy.special.j0(x)) / 2, rtol=1e-13)


# --------------------------------------------------------------------------
# The registry's opt-out
# --------------------------------------------------------------------------


def test_not_applicable_names_real_batteries() -> None:
    names = {c.name for c in verify.CHECKS}
    for op in OPS_BY_NAME.values():
        assert set(op.not_applicable) <= names, op.name
        assert all(reason.strip() for reason in op.not_applicable.values())


def test_opt_out_is_a_skip_and_an_na_row_never_a_pass() -> None:
    check = next(c for c in verify.CHECKS if c.name == "forward AD")
    with pytest.raises(unittest.SkipTest, match="^n/a: torch.library.custom_op"):
        check.run(OP)
    (row,) = verify.run((OP,), (check,))
    assert not row.applicable and row.detail.startswith("n/a: ")
    assert re.search(r"^bessel_j0 +forward AD +n/a ", verify.format_row(row))


def test_opt_out_is_needed() -> None:
    """Without the opt-out the forward-AD battery fails on this op: the opt-out hides no pass."""
    check = next(c for c in verify.CHECKS if c.name == "forward AD")
    (row,) = verify.run((dataclasses.replace(OP, not_applicable={}),), (check,))
    assert row.applicable and not row.ok


def test_cli_counts_na_rows_apart(capsys: pytest.CaptureFixture[str]) -> None:
    from companion.__main__ import main

    assert main(["verify", "--op", "bessel_j0", "--check", "forward AD", "--check", "symbolic"]) == 0
    out = capsys.readouterr().out
    assert "1 of 1 checks passed" in out and "1 not applicable" in out


def test_a_first_compile_in_a_fresh_process_needs_no_warm_up() -> None:
    """Nothing in the companion's namespaces changes state on first use, so the very first
    ``torch.compile(fullgraph=True)`` of a process compiles, forward and backward, a
    jvp-less ``SinMul`` and ``bessel_j0``."""
    code = textwrap.dedent(
        """
        import torch, companion.torch as ct

        class SinMulReverse(torch.autograd.Function):
            forward = ct.SinMul.forward
            setup_context = ct.SinMul.setup_context
            backward = ct.SinMul.backward

        x = torch.linspace(-1, 1, 4, dtype=torch.float64, requires_grad=True)
        y = torch.linspace(0, 1, 4, dtype=torch.float64, requires_grad=True)
        for f in (lambda x, y: torch.cos(SinMulReverse.apply(x, y)).sum(),
                  lambda x, y: torch.cos(ct.bessel_j0(x) * y).sum()):
            torch.compile(f, fullgraph=True)(x, y).backward()
        print("compiled")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0 and out.stdout.strip() == "compiled", out.stderr[-3000:]
