"""The hard cases of quad_form, inv and logdet that the registry's batteries do not single out.

* ``quad_form`` with a non-symmetric ``Q``: the classic ``x̄ = 2 ȳ Q x`` is wrong
  there (and right for a symmetric ``Q``, which is why tests with symmetric
  matrices miss it); the companion's ``ȳ (Q + Qᵀ) x`` is right.
* ``inv`` and ``logdet`` factorise once, in every mode, in both frameworks.
* ``logdet`` with ``det A < 0`` agrees with the frameworks' ``slogdet`` (value,
  gradient and tangent).
* The VJPs of ``inv`` and ``logdet`` with their transposes forgotten fail the
  checker for a non-symmetric ``A`` and pass it for a symmetric one.
* A singular ``A`` raises in PyTorch and gives non-finite values in JAX.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from companion.ops.linalg import rules
from companion.registry import OPS_BY_NAME
from companion.testing import RuleCheckError, check_rule
from companion.xp import numpy_ops

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from torch.utils._python_dispatch import TorchDispatchMode  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402

F64 = torch.float64
_rng = np.random.default_rng(2026)
X = _rng.standard_normal(4)
Q_NONSYMMETRIC = _rng.standard_normal((4, 4))
Q_SYMMETRIC = Q_NONSYMMETRIC + Q_NONSYMMETRIC.T


def _negative_det_matrix() -> np.ndarray:
    (A,) = OPS_BY_NAME["logdet"].example("negative_det")
    assert np.linalg.det(A) < 0
    return A


# --------------------------------------------------------------------------
# quad_form: (Q + Qᵀ) x, not 2 Q x
# --------------------------------------------------------------------------


def _quad_form(x: np.ndarray, Q: np.ndarray) -> np.ndarray:
    return rules.quad_form(x, Q, numpy_ops)


def _vjp_right(primals: tuple[np.ndarray, np.ndarray], y_bar: np.ndarray) -> tuple[np.ndarray, ...]:
    return rules.quad_form_cotangents(*primals, y_bar, numpy_ops)  # type: ignore[return-value]


def _vjp_two_Q_x(primals: tuple[np.ndarray, np.ndarray], y_bar: np.ndarray) -> tuple[np.ndarray, ...]:
    x, Q = primals
    return 2 * y_bar * (Q @ x), y_bar * np.outer(x, x)  # the classic mistake: assumes Q = Qᵀ


def test_quad_form_two_Q_x_fails_the_checker_for_a_nonsymmetric_Q() -> None:
    check_rule(_quad_form, (X, Q_NONSYMMETRIC), vjp=_vjp_right, arg_names=("x", "Q"))
    with pytest.raises(RuleCheckError, match=r"x"):
        check_rule(_quad_form, (X, Q_NONSYMMETRIC), vjp=_vjp_two_Q_x, arg_names=("x", "Q"))
    # ... and passes it for a symmetric Q: tests with symmetric matrices cannot see it.
    check_rule(_quad_form, (X, Q_SYMMETRIC), vjp=_vjp_two_Q_x, arg_names=("x", "Q"))


def test_quad_form_gradients_match_the_builtin_and_not_two_Q_x() -> None:
    x = torch.tensor(X, requires_grad=True)
    Q = torch.tensor(Q_NONSYMMETRIC, requires_grad=True)
    ours = torch.autograd.grad(ct.quad_form(x, Q), (x, Q))
    builtin = torch.autograd.grad(x @ Q @ x, (x, Q))
    for got, want in zip(ours, builtin):
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    two_Q_x = 2 * Q_NONSYMMETRIC @ X
    assert not np.allclose(ours[0].numpy(), two_Q_x, rtol=1e-3)
    with jax.enable_x64(True):
        for f in (cj.quad_form, cj.quad_form_vjp):
            x_bar, Q_bar = jax.grad(f, (0, 1))(jnp.asarray(X), jnp.asarray(Q_NONSYMMETRIC))
            np.testing.assert_allclose(x_bar, (Q_NONSYMMETRIC + Q_NONSYMMETRIC.T) @ X, rtol=1e-12)
            np.testing.assert_allclose(Q_bar, np.outer(X, X), rtol=1e-12)
            assert not np.allclose(x_bar, two_Q_x, rtol=1e-3)


# --------------------------------------------------------------------------
# inv and logdet: forgotten transposes pass with symmetric matrices only
# --------------------------------------------------------------------------


def _inv(A: np.ndarray) -> np.ndarray:
    return rules.inv(A, numpy_ops)


def _logdet(A: np.ndarray) -> np.ndarray:
    return rules.logdet(A, numpy_ops)[0]


def _inv_vjp_untransposed(primals: tuple[np.ndarray], Y_bar: np.ndarray) -> tuple[np.ndarray]:
    Y = np.linalg.inv(primals[0])
    return (-Y @ Y_bar @ Y,)  # the mistake: −Y Ȳ Y instead of −Yᵀ Ȳ Yᵀ


def _logdet_vjp_untransposed(primals: tuple[np.ndarray], y_bar: np.ndarray) -> tuple[np.ndarray]:
    return (y_bar * np.linalg.inv(primals[0]),)  # the mistake: A⁻¹ instead of A⁻ᵀ


@pytest.mark.parametrize(
    "f, wrong_vjp",
    [(_inv, _inv_vjp_untransposed), (_logdet, _logdet_vjp_untransposed)],
    ids=["inv", "logdet"],
)
def test_forgotten_transposes_fail_the_checker_for_a_nonsymmetric_A(f, wrong_vjp) -> None:  # type: ignore[no-untyped-def]
    A = _negative_det_matrix()
    with pytest.raises(RuleCheckError, match=r"dot-product test .* for input A"):
        check_rule(f, (A,), vjp=wrong_vjp, arg_names=("A",))
    # ... and pass it for a symmetric A: tests with symmetric matrices cannot see them.
    check_rule(f, (A + A.T,), vjp=wrong_vjp, arg_names=("A",))


# --------------------------------------------------------------------------
# inv and logdet: one factorisation in every mode
# --------------------------------------------------------------------------


class _AtenRecorder(TorchDispatchMode):
    """Records the name of every aten op dispatched while active."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        self.ops.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


