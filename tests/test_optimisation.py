"""Hard cases of the optimisation family (``eq_qp``) beyond the registry's batteries.

Independent oracles: the null-space method written with built-ins, jaxopt's
``EqualityConstrainedQP`` (implicit differentiation of its own optimality
conditions) and cvxpylayers (a conic solver differentiated by diffcp). Then the
singular KKT matrices: a clear error in PyTorch, ``nan`` in JAX, also under
``jit`` and ``vmap``.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")

import jax.numpy as jnp  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402
from companion.registry import OPS  # noqa: E402

OP = next(op for op in OPS if op.name == "eq_qp")
PEERS = "the peers extra is not installed: pip install -e '.[peers]' (make test installs it)"


def _problem(seed: int = 0, n: int = 5, m: int = 2) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((n, n))
    Q = M @ M.T / n + np.eye(n)
    return Q, rng.standard_normal(n), rng.standard_normal((m, n)), rng.standard_normal(m), rng.standard_normal(n)


def _t(*arrays: np.ndarray, grad: bool = True) -> list:
    return [torch.tensor(a, dtype=torch.float64, requires_grad=grad) for a in arrays]


def _torch_grads(f, *arrays: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    inputs = _t(*arrays)
    x = f(*inputs)
    grads = torch.autograd.grad(x @ torch.tensor(w), inputs)
    return x.detach().numpy(), [g.numpy() for g in grads]


# --------------------------------------------------------------------------
# An independent formula: the null-space method, differentiated by PyTorch
# --------------------------------------------------------------------------


def _null_space_qp(Q, c, A, b):
    """Variable elimination: split ``A = [A₁ A₂]`` (``A₁`` square, invertible here), so
    ``x = x_p + Z y`` with ``x_p = [A₁⁻¹ b; 0]`` and ``Z = [−A₁⁻¹ A₂; I]`` spanning the null
    space of ``A``; ``y`` minimises the reduced problem ``(Zᵀ S Z) y = −Zᵀ (S x_p + c)``."""
    m, n = A.shape
    S = (Q + Q.T) / 2
    A1, A2 = A[:, :m], A[:, m:]
    x_p = torch.cat([torch.linalg.solve(A1, b), b.new_zeros(n - m)])
    Z = torch.cat([-torch.linalg.solve(A1, A2), torch.eye(n - m, dtype=A.dtype)])
    y = torch.linalg.solve(Z.T @ S @ Z, -Z.T @ (S @ x_p + c))
    return x_p + Z @ y


@pytest.mark.parametrize("case", list(OP.cases))
def test_value_and_gradients_match_the_null_space_method(case: str) -> None:
    args = OP.example(case)
    w = np.cos(np.arange(args[0].shape[0]))
    x, grads = _torch_grads(ct.eq_qp, *args, w=w)
    x_ref, grads_ref = _torch_grads(_null_space_qp, *args, w=w)
    np.testing.assert_allclose(x, x_ref, rtol=1e-10, atol=1e-12)
    for name, g, g_ref in zip(OP.arg_names, grads, grads_ref):
        np.testing.assert_allclose(g, g_ref, rtol=1e-9, atol=1e-11, err_msg=name)


@pytest.mark.parametrize("case", list(OP.cases))
def test_jvps_and_hessian_vector_products_match_the_null_space_method(case: str) -> None:
    """The JVPs (PyTorch forward mode, JAX custom_jvp) and a Hessian-vector product of
    ``w·x`` (PyTorch double backward, which uses the rule for ``λ̄``), against the same
    derivatives of the null-space method; no peer needed."""
    args = OP.example(case)
    rng = np.random.default_rng(11)
    tangents = [rng.standard_normal(np.shape(a)) for a in args]
    w = np.cos(np.arange(args[0].shape[0]))
    primals, dots = tuple(_t(*args, grad=False)), tuple(_t(*tangents, grad=False))
    _, x_dot = torch.func.jvp(ct.eq_qp, primals, dots)
    _, x_dot_ref = torch.func.jvp(_null_space_qp, primals, dots)
    np.testing.assert_allclose(x_dot.numpy(), x_dot_ref.numpy(), rtol=1e-9, atol=1e-11)
    with jax.enable_x64(True):
        _, x_dot_jax = jax.jvp(cj.eq_qp, tuple(map(jnp.asarray, args)), tuple(map(jnp.asarray, tangents)))
        np.testing.assert_allclose(np.asarray(x_dot_jax), x_dot_ref.numpy(), rtol=1e-9, atol=1e-11)

    def hvp(f):
        inputs = _t(*args)
        grads = torch.autograd.grad(f(*inputs) @ torch.tensor(w), inputs, create_graph=True)
        return torch.autograd.grad(sum((g * t).sum() for g, t in zip(grads, dots)), inputs)

    for name, h, h_ref in zip(OP.arg_names, hvp(ct.eq_qp), hvp(_null_space_qp)):
        np.testing.assert_allclose(h.numpy(), h_ref.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)


def test_the_cotangent_of_Q_is_symmetric_and_the_whole_gradient() -> None:
    """A non-symmetric ``Q``: ``Q̄`` is symmetric, and moving ``Q`` along an antisymmetric
    direction changes nothing (central differences of the value are zero)."""
    Q, c, A, b = OP.example("nonsymmetric_Q")
    assert np.abs(Q - Q.T).max() > 0.1
    w = np.sin(np.arange(Q.shape[0]) + 1.0)
    _, (Q_bar, *_) = _torch_grads(ct.eq_qp, Q, c, A, b, w=w)
    np.testing.assert_allclose(Q_bar, Q_bar.T, rtol=0, atol=1e-15)
    K = np.triu(np.ones_like(Q), 1)
    K = K - K.T  # antisymmetric
    plus = cj.eq_qp(Q + 1e-3 * K, c, A, b)
    minus = cj.eq_qp(Q - 1e-3 * K, c, A, b)
    np.testing.assert_allclose(np.asarray(plus), np.asarray(minus), rtol=0, atol=1e-14)


def test_jax_and_torch_agree_in_float32() -> None:
    Q, c, A, b, w = _problem(3)
    x32 = ct.eq_qp(*(torch.tensor(a, dtype=torch.float32) for a in (Q, c, A, b)))
    assert x32.dtype == torch.float32
    x64 = cj.eq_qp(Q, c, A, b)  # float32 in JAX unless x64 is on: compare loosely
    np.testing.assert_allclose(x32.numpy(), np.asarray(x64), rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------------
# Peers: jaxopt and cvxpylayers
# --------------------------------------------------------------------------


def test_jaxopt_equality_constrained_qp_gradients_agree() -> None:
    """jaxopt differentiates the KKT conditions of its own solution implicitly. Its ``Q̄``
    is compared through its symmetric part (the convention of ``eq_qp``); for a symmetric
    ``Q`` jaxopt's own ``Q̄`` came out symmetric too. Tolerance 1e-10 (both are direct solves)."""
    jaxopt = pytest.importorskip("jaxopt", reason=PEERS)
    Q, c, A, b, w = _problem(1)

    def peer(Q, c, A, b):
        return jaxopt.EqualityConstrainedQP(tol=1e-14).run(params_obj=(Q, c), params_eq=(A, b)).params.primal

    with jax.enable_x64(True):
        args = tuple(jnp.asarray(a) for a in (Q, c, A, b))
        wj = jnp.asarray(w)
        for ours in (cj.eq_qp, cj.eq_qp_vjp):
            np.testing.assert_allclose(ours(*args), peer(*args), rtol=1e-10, atol=1e-12)
            got = jax.grad(lambda *a: ours(*a) @ wj, argnums=(0, 1, 2, 3))(*args)
            want = jax.grad(lambda *a: peer(*a) @ wj, argnums=(0, 1, 2, 3))(*args)
            want = ((want[0] + want[0].T) / 2, *want[1:])
            for name, g, h in zip(OP.arg_names, got, want):
                np.testing.assert_allclose(g, h, rtol=1e-10, atol=1e-12, err_msg=name)


