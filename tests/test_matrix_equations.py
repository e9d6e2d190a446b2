"""Tests of the matrix equations family beyond the registry's batteries.

``lyapunov(A, Q)`` solves ``A P + P Aᵀ + Q = 0``. SciPy is the independent oracle:
``scipy.linalg.solve_continuous_lyapunov(A, C)`` solves ``A X + X Aᴴ = C`` by the
Bartels–Stewart algorithm (a Schur decomposition, not the Kronecker form the
companion uses), so ``P = solve_continuous_lyapunov(A, −Q)`` and the adjoint
``W`` (``Aᵀ W + W A + P̄ = 0``) is ``solve_continuous_lyapunov(Aᵀ, −P̄)``.

The symmetric-cotangent trap: the reverse rule ``Ā = W Pᵀ + Wᵀ P`` reduces to the
often-quoted ``Ā = 2 W P`` only when both ``Q`` and the cotangent ``P̄`` are
symmetric. Finite differences (of SciPy's solver) accept the companion's ``Ā`` and
reject ``2 W P`` as soon as either is not symmetric.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
scipy_linalg = pytest.importorskip(
    "scipy.linalg", reason="SciPy is the oracle of these tests; install the torch extra (it brings SciPy)"
)
import jax.numpy as jnp  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402
from companion.ops.matrix_equations import rules  # noqa: E402
from companion.xp import numpy_ops  # noqa: E402

F64 = torch.float64


def _stable(n: int, seed: int) -> np.ndarray:
    """A random non-symmetric stable ``n × n`` matrix (asserted)."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, n)) - n * np.eye(n)
    assert np.linalg.eigvals(A).real.max() < 0
    return A