def _scalar(out: object) -> object:
    return out.sum() if out.ndim else out  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["inv", "logdet"])
def test_torch_factorises_once(name: str) -> None:
    fn = getattr(ct, name)
    (A0,) = (torch.from_numpy(a) for a in OPS_BY_NAME[name].example("negative_det"))
    from torch.func import jacfwd, jvp

    def double_backward(A: object) -> object:
        (g,) = torch.autograd.grad(_scalar(fn(A)), A, create_graph=True)
        return torch.autograd.grad((g * g).sum(), A)

    runs = {
        "forward+backward": lambda A: torch.autograd.grad(_scalar(fn(A)), A),
        "double backward": double_backward,
        "jvp": lambda A: jvp(fn, (A.detach(),), (A.detach(),)),
        "jacfwd": lambda A: jacfwd(fn)(A.detach()),
    }
    for mode, run in runs.items():
        A = A0.clone().requires_grad_()
        with _AtenRecorder() as rec:
            run(A)
        factorisations = [o for o in rec.ops if o.startswith("linalg_lu") and o != "linalg_lu_solve"]
        assert factorisations == ["linalg_lu_factor_ex"], (mode, rec.ops)
        builtins = {"linalg_inv", "linalg_inv_ex", "linalg_solve", "linalg_solve_ex", "linalg_slogdet", "_linalg_slogdet"}
        assert not builtins & set(rec.ops), (mode, rec.ops)


@pytest.mark.parametrize("vjp", [False, True])
@pytest.mark.parametrize("name", ["inv", "logdet"])
def test_jax_factorises_once(name: str, vjp: bool) -> None:
    f = getattr(cj, name + ("_vjp" if vjp else ""))
    (A,) = (jnp.asarray(a) for a in OPS_BY_NAME[name].example("negative_det"))
    with jax.enable_x64(True):
        runs = {"value_and_grad": jax.value_and_grad(lambda A: f(A).sum())}
        if not vjp:
            runs["jvp"] = lambda A: jax.jvp(f, (A,), (A,))
        for mode, run in runs.items():
            jaxpr = str(jax.make_jaxpr(run)(A))
            assert len(re.findall(r"= lu ", jaxpr)) == 1, (mode, jaxpr)
            assert not {"inv", "det", "slogdet"} & set(re.findall(r"= (\w+)", jaxpr)), mode


