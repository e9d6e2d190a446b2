"""Tests of the decompositions family: ``cholesky`` and ``eigh`` on symmetric matrices.

The registry entries declare ``A`` symmetric (``symmetric_args``), so every
battery of ``companion.verify`` passes it as ``(X + Xᵀ)/2`` and its finite
differences move along symmetric directions. Here: the hard cases:
symmetric cotangents, repeated eigenvalues, sign-invariant losses, inputs that
are not symmetric or not positive definite, and the forward passes being the
built-ins' (same signs of the eigenvectors).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from companion.ops.decompositions import entries, rules
from companion.registry import OPS_BY_NAME, Op
from companion.verify import CHECKS

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
import torch.func as tf  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402

F64 = torch.float64
NAMES = ("cholesky", "eigh")


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


def _example(name: str) -> np.ndarray:
    (A,) = OPS_BY_NAME[name].example()
    return A


def _sym(X):
    return (X + X.T) / 2


# --------------------------------------------------------------------------
# The registry's batteries see A as symmetric
# --------------------------------------------------------------------------


def test_the_registry_declares_A_symmetric_and_runs_every_battery() -> None:
    """``symmetric_args`` makes every battery pass ``(X + Xᵀ)/2``: none is opted out."""
    for name in NAMES:
        op = OPS_BY_NAME[name]
        assert op.symmetric_args == ("A",) and not op.not_applicable, name


@pytest.mark.parametrize("check", [c for c in CHECKS if c.name in ("gradcheck", "check_grads")], ids=lambda c: c.name)
def test_without_the_symmetric_view_finite_differences_leave_the_symmetric_matrices(check) -> None:
    """The eager symmetry check rejects the non-symmetric points finite differences visit."""
    op = dataclasses.replace(OPS_BY_NAME["eigh"], symmetric_args=())
    with pytest.raises(ValueError, match="symmetric"):
        check.run(op)


def test_cholesky_torch_func_on_a_positive_definite_batch() -> None:
    """The registry's torch.func battery, with the batch (A, 2A, 3A) and vmap of grad too."""
    A = torch.tensor(_example("cholesky"))
    W = torch.cos(torch.arange(A.numel(), dtype=F64)).reshape(A.shape)
    T = torch.sin(torch.arange(A.numel(), dtype=F64) + 1).reshape(A.shape)

    def builtin(A):
        return torch.linalg.cholesky((A + A.T) / 2)

    transforms = {
        "grad": lambda f: tf.grad(lambda A: (f(A) * W).sum())(A),
        "vjp": lambda f: tf.vjp(f, A)[1](W),
        "jvp": lambda f: tf.jvp(f, (A,), (T,)),
        "vmap": lambda f: tf.vmap(f)(torch.stack([A, 2 * A, 3 * A])),
        "jacrev": lambda f: tf.jacrev(f)(A),
        "jacfwd": lambda f: tf.jacfwd(f)(A),
        "hessian": lambda f: tf.hessian(lambda A: (f(A) * W).sum())(A),
        "vmap of grad": lambda f: tf.vmap(tf.grad(lambda A: (f(A) * W).sum()))(torch.stack([A, 2 * A])),
    }
    for name, transform in transforms.items():
        torch.testing.assert_close(transform(ct.cholesky), transform(builtin), rtol=1e-10, atol=1e-12, msg=name)


# --------------------------------------------------------------------------
# The forward passes are the built-ins' (so comparisons of V are exact)
# --------------------------------------------------------------------------


def test_forward_passes_are_the_builtins_bit_for_bit() -> None:
    for name in NAMES:
        A = _example(name)
        ref = OPS_BY_NAME[name].reference
        for got, want in (
            (ct.cholesky(torch.tensor(A)) if name == "cholesky" else ct.eigh(torch.tensor(A)), ref(torch, torch.tensor(A))),
            (cj.cholesky(A) if name == "cholesky" else cj.eigh(A), ref(jnp, jnp.asarray(A))),
            (cj.cholesky_vjp(A) if name == "cholesky" else cj.eigh_vjp(A), ref(jnp, jnp.asarray(A))),
        ):
            for g, w in zip(*(x if isinstance(x, tuple) else (x,) for x in (got, want))):
                np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    # and the symmetric input itself: the built-in without any symmetrisation
    A = _example("eigh")
    for g, w in zip(ct.eigh(torch.tensor(A)), torch.linalg.eigh(torch.tensor(A))):
        torch.testing.assert_close(g, w, rtol=0, atol=0)
    for g, w in zip(cj.eigh(A), jnp.linalg.eigh(A)):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