def _inputs(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``A`` stable, ``Q`` and the loss weights ``C`` non-symmetric."""
    rng = np.random.default_rng(seed + 100)
    return _stable(n, seed), rng.standard_normal((n, n)), rng.standard_normal((n, n))


def _scipy_lyapunov(A: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """``P`` with ``A P + P Aᵀ + Q = 0`` (SciPy solves ``A X + X Aᴴ = C``: ``C = −Q``)."""
    return scipy_linalg.solve_continuous_lyapunov(A, -Q)


def _torch_grads(A: np.ndarray, Q: np.ndarray, P_bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    At, Qt = (torch.tensor(a, requires_grad=True) for a in (A, Q))
    A_bar, Q_bar = torch.autograd.grad(ct.lyapunov(At, Qt), (At, Qt), torch.tensor(P_bar))
    return A_bar.numpy(), Q_bar.numpy()


def _jax_grads(f, A: np.ndarray, Q: np.ndarray, P_bar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    with jax.enable_x64(True):
        _, vjp = jax.vjp(f, jnp.asarray(A), jnp.asarray(Q))
        return tuple(np.asarray(g) for g in vjp(jnp.asarray(P_bar)))  # type: ignore[return-value]


GRADS = {
    "torch": _torch_grads,
    "jax custom_jvp": lambda A, Q, P_bar: _jax_grads(cj.lyapunov, A, Q, P_bar),
    "jax custom_vjp": lambda A, Q, P_bar: _jax_grads(cj.lyapunov_vjp, A, Q, P_bar),
}


def _values(A: np.ndarray, Q: np.ndarray) -> dict[str, np.ndarray]:
    with jax.enable_x64(True):
        return {
            "torch": ct.lyapunov(torch.tensor(A), torch.tensor(Q)).numpy(),
            "jax custom_jvp": np.asarray(cj.lyapunov(jnp.asarray(A), jnp.asarray(Q))),
            "jax custom_vjp": np.asarray(cj.lyapunov_vjp(jnp.asarray(A), jnp.asarray(Q))),
        }


# --------------------------------------------------------------------------
# The primal against SciPy
# --------------------------------------------------------------------------


def test_scipy_solves_A_X_plus_X_AH_equals_its_second_argument() -> None:
    """The sign convention the oracle relies on: SciPy's right-hand side is ``+C``."""
    A, Q, _ = _inputs(4)
    X = scipy_linalg.solve_continuous_lyapunov(A, Q)
    np.testing.assert_allclose(A @ X + X @ A.T, Q, atol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_lyapunov_matches_scipy(n: int) -> None:
    A, Q, _ = _inputs(n, seed=n)
    want = _scipy_lyapunov(A, Q)
    for name, P in _values(A, Q).items():
        np.testing.assert_allclose(P, want, rtol=1e-11, atol=1e-13, err_msg=name)
        np.testing.assert_allclose(A @ P + P @ A.T + Q, 0.0, atol=1e-12, err_msg=name)
    assert n == 1 or not np.allclose(want, want.T), "Q is not symmetric, so neither is P"


def test_symmetric_Q_gives_symmetric_P() -> None:
    A, Q, _ = _inputs(4)
    for name, P in _values(A, Q + Q.T).items():
        np.testing.assert_allclose(P, P.T, atol=1e-13, err_msg=name)


def test_an_unstable_A_is_solved_too() -> None:
    """Stability is not needed, only λᵢ + λⱼ ≠ 0: −A (every eigenvalue in the right half-plane)."""
    A, Q, _ = _inputs(4)
    for name, P in _values(-A, Q).items():
        np.testing.assert_allclose(P, _scipy_lyapunov(-A, Q), rtol=1e-11, atol=1e-13, err_msg=name)


def test_float32() -> None:
    A, Q, _ = _inputs(3)
    want = _scipy_lyapunov(A, Q)
    got_torch = ct.lyapunov(torch.tensor(A, dtype=torch.float32), torch.tensor(Q, dtype=torch.float32))
    got_jax = cj.lyapunov(jnp.asarray(A, jnp.float32), jnp.asarray(Q, jnp.float32))
    assert got_torch.dtype == torch.float32 and got_jax.dtype == jnp.float32
    np.testing.assert_allclose(got_torch.numpy(), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(got_jax), want, rtol=1e-4, atol=1e-5)


def test_the_operator_is_the_kronecker_sum() -> None:
    """``K = A ⊗ I + I ⊗ A`` on the row-major vec, and the same matrix as ``I ⊗ A + A ⊗ I``."""
    A = np.random.default_rng(1).standard_normal((3, 3))
    K = rules.lyapunov_operator(A, numpy_ops)
    np.testing.assert_array_equal(K, np.kron(A, np.eye(3)) + np.kron(np.eye(3), A))
    X = np.random.default_rng(2).standard_normal((3, 3))
    np.testing.assert_allclose(K @ X.reshape(9), (A @ X + X @ A.T).reshape(9), atol=1e-14)
    np.testing.assert_allclose(K.T @ X.reshape(9), (A.T @ X + X @ A).reshape(9), atol=1e-14)


# --------------------------------------------------------------------------
# The reverse rule: the adjoint equation, and the symmetric-cotangent trap
# --------------------------------------------------------------------------


@pytest.mark.parametrize("framework", GRADS)
def test_cotangents_solve_the_adjoint_equation(framework: str) -> None:
    """``Q̄ = W`` with ``Aᵀ W + W A + P̄ = 0`` (SciPy with ``Aᵀ``) and ``Ā = W Pᵀ + Wᵀ P``."""
    A, Q, P_bar = _inputs(4)
    P, W = _scipy_lyapunov(A, Q), _scipy_lyapunov(A.T, P_bar)
    A_bar, Q_bar = GRADS[framework](A, Q, P_bar)
    np.testing.assert_allclose(Q_bar, W, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(A_bar, W @ P.T + W.T @ P, rtol=1e-11, atol=1e-13)


def _finite_difference_A_bar(A: np.ndarray, Q: np.ndarray, C: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """The gradient in ``A`` of ``sum(C ⊙ P(A, Q))`` by central differences of SciPy's solver."""
    grad = np.zeros_like(A)
    for idx in np.ndindex(*A.shape):
        E = np.zeros_like(A)
        E[idx] = h
        grad[idx] = np.sum(C * (_scipy_lyapunov(A + E, Q) - _scipy_lyapunov(A - E, Q))) / (2 * h)
    return grad


def _published_A_bar(A: np.ndarray, Q: np.ndarray, P_bar: np.ndarray) -> np.ndarray:
    """``Ā = 2 W P``: right only when ``Q`` and ``P̄`` are both symmetric."""
    return 2 * _scipy_lyapunov(A.T, P_bar) @ _scipy_lyapunov(A, Q)


def _relative_error(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.linalg.norm(got - want) / np.linalg.norm(want))


@pytest.mark.parametrize(
    "symmetric_Q, symmetric_P_bar",
    [(True, False), (False, True), (False, False)],
    ids=["non-symmetric P̄", "non-symmetric Q", "neither symmetric"],
)
def test_published_2WP_fails_without_symmetry(symmetric_Q: bool, symmetric_P_bar: bool) -> None:
    A, Q, C = _inputs(4, seed=3)
    Q = Q + Q.T if symmetric_Q else Q
    C = C + C.T if symmetric_P_bar else C  # the loss sum(C ⊙ P) hands the rule P̄ = C
    want = _finite_difference_A_bar(A, Q, C)
    for name, grads in GRADS.items():
        A_bar, _ = grads(A, Q, C)
        assert _relative_error(A_bar, want) < 1e-7, name
    assert _relative_error(_published_A_bar(A, Q, C), want) > 0.1


def test_2WP_holds_when_Q_and_P_bar_are_symmetric() -> None:
    """The published rule is not wrong, only special: both symmetric, it is the companion's ``Ā``."""
    A, Q, C = _inputs(4, seed=3)
    Q, C = Q + Q.T, C + C.T
    want = _finite_difference_A_bar(A, Q, C)
    assert _relative_error(_published_A_bar(A, Q, C), want) < 1e-7
    for name, grads in GRADS.items():
        A_bar, _ = grads(A, Q, C)
        np.testing.assert_allclose(A_bar, _published_A_bar(A, Q, C), rtol=1e-10, atol=1e-12, err_msg=name)


# --------------------------------------------------------------------------
# One factorisation per call, reused by the JVP and the VJP
# --------------------------------------------------------------------------


class _AtenRecorder(TorchDispatchMode):
    """Records the name of every aten op dispatched while active."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.ops.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def test_torch_lyapunov_factorises_once() -> None:
    A0, Q0, _ = (torch.from_numpy(a) for a in _inputs(4))
    from torch.func import jacfwd, jvp

    runs = {
        "forward+backward": lambda A, Q: torch.autograd.grad(ct.lyapunov(A, Q).sum(), (A, Q)),
        "double backward": lambda A, Q: torch.autograd.grad(
            sum(g.sum() for g in torch.autograd.grad(ct.lyapunov(A, Q).sum(), (A, Q), create_graph=True)), (A, Q)
        ),
        "jvp": lambda A, Q: jvp(ct.lyapunov, (A.detach(), Q.detach()), (A.detach(), Q.detach())),
        "jacfwd": lambda A, Q: jacfwd(ct.lyapunov, (0, 1))(A.detach(), Q.detach()),
    }
    for name, run in runs.items():
        A, Q = A0.clone().requires_grad_(), Q0.clone().requires_grad_()
        with _AtenRecorder() as rec:
            run(A, Q)
        factorisations = [o for o in rec.ops if o.startswith("linalg_lu") and o != "linalg_lu_solve"]
        assert factorisations == ["linalg_lu_factor_ex"], (name, rec.ops)
        assert "linalg_lu_solve" in rec.ops, name
        assert not {"linalg_inv", "linalg_inv_ex", "linalg_solve", "linalg_solve_ex"} & set(rec.ops), (name, rec.ops)


@pytest.mark.parametrize("vjp", [False, True])
def test_jax_lyapunov_factorises_once(vjp: bool) -> None:
    f = cj.lyapunov_vjp if vjp else cj.lyapunov
    A, Q, _ = (jnp.asarray(a) for a in _inputs(4))
    with jax.enable_x64(True):
        runs = {"value_and_grad": jax.value_and_grad(lambda A, Q: f(A, Q).sum(), (0, 1))}
        if not vjp:
            runs["jvp"] = lambda A, Q: jax.jvp(f, (A, Q), (A, Q))
        for name, run in runs.items():
            jaxpr = str(jax.make_jaxpr(run)(A, Q))
            assert len(re.findall(r"= lu ", jaxpr)) == 1, (name, jaxpr)
            assert "inv" not in re.findall(r"= (\w+)", jaxpr), name


# --------------------------------------------------------------------------
# No unique solution: λᵢ + λⱼ = 0
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "A",
    [np.zeros((2, 2)), np.diag([1.0, -1.0])],
    ids=["singular A", "eigenvalues 1 and -1 (A invertible)"],
)
def test_torch_no_unique_solution_raises(A: np.ndarray) -> None:
    with pytest.raises(ct.SingularMatrixError, match=r"lyapunov: A must have no two eigenvalues with λᵢ \+ λⱼ = 0") as info:
        ct.lyapunov(torch.tensor(A), torch.eye(2, dtype=F64))
    assert isinstance(info.value, ValueError) and isinstance(info.value, torch.linalg.LinAlgError)
    assert "is zero" in str(info.value.__cause__)  # torch's own error, chained, not parsed


@pytest.mark.parametrize("vjp", [False, True])
def test_jax_no_unique_solution_is_not_finite(vjp: bool) -> None:
    f = cj.lyapunov_vjp if vjp else cj.lyapunov
    with jax.enable_x64(True):
        P = jax.jit(f)(jnp.diag(jnp.asarray([1.0, -1.0])), jnp.eye(2))
    assert not np.isfinite(np.asarray(P)).all()