def test_cvxpylayers_gradients_agree_through_a_factor_of_Q() -> None:
    """cvxpylayers needs a DPP problem: the objective ``½ ‖L x‖² + cᵀ x`` with ``L`` a
    parameter, so ``Q = Lᵀ L``; the companion's gradient reaches ``L`` through PyTorch's
    own ``Lᵀ L``. cvxpylayers solves a conic reformulation iteratively (SCS via diffcp, here
    with eps = 1e-10) and differentiates that: values agree to about 1e-9 and gradients to
    about 1e-7, so the tolerance is 1e-6 relative to the largest entry of each gradient."""
    cp = pytest.importorskip("cvxpy", reason=PEERS)
    layers = pytest.importorskip("cvxpylayers.torch", reason=PEERS)
    rng = np.random.default_rng(2)
    n, m = 5, 2
    L0 = rng.standard_normal((n, n)) / np.sqrt(n) + np.eye(n)
    c0, A0, b0, w = rng.standard_normal(n), rng.standard_normal((m, n)), rng.standard_normal(m), rng.standard_normal(n)
    L, c, A, b = cp.Parameter((n, n)), cp.Parameter(n), cp.Parameter((m, n)), cp.Parameter(m)
    x = cp.Variable(n)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(L @ x) + c @ x), [A @ x == b])
    assert problem.is_dpp()
    layer = layers.CvxpyLayer(problem, parameters=[L, c, A, b], variables=[x])
    theirs = _t(L0, c0, A0, b0)
    (x_peer,) = layer(*theirs, solver_args={"eps": 1e-10})
    (x_peer @ torch.tensor(w)).backward()
    ours = _t(L0, c0, A0, b0)
    x_ours = ct.eq_qp(ours[0].T @ ours[0], *ours[1:])
    (x_ours @ torch.tensor(w)).backward()
    np.testing.assert_allclose(x_peer.detach().numpy(), x_ours.detach().numpy(), rtol=0, atol=1e-6)
    for name, p, o in zip(("L", "c", "A", "b"), theirs, ours):
        scale = o.grad.abs().max().item()
        np.testing.assert_allclose(p.grad.numpy(), o.grad.numpy(), rtol=0, atol=1e-6 * scale, err_msg=name)


