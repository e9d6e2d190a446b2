"""Hard cases of cg_solve: peers (lineax), non-convergence in both frameworks,
closures, the symmetric reading of a matrix, and inputs it must reject."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import jax
import jax.numpy as jnp

import companion.jax as cj
import companion.torch as ct
from companion.ops.linear_solvers.entries import example_matvec

PEERS = "the peers extra is not installed: pip install -e '.[peers]' (make test installs it)"


def _problem(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    G = rng.standard_normal((n, n))
    return G @ G.T / n + np.eye(n), 0.5 * rng.standard_normal(n), rng.standard_normal(n)


def test_lineax_gradients_agree() -> None:
    """lineax's CG (a matrix operator tagged symmetric and positive semidefinite, and a
    function operator) against companion.jax.cg_solve and companion.torch.cg_solve:
    values and gradients of a scalar loss, to 1e-8."""
    lx = pytest.importorskip("lineax", reason=PEERS)
    A, theta, b = _problem()
    with jax.enable_x64(True):
        solver = lx.CG(rtol=1e-13, atol=1e-13, max_steps=500)
        tags = (lx.symmetric_tag, lx.positive_semidefinite_tag)

        def peer_matrix(A: jax.Array, b: jax.Array) -> jax.Array:
            op = lx.MatrixLinearOperator((A + A.T) / 2, tags)
            return jnp.sum(jnp.sin(lx.linear_solve(op, b, solver).value))

        def peer_function(theta: jax.Array, b: jax.Array) -> jax.Array:
            op = lx.FunctionLinearOperator(lambda v: example_matvec(v, theta, jnp),
                                           jax.ShapeDtypeStruct(b.shape, b.dtype), tags)
            return jnp.sum(jnp.sin(lx.linear_solve(op, b, solver).value))

        ours_matrix = lambda f: lambda A, b: jnp.sum(jnp.sin(f(A, b, tol=1e-13)))  # noqa: E731
        ours_function = lambda f: lambda theta, b: jnp.sum(  # noqa: E731
            jnp.sin(f(lambda v, t: example_matvec(v, t, jnp), b, theta, tol=1e-13)))
        Aj, tj, bj = map(jnp.asarray, (A, theta, b))
        want_m = jax.grad(peer_matrix, (0, 1))(Aj, bj)
        want_f = jax.grad(peer_function, (0, 1))(tj, bj)
        for f in (cj.cg_solve, cj.cg_solve_vjp):
            for g, w in zip(jax.grad(ours_matrix(f), (0, 1))(Aj, bj), want_m):
                np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)
            for g, w in zip(jax.grad(ours_function(f), (0, 1))(tj, bj), want_f):
                np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10)
    At, tt, bt = (torch.tensor(a, requires_grad=True) for a in (A, theta, b))
    loss = torch.sin(ct.cg_solve(At, bt, tol=1e-13)).sum()
    for g, w in zip(torch.autograd.grad(loss, (At, bt)), want_m):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-8, atol=1e-10)
    loss = torch.sin(ct.cg_solve(lambda v, t: example_matvec(v, t, torch), bt, tt, tol=1e-13)).sum()
    for g, w in zip(torch.autograd.grad(loss, (tt, bt)), want_f):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-8, atol=1e-10)


def test_torch_non_convergence_names_residual_tol_and_max_iter() -> None:
    A, _, b = _problem(8)
    with pytest.raises(ct.CGNotConvergedError, match=r"max_iter = 3 steps: the relative residual .* reached "
                       r"\d\.\d{3}e[-+]\d\d, above tol = 1\.000e-12"):
        ct.cg_solve(torch.tensor(A), torch.tensor(b), tol=1e-12, max_iter=3)


def test_torch_not_positive_definite() -> None:
    with pytest.raises(ct.CGNotConvergedError, match=r"not positive definite: pᵀ A p = .* ≤ 0"):
        ct.cg_solve(-torch.eye(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))


def test_torch_vmap_marks_unconverged_systems_with_nan() -> None:
    A, _, b = _problem(8)
    As = torch.stack([torch.tensor(A), torch.eye(8, dtype=torch.float64)])
    x = torch.func.vmap(lambda A, b: ct.cg_solve(A, b, max_iter=2))(As, torch.tensor(b).expand(2, 8))
    assert torch.isnan(x[0]).all() and torch.allclose(x[1], torch.tensor(b))


def test_jax_non_convergence_is_nan_under_jit() -> None:
    A, _, b = _problem(8)
    with jax.enable_x64(True):
        solve = jax.jit(lambda A, b: cj.cg_solve(A, b, tol=1e-12, max_iter=3))
        assert bool(jnp.isnan(solve(A, b)).all())
        assert bool(jnp.isnan(jax.grad(lambda b: solve(A, b).sum())(jnp.asarray(b))).all())
        assert bool(jnp.isfinite(jax.jit(lambda A, b: cj.cg_solve(A, b, tol=1e-12))(A, b)).all())


def test_closures_get_gradients_in_jax_but_not_in_torch() -> None:
    """JAX closure-converts matvec; PyTorch's Function sees only explicit params."""
    _, _, b = _problem(4)
    with jax.enable_x64(True):
        g = jax.grad(lambda c: cj.cg_solve(lambda v: c * v, jnp.asarray(b)).sum())(2.0)
        np.testing.assert_allclose(g, -b.sum() / 4, rtol=1e-10)
    c = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    x = ct.cg_solve(lambda v: c * v, torch.tensor(b))
    assert not x.requires_grad  # the closure is invisible to autograd
    x = ct.cg_solve(lambda v, c: c * v, torch.tensor(b), c)
    (g,) = torch.autograd.grad(x.sum(), c)
    np.testing.assert_allclose(g.item(), -b.sum() / 4, rtol=1e-10)


def test_matrix_is_read_through_its_symmetric_part() -> None:
    A, _, b = _problem(5)
    N = np.triu(np.ones((5, 5)), 1)  # antisymmetric part added: same solution
    x = ct.cg_solve(torch.tensor(A + N - N.T), torch.tensor(b), tol=1e-13)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(A, b), rtol=1e-10)
    At = torch.tensor(A + N - N.T, requires_grad=True)
    (A_bar,) = torch.autograd.grad(ct.cg_solve(At, torch.tensor(b)).sum(), At)
    torch.testing.assert_close(A_bar, A_bar.mT)


@pytest.mark.parametrize("A", ["matrix", 3.0, None])
def test_non_callable_non_array_A(A: object) -> None:
    for f in (ct.cg_solve, cj.cg_solve, cj.cg_solve_vjp):
        b = torch.ones(2, dtype=torch.float64) if f is ct.cg_solve else jnp.ones(2)
        if f is not ct.cg_solve and isinstance(A, float):
            continue  # JAX reads a number as a 0-d array: rejected as not square
        with pytest.raises(TypeError, match=r"cg_solve: A must be .*; got (str|float|NoneType) \(or a function"):
            f(A, b)


def test_options_rejected() -> None:
    A = torch.eye(2, dtype=torch.float64)
    with pytest.raises(ValueError, match="tol must be a positive number"):
        ct.cg_solve(A, torch.ones(2, dtype=torch.float64), tol=-1.0)
    with pytest.raises(ValueError, match="max_iter must be a positive int"):
        cj.cg_solve(jnp.eye(2), jnp.ones(2), max_iter=0)
    with pytest.raises(TypeError, match="params are for a matrix-free A"):
        ct.cg_solve(A, torch.ones(2, dtype=torch.float64), A)