# --------------------------------------------------------------------------
# Symmetric cotangents
# --------------------------------------------------------------------------


def _weights(out, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(tuple(o.shape)) for o in (out if isinstance(out, tuple) else (out,))]


def _torch_A_bar(fn, A: np.ndarray) -> np.ndarray:
    """The gradient of ``Σ_k ⟨W_k, out_k⟩`` for seeded random weights ``W_k``."""
    At = torch.tensor(A, requires_grad=True)
    out = fn(At)
    outs = out if isinstance(out, tuple) else (out,)
    loss = sum((o * torch.tensor(W)).sum() for o, W in zip(outs, _weights(out)))
    (A_bar,) = torch.autograd.grad(loss, At)
    return A_bar.numpy()


def _jax_A_bar(fn, A: np.ndarray) -> np.ndarray:
    def loss(A):
        out = fn(A)
        outs = out if isinstance(out, tuple) else (out,)
        return sum((o * W).sum() for o, W in zip(outs, _weights(out)))

    return np.asarray(jax.grad(loss)(jnp.asarray(A)))


@pytest.mark.parametrize("name", NAMES)
def test_cotangent_is_exactly_symmetric_and_the_builtins(name: str) -> None:
    """Ā = Āᵀ bit for bit, and equal to the framework's own built-in gradient (which
    pairs V̄ with the same eigenvector signs)."""
    A = _example(name)
    torch_builtin = {"cholesky": torch.linalg.cholesky, "eigh": lambda A: tuple(torch.linalg.eigh(A))}[name]
    jax_builtin = {"cholesky": jnp.linalg.cholesky, "eigh": lambda A: tuple(jnp.linalg.eigh(A))}[name]
    pairs = [
        (_torch_A_bar(getattr(ct, name), A), _torch_A_bar(torch_builtin, A)),
        (_jax_A_bar(getattr(cj, name), A), _jax_A_bar(jax_builtin, A)),
        (_jax_A_bar(getattr(cj, name + "_vjp"), A), _jax_A_bar(jax_builtin, A)),
    ]
    for A_bar, want in pairs:
        np.testing.assert_array_equal(A_bar, A_bar.T)
        np.testing.assert_allclose(A_bar, want, rtol=1e-10, atol=1e-12)


def test_cholesky_rule_for_a_symmetric_tangent_is_the_derivative() -> None:
    """⟨Ā, Ȧ⟩ = ⟨L̄, L̇⟩ for a symmetric Ȧ, and L̇ against central differences."""
    rng = np.random.default_rng(3)
    A = _example("cholesky")
    A_dot = _sym(rng.standard_normal(A.shape))
    L_bar = rng.standard_normal(A.shape)
    L = np.linalg.cholesky(A)
    L_dot = np.asarray(jax.jvp(cj.cholesky, (jnp.asarray(A),), (jnp.asarray(A_dot),))[1])
    A_bar = _torch_A_bar_for(ct.cholesky, A, L_bar)
    np.testing.assert_allclose(np.sum(A_bar * A_dot), np.sum(L_bar * L_dot), rtol=1e-12)
    h = 1e-6
    fd = (np.linalg.cholesky(A + h * A_dot) - np.linalg.cholesky(A - h * A_dot)) / (2 * h)
    np.testing.assert_allclose(L_dot, fd, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(np.triu(L_dot, 1), 0.0)


def _torch_A_bar_for(fn, A: np.ndarray, out_bar: np.ndarray) -> np.ndarray:
    At = torch.tensor(A, requires_grad=True)
    (A_bar,) = torch.autograd.grad(fn(At), At, torch.tensor(out_bar))
    return A_bar.numpy()


def test_antisymmetric_tangent_changes_nothing() -> None:
    rng = np.random.default_rng(4)
    K = rng.standard_normal((4, 4))
    K = K - K.T
    for name in NAMES:
        A = _example(name)
        _, dot_out = tf.jvp(getattr(ct, name), (torch.tensor(A),), (torch.tensor(K),))
        for t in dot_out if isinstance(dot_out, tuple) else (dot_out,):
            np.testing.assert_allclose(t.numpy(), 0.0, atol=1e-14)


# --------------------------------------------------------------------------
# eigh: repeated eigenvalues, signs
# --------------------------------------------------------------------------

#: Exactly repeated eigenvalue 1 (a diagonal matrix: LAPACK returns the ties exactly),
#: and a double eigenvalue 1 of a full matrix (1, 1, 4: the computed pair may differ by round-off).
REPEATED = {
    "diagonal": np.diag([1.0, 1.0, 2.0]),
    "full": np.array([[2.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 1.0, 2.0]]),
}


def _cubes(w):
    return (w**3).sum()  # Σ w³ = tr A³, whose gradient is 3 A²


@pytest.mark.parametrize("case", REPEATED)
def test_repeated_eigenvalue_loss_of_w_has_the_exact_gradient(case: str) -> None:
    A = REPEATED[case]
    want = 3 * A @ A
    At = torch.tensor(A, requires_grad=True)
    w, V = ct.eigh(At)
    (g_none,) = torch.autograd.grad(_cubes(w), At)  # V unused: its cotangent is None
    w, V = ct.eigh(At)
    (g_zero,) = torch.autograd.grad((w, V), At, (3 * w.detach() ** 2, torch.zeros_like(V)))  # explicit zero V̄
    grads = [g_none.numpy(), g_zero.numpy()]
    for fn in (cj.eigh, cj.eigh_vjp):
        grads.append(np.asarray(jax.grad(lambda A, fn=fn: _cubes(fn(A)[0]))(jnp.asarray(A))))
        (w, V), pullback = jax.vjp(fn, jnp.asarray(A))
        grads.append(np.asarray(pullback((3 * w**2, jnp.zeros_like(V)))[0]))
    for g in grads:
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, want, rtol=1e-12, atol=1e-12)


