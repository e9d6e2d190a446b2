"""Hard cases of ``root`` beyond the registry batteries: closed forms, a peer oracle
(optimistix's Newton with its implicit adjoint), non-convergence and singular Jacobians
in both frameworks, closures, pytree parameters, and the derivative near a fold."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = jax.numpy

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402
from companion.ops.roots.entries import _system, example_F  # noqa: E402

PEERS = "the peers extra is not installed: pip install -e '.[peers]' (make test installs it)"


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def _t(a, grad=False):
    return torch.tensor(np.asarray(a), dtype=torch.float64, requires_grad=grad)


def _sqrt_F(x, c):
    return x * x - c


# --------------------------------------------------------------------------
# closed forms
# --------------------------------------------------------------------------


def test_closed_form_sqrt_both_frameworks():
    """x² = c: x = √c, dx/dc = 1/(2√c), d²x/dc² = −1/(4 c^{3/2}), to 1e-12."""
    c = np.array([0.5, 2.0, 9.0])
    want = np.sqrt(c)
    d1, d2 = 0.5 / np.sqrt(c), -0.25 * c**-1.5
    for fn in (cj.root, cj.root_vjp):
        f = lambda c: fn(_sqrt_F, jnp.ones(3), c)
        np.testing.assert_allclose(f(jnp.asarray(c)), want, rtol=1e-13)
        g = jax.grad(lambda c: f(c).sum())
        np.testing.assert_allclose(g(jnp.asarray(c)), d1, rtol=1e-12)
        h = jax.grad(lambda c: g(c).sum())
        np.testing.assert_allclose(h(jnp.asarray(c)), d2, rtol=1e-10)
    ct_c = _t(c, True)
    x = ct.root(_sqrt_F, _t(np.ones(3)), ct_c)
    (g,) = torch.autograd.grad(x.sum(), ct_c, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), ct_c)
    np.testing.assert_allclose(x.detach().numpy(), want, rtol=1e-13)
    np.testing.assert_allclose(g.detach().numpy(), d1, rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), d2, rtol=1e-10)


def test_x0_gets_zero_derivative():
    x0, A, b = _system(np.random.default_rng(3), 3)
    F = example_F(torch)
    x0_t = _t(x0, True)
    (g,) = torch.autograd.grad(ct.root(F, x0_t, _t(A), _t(b)).sum(), x0_t)
    assert torch.count_nonzero(g) == 0
    gj = jax.grad(lambda x0: cj.root(example_F(jnp), x0, A, b).sum())(jnp.asarray(x0))
    assert not np.any(np.asarray(gj))
    _, tangent = jax.jvp(lambda x0: cj.root(example_F(jnp), x0, A, b), (jnp.asarray(x0),), (jnp.ones(3),))
    assert not np.any(np.asarray(tangent))


# --------------------------------------------------------------------------
# peer oracle: optimistix
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_optimistix(seed):
    """Values and gradients in A and b agree with optimistix.root_find(Newton) and its
    ImplicitAdjoint to 1e-9 (its tolerance 1e-12 on the step)."""
    optx = pytest.importorskip("optimistix", reason=PEERS)
    x0, A, b = _system(np.random.default_rng(seed), 4)
    F = example_F(jnp)

    def peer(A, b):
        sol = optx.root_find(lambda x, args: F(x, *args), optx.Newton(rtol=1e-12, atol=1e-12), jnp.asarray(x0), (A, b))
        return sol.value

    w = jnp.cos(jnp.arange(4.0))
    loss = lambda f: (lambda A, b: jnp.sum(w * jnp.sin(f(A, b))))
    want_x = peer(jnp.asarray(A), jnp.asarray(b))
    want_g = jax.grad(loss(peer), (0, 1))(jnp.asarray(A), jnp.asarray(b))
    for fn in (cj.root, cj.root_vjp):
        ours = lambda A, b, fn=fn: fn(F, x0, A, b)
        np.testing.assert_allclose(ours(A, b), want_x, rtol=1e-9, atol=1e-12)
        for got, want in zip(jax.grad(loss(ours), (0, 1))(jnp.asarray(A), jnp.asarray(b)), want_g):
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    A_t, b_t = _t(A, True), _t(b, True)
    x_t = ct.root(example_F(torch), _t(x0), A_t, b_t)
    torch.sum(torch.tensor(np.asarray(w)) * torch.sin(x_t)).backward()
    np.testing.assert_allclose(x_t.detach().numpy(), want_x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(A_t.grad.numpy(), want_g[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b_t.grad.numpy(), want_g[1], rtol=1e-9, atol=1e-12)


def test_against_jax_custom_root():
    """jax.lax.custom_root with a Newton solve gives the same gradient."""
    x0, A, b = _system(np.random.default_rng(5), 3)
    F = example_F(jnp)

    def newton(f, x):
        for _ in range(30):
            x = x - jnp.linalg.solve(jax.jacfwd(f)(x), f(x))
        return x

    def theirs(A, b):
        return jax.lax.custom_root(lambda x: F(x, A, b), jnp.asarray(x0), newton, lambda g, y: jnp.linalg.solve(jax.jacfwd(g)(y), y))

    g_theirs = jax.grad(lambda A, b: theirs(A, b).sum(), (0, 1))(jnp.asarray(A), jnp.asarray(b))
    g_ours = jax.grad(lambda A, b: cj.root(F, x0, A, b).sum(), (0, 1))(jnp.asarray(A), jnp.asarray(b))
    for got, want in zip(g_ours, g_theirs):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-13)


# --------------------------------------------------------------------------
# failures: PyTorch raises, JAX returns NaN (eagerly and under jit)
# --------------------------------------------------------------------------


def test_torch_no_convergence_names_residual_tol_max_iter():
    with pytest.raises(ct.RootNotFoundError, match=r"root: Newton's method found no root \(max_iter reached\): "
                       r"residual ‖F\(x, θ\)‖∞ = .* at iterate 5, tol = 1\.0e-10, max_iter = 5"):
        ct.root(_sqrt_F, _t([1.0]), _t([-4.0]), tol=1e-10, max_iter=5)


def test_torch_singular_jacobian():
    # x² − c from x0 = 0: ∂F/∂x = 2 x = 0 at the first iterate
    with pytest.raises(ct.RootNotFoundError, match=r"the Jacobian ∂F/∂x is singular\): .* at iterate 0"):
        ct.root(_sqrt_F, _t([0.0]), _t([4.0]))


def test_torch_non_finite_residual():
    with pytest.raises(ct.RootNotFoundError, match=r"non-finite residual"):
        ct.root(_sqrt_F, _t([1.0]), _t([np.inf]))


def test_torch_singular_at_root_in_backward():
    """The rules' factorisation at the root names the op and the theorem (forward's
    iterates never land exactly on a singular root, so it is called directly)."""
    from companion.ops.roots.torch import _at_root

    with pytest.raises(ValueError, match=r"root: the Jacobian ∂F/∂x is singular at the root"):
        _at_root.lu_factor(torch.zeros(1, 1, dtype=torch.float64))


def test_double_root_gives_a_huge_gradient_not_an_error():
    """x² = 0: Newton converges linearly towards the double root and stops near it, where
    ∂F/∂x = 2x is small but not zero: the gradient 1/(2x) is huge."""
    c = _t([0.0], True)
    x = ct.root(_sqrt_F, _t([1.0]), c, max_iter=200)
    (g,) = torch.autograd.grad(x.sum(), c)
    assert 0 < x.item() < 1e-4 and g.item() == pytest.approx(0.5 / x.item(), rel=1e-12)


@pytest.mark.parametrize("fn", [cj.root, cj.root_vjp])
def test_jax_failures_give_nan(fn):
    cases = [((jnp.ones(1), jnp.array([-4.0])), {"max_iter": 5}),  # no real root
             ((jnp.zeros(1), jnp.array([4.0])), {}),                # singular ∂F/∂x at x0
             ((jnp.ones(1), jnp.array([jnp.inf])), {})]             # non-finite residual
    for args, kw in cases:
        eager = fn(_sqrt_F, *args, **kw)
        jitted = jax.jit(lambda *a: fn(_sqrt_F, *a, **kw))(*args)
        assert np.isnan(np.asarray(eager)).all() and np.isnan(np.asarray(jitted)).all()
        g = jax.grad(lambda c: fn(_sqrt_F, args[0], c, **kw).sum())(args[1])
        assert np.isnan(np.asarray(g)).all()


def test_jax_vmap_nan_only_where_it_fails():
    c = jnp.array([[4.0], [-4.0], [9.0]])
    x = jax.jit(jax.vmap(lambda c: cj.root(_sqrt_F, jnp.ones(1), c, max_iter=20)))(c)
    np.testing.assert_allclose(np.asarray(x)[[0, 2], 0], [2.0, 3.0], rtol=1e-14)
    assert np.isnan(np.asarray(x)[1, 0])


def test_torch_vmap_solves_each_example():
    c = _t([[4.0], [16.0], [9.0]])
    x = torch.func.vmap(lambda c: ct.root(_sqrt_F, _t([1.0]), c))(c)
    np.testing.assert_allclose(x.numpy()[:, 0], [2.0, 4.0, 3.0], rtol=1e-14)
    with pytest.raises(ct.RootNotFoundError):
        torch.func.vmap(lambda c: ct.root(_sqrt_F, _t([1.0]), c, max_iter=10))(_t([[4.0], [-4.0]]))


# --------------------------------------------------------------------------
# closures and pytrees
# --------------------------------------------------------------------------


def test_torch_closure_gets_no_gradient():
    c = _t([4.0], True)
    x = ct.root(lambda x: x * x - c, _t([1.0]))  # c captured, not passed
    assert not x.requires_grad
    c2 = _t([4.0], True)
    (g,) = torch.autograd.grad(ct.root(_sqrt_F, _t([1.0]), c2).sum(), c2)
    assert g.item() == pytest.approx(0.25)


def test_jax_closure_is_differentiated():
    def via_closure(c):
        return cj.root(lambda x: x * x - c, jnp.ones(1)).sum()

    for g in (jax.grad(via_closure), jax.jit(jax.grad(via_closure))):
        np.testing.assert_allclose(g(jnp.array([4.0])), [0.25], rtol=1e-13)
    g = jax.grad(lambda c: cj.root_vjp(lambda x: x * x - c, jnp.ones(1)).sum())
    np.testing.assert_allclose(g(jnp.array([4.0])), [0.25], rtol=1e-13)


def test_jax_pytree_params():
    x0, A, b = _system(np.random.default_rng(7), 3)

    def F(x, p):
        return p["A"] @ x + jnp.tanh(x + p["b"]) - 1

    p = {"A": jnp.asarray(A), "b": jnp.asarray(b)}
    flat = jax.grad(lambda A, b: cj.root(example_F(jnp), x0, A, b).sum(), (0, 1))(p["A"], p["b"])
    for fn in (cj.root, cj.root_vjp):
        tree = jax.grad(lambda p: fn(F, x0, p).sum())(p)
        np.testing.assert_allclose(tree["A"], flat[0], rtol=1e-12)
        np.testing.assert_allclose(tree["b"], flat[1], rtol=1e-12)
    with pytest.raises(TypeError, match=r"root: x0 and p\['A'\] and p\['b'\] must have the same dtype"):
        cj.root(F, x0, {"A": p["A"].astype(jnp.float32), "b": p["b"]})


# --------------------------------------------------------------------------
# bad arguments that the registry (arrays only) cannot express
# --------------------------------------------------------------------------


@pytest.mark.parametrize("root, arr", [(ct.root, _t), (cj.root, jnp.asarray), (cj.root_vjp, jnp.asarray)])
def test_bad_function_tol_max_iter(root, arr):
    x0, c = arr(np.ones(1)), arr(np.array([4.0]))
    with pytest.raises(TypeError, match=r"root: F must be a function F\(x, \*params\) .*; got ndarray|got Tensor|got ArrayImpl"):
        root(np.ones(1), x0, c)
    with pytest.raises(ValueError, match=r"root: tol must be a positive finite number; got -1\.0"):
        root(_sqrt_F, x0, c, tol=-1.0)
    with pytest.raises(ValueError, match=r"root: max_iter must be a positive integer; got 0"):
        root(_sqrt_F, x0, c, max_iter=0)
    with pytest.raises(TypeError, match=r"root: params\[0\] must have a real floating dtype"):
        root(lambda x, *p: x - p[0], x0, arr(np.array([4.0])).astype(int) if arr is jnp.asarray
             else torch.tensor([4]))


# --------------------------------------------------------------------------
# near a fold: x² − θ = 0 as θ → 0⁺
# --------------------------------------------------------------------------


def test_fold_derivative_grows_like_inverse_sqrt():
    for theta in (1e-2, 1e-4, 1e-6):
        # tol is absolute: near the fold a residual of 1e-12 is still a relative error of
        # about 1e-12 / θ in x before the last step, so tighten it as θ shrinks
        g = jax.grad(lambda t: cj.root(_sqrt_F, jnp.ones(1), t, tol=1e-12, max_iter=100).sum())(jnp.array([theta]))
        np.testing.assert_allclose(g, [0.5 / np.sqrt(theta)], rtol=1e-8)