# --------------------------------------------------------------------------
# logdet with det A < 0
# --------------------------------------------------------------------------


def test_logdet_negative_determinant_matches_slogdet() -> None:
    A_np = _negative_det_matrix()
    A = torch.tensor(A_np, requires_grad=True)
    sign, want = torch.linalg.slogdet(A)
    assert sign.item() == -1.0
    (want_grad,) = torch.autograd.grad(want, A)
    got = ct.logdet(A)
    (got_grad,) = torch.autograd.grad(got, A)
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got_grad, want_grad, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got_grad, torch.linalg.inv(A).mT.detach(), rtol=1e-12, atol=1e-12)
    with jax.enable_x64(True):
        sign_j, want_j = jnp.linalg.slogdet(jnp.asarray(A_np))
        assert float(sign_j) == -1.0
        want_grad_j = jax.grad(lambda A: jnp.linalg.slogdet(A)[1])(jnp.asarray(A_np))
        for f in (cj.logdet, cj.logdet_vjp):
            np.testing.assert_allclose(f(A_np), want_j, rtol=1e-12)
            np.testing.assert_allclose(jax.grad(f)(jnp.asarray(A_np)), want_grad_j, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            jax.jvp(cj.logdet, (jnp.asarray(A_np),), (jnp.eye(4),))[1], np.trace(np.linalg.inv(A_np)), rtol=1e-12
        )
    # Forward mode in PyTorch: ẏ = tr(A⁻¹ Ȧ), as slogdet's, with a non-symmetric Ȧ.
    A_dot = torch.from_numpy(np.random.default_rng(21).standard_normal((4, 4)))
    A0 = torch.from_numpy(A_np)
    got_value, got_tangent = torch.func.jvp(ct.logdet, (A0,), (A_dot,))
    want_value, want_tangent = torch.func.jvp(lambda A: torch.linalg.slogdet(A)[1], (A0,), (A_dot,))
    torch.testing.assert_close(got_value, want_value, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(got_tangent, want_tangent, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(
        got_tangent, torch.trace(torch.linalg.solve(A0, A_dot)), rtol=1e-12, atol=1e-12
    )


def test_logdet_without_abs_would_be_nan_for_a_negative_determinant() -> None:
    """Why the primal takes |U_ii|: log det A is nan for det A < 0."""
    A = _negative_det_matrix()
    with np.errstate(invalid="ignore"):
        assert np.isnan(np.log(np.linalg.det(A)))
    assert np.isfinite(ct.logdet(torch.from_numpy(A)).item())


# --------------------------------------------------------------------------
# Singular A
# --------------------------------------------------------------------------

SINGULAR = [[1.0, 2.0], [2.0, 4.0]]


@pytest.mark.parametrize("name", ["inv", "logdet"])
def test_torch_singular_raises(name: str) -> None:
    A = torch.tensor(SINGULAR, dtype=F64)
    with pytest.raises(ct.SingularMatrixError, match=rf"{name}: A must be non-singular; .*exactly zero pivot") as info:
        getattr(ct, name)(A)
    assert "U[2,2] is zero" in str(info.value.__cause__)
    batch = torch.stack([torch.eye(2, dtype=F64), A])
    with pytest.raises(ct.SingularMatrixError, match=rf"{name}: .*exactly zero pivot"):
        torch.func.vmap(getattr(ct, name))(batch)


def test_jax_singular_gives_non_finite() -> None:
    """Documented: JAX cannot raise under jit; inv gives inf/nan, logdet -inf, and derivatives inf/nan."""
    A = jnp.asarray(SINGULAR)
    with jax.enable_x64(True):
        for f in (cj.inv, cj.inv_vjp):
            for g in (f, jax.jit(f)):
                assert not bool(jnp.isfinite(g(A)).all())
        for f in (cj.logdet, cj.logdet_vjp):
            for g in (f, jax.jit(f)):
                assert float(g(A)) == -np.inf
        for f in (cj.inv, cj.inv_vjp, cj.logdet, cj.logdet_vjp):
            assert not bool(jnp.isfinite(jax.grad(lambda A: f(A).sum())(A)).all())