def test_repeated_eigenvalue_builtins_give_nan_for_an_explicit_zero_V_bar() -> None:
    """What the masking fixes: the built-ins are finite only when V's cotangent is absent."""
    A = REPEATED["diagonal"]
    At = torch.tensor(A, requires_grad=True)
    w, V = torch.linalg.eigh(At)
    (g,) = torch.autograd.grad((w, V), At, (torch.ones_like(w), torch.zeros_like(V)))
    assert torch.isnan(g).all()
    (w, V), pullback = jax.vjp(lambda A: tuple(jnp.linalg.eigh(A)), jnp.asarray(A))
    assert jnp.isnan(pullback((jnp.ones_like(w), jnp.zeros_like(V)))[0]).all()


def _sign_invariant(V, C):
    return ((V * V) * C).sum() + (V[:, :1] @ V[:, :1].T * C).sum()


def test_sign_invariant_loss_has_the_finite_difference_gradient() -> None:
    rng = np.random.default_rng(5)
    A = _example("eigh")
    C = rng.standard_normal(A.shape)
    E = _sym(rng.standard_normal(A.shape))
    h = 1e-6
    loss = lambda A: _sign_invariant(np.linalg.eigh(A)[1], C)  # noqa: E731
    fd = (loss(A + h * E) - loss(A - h * E)) / (2 * h)
    # flipping the sign of every column leaves the loss, so its gradient, unchanged
    V = np.linalg.eigh(A)[1]
    np.testing.assert_allclose(_sign_invariant(-V, C), _sign_invariant(V, C), rtol=1e-14)
    At = torch.tensor(A, requires_grad=True)
    (g_torch,) = torch.autograd.grad(_sign_invariant(ct.eigh(At)[1], torch.tensor(C)), At)
    for g in (
        g_torch.numpy(),
        np.asarray(jax.grad(lambda A: _sign_invariant(cj.eigh(A)[1], C))(jnp.asarray(A))),
        np.asarray(jax.grad(lambda A: _sign_invariant(cj.eigh_vjp(A)[1], C))(jnp.asarray(A))),
    ):
        np.testing.assert_allclose(np.sum(g * E), fd, rtol=1e-7)