# --------------------------------------------------------------------------
# Singular KKT matrices
# --------------------------------------------------------------------------


def _rank_deficient_A(exact: bool) -> tuple[np.ndarray, ...]:
    Q, c, A, b, _ = _problem(4, n=6, m=3)
    A[2] = A[0] if exact else A[0] + 0.3 * A[1]  # a repeated row, or a combination of two rows
    return Q, c, A, b


def _singular_on_null_space() -> tuple[np.ndarray, ...]:
    """``Q = 0`` with one constraint in three unknowns: the objective is linear on a plane."""
    return np.zeros((3, 3)), np.ones(3), np.array([[1.0, 2.0, 3.0]]), np.ones(1)


SINGULAR = {
    "A with a repeated row": lambda: _rank_deficient_A(True),
    "A with a row a combination of two others": lambda: _rank_deficient_A(False),
    "Q zero on the null space of A": _singular_on_null_space,
}


@pytest.mark.parametrize("why", list(SINGULAR))
def test_a_singular_kkt_matrix_raises_in_torch(why: str) -> None:
    args = _t(*SINGULAR[why](), grad=False)
    with pytest.raises(ct.SingularMatrixError, match=r"eq_qp: the KKT matrix .* must be non-singular: A must have full row rank"):
        ct.eq_qp(*args)
    with pytest.raises(ValueError):  # SingularMatrixError is a ValueError ...
        ct.eq_qp(*args)
    with pytest.raises(torch.linalg.LinAlgError):  # ... and a LinAlgError
        ct.eq_qp(*args)


def test_an_exactly_singular_kkt_matrix_raises_inside_torch_vmap() -> None:
    """Inside ``torch.func.vmap`` the relative pivot test cannot read values; an exactly zero pivot
    still raises (torch's checked factorisation does so also under vmap)."""
    Q, c, A, b = _rank_deficient_A(True)
    batch = [torch.tensor(np.stack([a, a]), dtype=torch.float64) for a in (Q, c, A, b)]
    with pytest.raises(ct.SingularMatrixError, match="exactly zero pivot"):
        torch.func.vmap(ct.eq_qp)(*batch)


@pytest.mark.parametrize("why", list(SINGULAR))
@pytest.mark.parametrize("public", ["eq_qp", "eq_qp_vjp"])
def test_a_singular_kkt_matrix_gives_nan_in_jax(why: str, public: str) -> None:
    f = getattr(cj, public)
    with jax.enable_x64(True):
        args = tuple(jnp.asarray(a) for a in SINGULAR[why]())
        assert jnp.isnan(f(*args)).all()
        assert jnp.isnan(jax.jit(f)(*args)).all()
        grads = jax.grad(lambda *a: f(*a).sum(), argnums=(0, 1, 2, 3))(*args)
        assert all(jnp.isnan(g).all() for g in grads)
        # in a batch, only the singular problem is nan
        good = tuple(jnp.asarray(a) for a in _problem(5, n=args[0].shape[0], m=args[2].shape[0])[:4])
        batch = tuple(jnp.stack([g, s]) for g, s in zip(good, args))
        x = jax.vmap(f)(*batch)
        assert jnp.isfinite(x[0]).all() and jnp.isnan(x[1]).all()


def test_indefinite_on_the_null_space_is_a_saddle_not_an_error() -> None:
    """A non-singular KKT matrix whose ``S`` is indefinite on the null space of ``A``: ``eq_qp``
    returns the constrained stationary point (documented), and the rules are its derivatives."""
    Q = np.diag([1.0, -1.0, 2.0])
    A = np.array([[0.0, 0.0, 1.0]])  # null space: the first two axes, where Q is indefinite
    c, b = np.array([1.0, 1.0, 0.0]), np.array([0.5])
    x = ct.eq_qp(*_t(Q, c, A, b, grad=False))
    np.testing.assert_allclose(x.numpy(), [-1.0, 1.0, 0.5], atol=1e-15)
    assert torch.autograd.gradcheck(ct.eq_qp, tuple(_t(Q, c, A, b)))


# --------------------------------------------------------------------------
# Factorisation reuse: derivatives never factorise the KKT matrix again
# --------------------------------------------------------------------------


def test_backward_and_jvp_do_not_factorise_again(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = torch.linalg.lu_factor_ex

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(torch.linalg, "lu_factor_ex", counting)
    Q, c, A, b, w = _problem(6)
    inputs = _t(Q, c, A, b)
    x = ct.eq_qp(*inputs)
    grads = torch.autograd.grad(x @ torch.tensor(w), inputs, create_graph=True)
    torch.autograd.grad(sum((g * g).sum() for g in grads), inputs)  # double backward
    torch.func.jvp(ct.eq_qp, tuple(_t(Q, c, A, b, grad=False)), tuple(_t(Q, c, A, b, grad=False)))
    assert len(calls) == 2  # one forward pass each: eq_qp and the jvp's primal
