"""Hard cases of ``fixed_point``: peers as oracles, non-convergence, closures, pytrees, vmap.

The registry batteries (tests/test_companion.py) run the op on its example;
these tests probe what they do not: gradients against two independent
implicit-differentiation libraries (jaxopt and optimistix, the ``peers``
extra), what happens when the iteration does not converge, what a closure
gets, and the benchmark's quick path.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import companion.jax as cj
import companion.torch as ct

jax = pytest.importorskip("jax")
jnp = jax.numpy

ROOT = Path(__file__).resolve().parents[1]
PEERS = "the peers extra is not installed: pip install -e '.[peers]' (make test installs it)"
F64 = torch.float64


def _problem(n: int = 5, norm: float = 0.6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A DEQ-like layer x ↦ tanh(W x + U z + b), ‖W‖₂ = norm, and a cotangent."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, n))
    W *= norm / np.linalg.norm(W, 2)
    U, b, w = rng.standard_normal((n, n)) / np.sqrt(n), rng.standard_normal(n), rng.standard_normal(n)
    return W, U @ rng.standard_normal(n), b, w


def _layer_jax(x, W, c, b):  # type: ignore[no-untyped-def]
    return jnp.tanh(W @ x + c + b)


def _companion_grads_jax(W, c, b, w, vjp):  # type: ignore[no-untyped-def]
    solve = cj.fixed_point_vjp if vjp else cj.fixed_point
    loss = lambda W, c, b: jnp.dot(w, solve(_layer_jax, jnp.zeros_like(b), W, c, b))  # noqa: E731
    return jax.grad(loss, (0, 1, 2))(W, c, b)


def _companion_grads_torch(W, c, b, w):  # type: ignore[no-untyped-def]
    args = [torch.tensor(a, requires_grad=True) for a in (W, c, b)]
    x = ct.fixed_point(lambda x, W, c, b: torch.tanh(W @ x + c + b), torch.zeros(len(b), dtype=F64), *args)
    (x * torch.tensor(w)).sum().backward()
    return tuple(a.grad.numpy() for a in args)


# Agreement tolerance with the peers: both stop their iterations near 1e-12;
# the gradients then agree to about 1e-10 relative.
PEER_RTOL, PEER_ATOL = 1e-8, 1e-10


def test_gradients_match_jaxopt() -> None:
    jaxopt = pytest.importorskip("jaxopt", reason=PEERS)
    with jax.enable_x64(True):
        W, c, b, w = (jnp.asarray(a) for a in _problem())
        solver = jaxopt.FixedPointIteration(fixed_point_fun=_layer_jax, tol=1e-13, maxiter=2000, implicit_diff=True)

        def loss(W, c, b):  # type: ignore[no-untyped-def]
            return jnp.dot(w, solver.run(jnp.zeros_like(b), W, c, b).params)

        want = jax.grad(loss, (0, 1, 2))(W, c, b)
        for got in (_companion_grads_jax(W, c, b, w, False), _companion_grads_jax(W, c, b, w, True),
                    _companion_grads_torch(*map(np.asarray, (W, c, b, w)))):
            for g, h in zip(got, want):
                np.testing.assert_allclose(np.asarray(g), np.asarray(h), rtol=PEER_RTOL, atol=PEER_ATOL)


def test_gradients_match_optimistix() -> None:
    optx = pytest.importorskip("optimistix", reason=PEERS)
    with jax.enable_x64(True):
        W, c, b, w = (jnp.asarray(a) for a in _problem(seed=1))
        solver = optx.FixedPointIteration(rtol=1e-13, atol=1e-13)

        def loss(W, c, b):  # type: ignore[no-untyped-def]
            sol = optx.fixed_point(lambda x, a: _layer_jax(x, *a), solver, jnp.zeros_like(b), (W, c, b), max_steps=2000)
            return jnp.dot(w, sol.value)

        want = jax.grad(loss, (0, 1, 2))(W, c, b)
        for got in (_companion_grads_jax(W, c, b, w, False), _companion_grads_jax(W, c, b, w, True),
                    _companion_grads_torch(*map(np.asarray, (W, c, b, w)))):
            for g, h in zip(got, want):
                np.testing.assert_allclose(np.asarray(g), np.asarray(h), rtol=PEER_RTOL, atol=PEER_ATOL)


def test_jvp_matches_jaxopt_jacobian() -> None:
    """Forward mode: companion's JVP rules (JAX and PyTorch) against jaxopt's implicit Jacobian.

    jaxopt differentiates by a custom_vjp (reverse mode only), so its Jacobian is taken
    with jacrev and applied to the tangent.
    """
    jaxopt = pytest.importorskip("jaxopt", reason=PEERS)
    with jax.enable_x64(True):
        W, c, b, _ = (jnp.asarray(a) for a in _problem(seed=2))
        solver = jaxopt.FixedPointIteration(fixed_point_fun=_layer_jax, tol=1e-13, maxiter=2000)
        dW = jnp.ones_like(W)
        ours = jax.jvp(lambda W: cj.fixed_point(_layer_jax, jnp.zeros_like(b), W, c, b), (W,), (dW,))[1]
        jac = jax.jacrev(lambda W: solver.run(jnp.zeros_like(b), W, c, b).params)(W)
        theirs = jnp.tensordot(jac, dW, axes=2)
        np.testing.assert_allclose(ours, theirs, rtol=PEER_RTOL, atol=PEER_ATOL)
        Wt, ct_, bt = (torch.tensor(np.asarray(a)) for a in (W, c, b))
        _, ours_torch = torch.func.jvp(
            lambda W: ct.fixed_point(lambda x, W, c, b: torch.tanh(W @ x + c + b), torch.zeros(5, dtype=F64), W, ct_, bt),
            (Wt,), (torch.ones_like(Wt),),
        )
        np.testing.assert_allclose(ours_torch.numpy(), theirs, rtol=PEER_RTOL, atol=PEER_ATOL)


# --------------------------------------------------------------------------
# non-convergence
# --------------------------------------------------------------------------


def test_torch_non_convergence_names_residual_tol_and_max_iter() -> None:
    W, c, b, _ = _problem(norm=3.0)
    with pytest.raises(ct.FixedPointError, match=r"fixed_point: no convergence .* max_iter=7 .* reached \d\.\de[-+]\d\d > tol=1e-10"):
        ct.fixed_point(lambda x, W: W @ x + 1, torch.zeros(5, dtype=F64), torch.tensor(W), max_iter=7, tol=1e-10)
    assert issubclass(ct.FixedPointError, RuntimeError)


def test_torch_non_convergence_of_the_adjoint_raises_too() -> None:
    """A fixed point that converges only because x0 is already on it: the adjoint (same Jacobian) diverges."""
    W = torch.tensor([[2.0]], dtype=F64, requires_grad=True)  # x = 2 x has the fixed point 0, repelling
    x = ct.fixed_point(lambda x, W: W @ x, torch.zeros(1, dtype=F64), W, max_iter=50)
    with pytest.raises(ct.FixedPointError, match="max_iter=50"):
        x.sum().backward()


@pytest.mark.parametrize("vjp", [False, True])
def test_jax_non_convergence_is_nan_under_jit(vjp: bool) -> None:
    solve = cj.fixed_point_vjp if vjp else cj.fixed_point
    with jax.enable_x64(True):
        W = 3.0 * jnp.eye(3)
        f = lambda x, W: W @ x + 1.0  # noqa: E731
        value = jax.jit(lambda W: solve(f, jnp.zeros(3), W, max_iter=20))(W)
        grad = jax.jit(jax.grad(lambda W: solve(f, jnp.zeros(3), W, max_iter=20).sum()))(W)
        assert bool(jnp.isnan(value).all()) and bool(jnp.isnan(grad).all())
        # the same map with a contraction converges: the NaN is the verdict, not an accident
        assert bool(jnp.isfinite(jax.jit(lambda W: solve(f, jnp.zeros(3), W))(W / 6)).all())


def test_jax_nan_only_in_the_batch_elements_that_do_not_converge() -> None:
    with jax.enable_x64(True):
        a = jnp.asarray([0.5, 3.0, 0.25])
        x = jax.vmap(lambda a: cj.fixed_point(lambda x, a: a * x + 1.0, jnp.zeros(1), a, max_iter=100))(a)
        np.testing.assert_allclose(x[:, 0], [2.0, np.nan, 4 / 3], rtol=1e-12)


# --------------------------------------------------------------------------
# closures, pytrees, vmap
# --------------------------------------------------------------------------


def test_torch_closure_tensor_gets_no_gradient() -> None:
    W, c, b, w = _problem()
    Wt, ct_ = torch.tensor(W), torch.tensor(c, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    x = ct.fixed_point(lambda x, b: torch.tanh(Wt @ x + ct_ + b), torch.zeros(5, dtype=F64), bt)
    (x * torch.tensor(w)).sum().backward()
    assert ct_.grad is None  # read from the closure: a constant to the autograd.Function
    _, c_grad, b_grad = _companion_grads_torch(W, c, b, w)
    np.testing.assert_allclose(bt.grad.numpy(), b_grad, rtol=1e-10)
    np.testing.assert_allclose(c_grad, b_grad, rtol=1e-10)  # c and b enter alike: what c should have got


@pytest.mark.parametrize("vjp", [False, True])
def test_jax_closure_over_traced_value_is_differentiated(vjp: bool) -> None:
    solve = cj.fixed_point_vjp if vjp else cj.fixed_point
    with jax.enable_x64(True):
        W, c, b, w = (jnp.asarray(a) for a in _problem())

        def by_closure(c):  # type: ignore[no-untyped-def]
            return jnp.dot(w, solve(lambda x, W, b: jnp.tanh(W @ x + c + b), jnp.zeros(5), W, b))

        def explicit(c):  # type: ignore[no-untyped-def]
            return jnp.dot(w, solve(_layer_jax, jnp.zeros(5), W, c, b))

        np.testing.assert_allclose(jax.jit(jax.grad(by_closure))(c), jax.grad(explicit)(c), rtol=1e-10)


@pytest.mark.parametrize("vjp", [False, True])
def test_jax_pytree_params(vjp: bool) -> None:
    solve = cj.fixed_point_vjp if vjp else cj.fixed_point
    with jax.enable_x64(True):
        W, c, b, w = (jnp.asarray(a) for a in _problem())
        params = {"W": W, "shift": (c, b)}
        f = lambda x, p: jnp.tanh(p["W"] @ x + p["shift"][0] + p["shift"][1])  # noqa: E731
        g = jax.grad(lambda p: jnp.dot(w, solve(f, jnp.zeros(5), p)))(params)
        want = _companion_grads_jax(W, c, b, w, vjp)
        np.testing.assert_allclose(g["W"], want[0], rtol=1e-10)
        np.testing.assert_allclose(g["shift"][1], want[2], rtol=1e-10)


def test_torch_vmap_over_problems_of_different_contraction() -> None:
    scales = torch.tensor([0.1, 0.5, 0.9], dtype=F64)
    f = lambda x, a: a * torch.tanh(x) + 1.0  # noqa: E731

    def solve(a):  # type: ignore[no-untyped-def]
        return ct.fixed_point(f, torch.zeros(2, dtype=F64), a * torch.ones(2, dtype=F64))

    batched = torch.func.vmap(solve)(scales)
    one_by_one = torch.stack([solve(a) for a in scales])
    torch.testing.assert_close(batched, one_by_one, rtol=1e-12, atol=1e-12)
    grads = torch.func.vmap(torch.func.grad(lambda a: solve(a).sum()))(scales)
    want = torch.stack([torch.func.grad(lambda a: solve(a).sum())(a) for a in scales])
    torch.testing.assert_close(grads, want, rtol=1e-10, atol=1e-12)


def test_torch_vmap_stops_with_the_slowest_element_and_raises_for_the_batch() -> None:
    """The batched stopping test reads the residuals under the torch.func wrappers (private
    functorch functions): it stops with the slowest element, not after max_iter, and one
    element that does not converge raises for the whole batch. Fails if a PyTorch upgrade
    silently sends the iteration to its fallback (all max_iter steps, no error)."""
    calls: list[int] = []

    def f(x, a):  # type: ignore[no-untyped-def]
        calls.append(1)
        return a * x + 1.0

    def solve(a):  # type: ignore[no-untyped-def]
        return ct.fixed_point(f, torch.zeros(2, dtype=F64), a * torch.ones(2, dtype=F64), max_iter=500)

    steps = []
    for a in (0.1, 0.9):
        calls.clear()
        solve(torch.tensor(a, dtype=F64))
        steps.append(len(calls))
    calls.clear()
    torch.func.vmap(solve)(torch.tensor([0.1, 0.9], dtype=F64))
    assert len(calls) == max(steps) < 500
    with pytest.raises(ct.FixedPointError, match="max_iter=500"):
        torch.func.vmap(solve)(torch.tensor([0.5, 3.0], dtype=F64))


def test_backward_stores_no_iterates() -> None:
    """The bytes saved for backward do not grow with the number of forward iterations."""

    def saved_bytes(norm: float) -> tuple[int, int]:
        W, c, b, _ = _problem(n=64, norm=norm)
        sizes: dict[int, int] = {}

        def pack(t: torch.Tensor) -> torch.Tensor:
            sizes[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
            return t

        iterations = []
        f = lambda x, W, b: torch.tanh(W @ x + b)  # noqa: E731
        counted = lambda x, W, b: (iterations.append(1), f(x, W, b))[1]  # noqa: E731
        Wt, bt = torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            ct.fixed_point(counted, torch.zeros(64, dtype=F64), Wt, bt)
        return sum(sizes.values()), len(iterations)

    (small, k_small), (large, k_large) = saved_bytes(0.1), saved_bytes(0.9)
    assert k_large > 2 * k_small
    assert small == large == 8 * (64 + 64 * 64 + 64)  # x*, W, b


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="fixed_point: tol must be a positive number; got -1"):
        ct.fixed_point(lambda x: x, torch.zeros(1, dtype=F64), tol=-1)
    with pytest.raises(ValueError, match="fixed_point: max_iter must be a positive int; got 0"):
        cj.fixed_point(lambda x: x, jnp.zeros(1), max_iter=0)
    with pytest.raises(TypeError, match="fixed_point: f must be a callable"):
        ct.fixed_point(None, torch.zeros(1, dtype=F64))


def test_benchmark_quick_path_runs() -> None:
    """``python -m benchmarks.fixed_point --quick`` (K = 50, PyTorch): a few seconds on an idle machine."""
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.fixed_point", "--quick"], cwd=ROOT, capture_output=True, text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "implicit" in out.stdout and "unrolled" in out.stdout