def test_eigh_rule_at_distinct_eigenvalues_matches_finite_differences_of_V() -> None:
    """ẇ and V̇ (signs fixed by the library, continuous near A) against central differences."""
    rng = np.random.default_rng(6)
    A = _example("eigh")
    E = _sym(rng.standard_normal(A.shape))
    h = 1e-6
    (wp, Vp), (wm, Vm) = np.linalg.eigh(A + h * E), np.linalg.eigh(A - h * E)
    for fn in (lambda A, E: tf.jvp(ct.eigh, (torch.tensor(A),), (torch.tensor(E),))[1],
               lambda A, E: jax.jvp(cj.eigh, (jnp.asarray(A),), (jnp.asarray(E),))[1]):
        w_dot, V_dot = (np.asarray(t) for t in fn(A, E))
        np.testing.assert_allclose(w_dot, (wp - wm) / (2 * h), rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(V_dot, (Vp - Vm) / (2 * h), rtol=1e-6, atol=1e-8)


def test_gap_reciprocals_sign_convention() -> None:
    F = rules.eigh_gap_reciprocals(np.array([1.0, 2.0, 4.0]), rules.numpy_ops)
    np.testing.assert_allclose(F, [[0, 1, 1 / 3], [-1, 0, 1 / 2], [-1 / 3, -1 / 2, 0]])


# --------------------------------------------------------------------------
# Inputs that are not symmetric, not positive definite
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_non_symmetric_A_is_rejected_where_values_exist(name: str) -> None:
    A = _example(name).copy()
    A[0, 1] += 1e-3
    message = rf"{name}: A must be symmetric, max\|A − Aᵀ\| ≤ √ε·max\|A\| = .* \(ε = 2.22e-16 for float64\); got max\|A − Aᵀ\| = 0.001"
    for call in (
        lambda: getattr(ct, name)(torch.tensor(A)),
        lambda: getattr(ct, name)(torch.tensor(A, requires_grad=True)),
        lambda: tf.grad(lambda A: _first(getattr(ct, name)(A)).sum())(torch.tensor(A)),
        lambda: getattr(cj, name)(A),
        lambda: getattr(cj, name + "_vjp")(A),
    ):
        with pytest.raises(ValueError, match=message):
            call()


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", NAMES)
def test_symmetry_tolerance_is_sqrt_eps_relative(name: str) -> None:
    A = _example(name)
    tol = np.sqrt(np.finfo(np.float64).eps) * np.abs(A).max()
    fn = getattr(ct, name)
    for gap, ok in ((0.5 * tol, True), (2 * tol, False)):
        B = A.copy()
        B[0, 1] += gap
        if ok:
            fn(torch.tensor(B))
        else:
            with pytest.raises(ValueError, match="must be symmetric"):
                fn(torch.tensor(B))
    B = A.astype(np.float32)
    B[0, 1] += 1e-5 * np.abs(B).max()  # well within float32's √ε ≈ 3.5e-4
    fn(torch.tensor(B))


@pytest.mark.parametrize("name", NAMES)
def test_non_symmetric_A_is_unchecked_where_values_do_not_exist_and_sym_A_is_used(name: str) -> None:
    A = _example(name).copy()
    A[0, 1] += 1e-3
    want = OPS_BY_NAME[name].reference(np, A)
    got = [
        jax.jit(getattr(cj, name))(A),
        jax.jit(getattr(cj, name + "_vjp"))(A),
        tf.vmap(getattr(ct, name))(torch.tensor(A)[None]),
    ]
    for out in got:
        outs = out if isinstance(out, tuple) else (out,)
        wants = want if isinstance(want, tuple) else (want,)
        for g, w in zip(outs, wants):
            np.testing.assert_allclose(np.asarray(g).reshape(w.shape), w, rtol=1e-12, atol=1e-14)


def test_non_finite_A_is_rejected() -> None:
    A = _example("cholesky").copy()
    A[0, 0] = np.nan
    with pytest.raises(ValueError, match="cholesky: A must be finite"):
        ct.cholesky(torch.tensor(A))
    with pytest.raises(ValueError, match="eigh: A must be finite"):
        cj.eigh(A)


NOT_SPD = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues −1 and 3


def test_torch_non_positive_definite_raises_a_named_error() -> None:
    for call in (
        lambda: ct.cholesky(torch.tensor(NOT_SPD)),
        lambda: tf.vmap(ct.cholesky)(torch.tensor(np.stack([np.eye(2), NOT_SPD]))),
    ):
        with pytest.raises(ct.NotPositiveDefiniteError, match="cholesky: A must be positive definite") as info:
            call()
        assert isinstance(info.value, ValueError) and isinstance(info.value, torch.linalg.LinAlgError)
        assert isinstance(info.value.__cause__, torch.linalg.LinAlgError)


def test_jax_non_positive_definite_gives_nan() -> None:
    for fn in (cj.cholesky, cj.cholesky_vjp):
        assert jnp.isnan(fn(NOT_SPD)).any()
        assert jnp.isnan(jax.jit(fn)(NOT_SPD)).any()
        assert jnp.isnan(jax.grad(lambda A, fn=fn: fn(A).sum())(jnp.asarray(NOT_SPD))).all()


def test_public_names() -> None:
    for name in ("cholesky", "eigh", "Cholesky", "Eigh", "NotPositiveDefiniteError"):
        assert hasattr(ct, name), name
    for cls in (ct.Cholesky, ct.Eigh):
        assert issubclass(cls, torch.autograd.Function) and cls.generate_vmap_rule is True
    for name in ("cholesky", "eigh", "cholesky_vjp", "eigh_vjp"):
        assert callable(getattr(cj, name))
    assert ct.NotPositiveDefiniteError.__module__ == "companion.torch"


# --------------------------------------------------------------------------
# Where PyTorch's values can be read: the private functorch query and its public fallback
# --------------------------------------------------------------------------


def _not_symmetric(name: str) -> np.ndarray:
    A = _example(name).copy()
    A[0, 1] += 1e-3
    return A


@pytest.mark.parametrize("private_api", [True, False], ids=["torch._C._functorch", "public fallback"])
@pytest.mark.parametrize("name", NAMES)
def test_symmetry_check_runs_exactly_where_values_exist(name: str, private_api: bool, monkeypatch) -> None:
    """Checked eagerly and under torch.func.grad and jacfwd; not inside vmap (nor vmap of grad),
    where sym(A) is used. Without the private ``torch._C._functorch`` functions (a later
    PyTorch may drop them) the public fallback, vmap refusing ``.item()``, gives the same."""
    if not private_api:
        monkeypatch.delattr(torch._C._functorch, "is_batchedtensor")
    fn, N = getattr(ct, name), torch.tensor(_not_symmetric(name))
    for call in (
        lambda: fn(N),
        lambda: tf.grad(lambda A: _first(fn(A)).sum())(N),
        lambda: tf.jacfwd(lambda A: _first(fn(A)))(N),
    ):
        with pytest.raises(ValueError, match=f"{name}: A must be symmetric"):
            call()
    want = OPS_BY_NAME[name].reference(torch, N)
    got = tf.vmap(fn)(N[None])
    for g, w in zip(*(x if isinstance(x, tuple) else (x,) for x in (got, want))):
        torch.testing.assert_close(g[0], w, rtol=1e-12, atol=1e-14)
    g = tf.vmap(tf.grad(lambda A: _first(fn(A)).sum()))(N[None])
    assert torch.isfinite(g).all()


@pytest.mark.parametrize("name", NAMES)
def test_meta_tensors_are_not_read(name: str) -> None:
    """A meta tensor has no values: no symmetry check, shapes only."""
    out = getattr(ct, name)(torch.empty(3, 3, dtype=F64, device="meta"))
    for o in out if isinstance(out, tuple) else (out,):
        assert o.is_meta


def test_cholesky_under_torch_compile_is_unchecked_and_factorises_sym_A() -> None:
    N = _not_symmetric("cholesky")
    torch._dynamo.reset()
    got = torch.compile(ct.cholesky)(torch.tensor(N))
    torch.testing.assert_close(got, torch.linalg.cholesky(torch.tensor(_sym(N))), rtol=1e-12, atol=1e-14)


def test_eigenspace_projector_loss_at_an_exact_tie_has_the_finite_difference_gradient() -> None:
    """A loss of V through the projector onto a double eigenspace is a function of A, and the
    masked F gives its gradient where the tie is exact (the tied block of F ∘ (Vᵀ V̄) is
    antisymmetric, so sym removes it), in both frameworks."""
    A = REPEATED["diagonal"]
    C = np.random.default_rng(7).standard_normal((3, 3))

    def loss(V, C):
        return ((V[:, :2] @ V[:, :2].T) * C).sum()

    h = 1e-6
    fd = np.zeros((3, 3))
    for i in range(3):
        for j in range(3):
            E = np.zeros((3, 3))
            E[i, j] += 0.5
            E[j, i] += 0.5  # sym(e_i e_jᵀ): the central difference is Ā_ij for a symmetric Ā
            fd[i, j] = (loss(np.linalg.eigh(A + h * E)[1], C) - loss(np.linalg.eigh(A - h * E)[1], C)) / (2 * h)
    At = torch.tensor(A, requires_grad=True)
    (g_torch,) = torch.autograd.grad(loss(ct.eigh(At)[1], torch.tensor(C)), At)
    for g in (
        g_torch.numpy(),
        np.asarray(jax.grad(lambda A: loss(cj.eigh(A)[1], C))(jnp.asarray(A))),
        np.asarray(jax.grad(lambda A: loss(cj.eigh_vjp(A)[1], C))(jnp.asarray(A))),
    ):
        np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)
