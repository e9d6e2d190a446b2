"""The hard cases of the reductions (``logsumexp``, ``softmax``, ``norm``) that the batteries do not reach.

The registry's batteries compare the rules with the built-ins on ordinary
inputs. These tests probe where the rules deliberately differ from naive code
or from the built-ins: entries of size 1e4 in float32 and float64, ``−inf``
entries and rows of ``−inf``, and the norm at ``x = 0`` in every mode of both
frameworks. Expected values come from float64 NumPy with the shift written
out here, or are the companion's documented choices (value 0 and derivative 0
for the norm at 0; ``−inf`` with zero gradient for a row of ``−inf``).

Away from the corner, second derivatives by every composition of ``jacfwd``
and ``jacrev`` are compared with the built-ins' Hessians. PyTorch 2.13's
forward-over-forward through these Functions returns 0 (PyTorch issue
197867): a strict ``xfail`` records it, so that the day PyTorch fixes it the
test reports it.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from companion.ops.reductions import rules
from companion.xp import numpy_ops

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
import torch.autograd.forward_ad as fwAD  # noqa: E402
import torch.func as tf  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402

F64 = torch.float64
NINF = float("-inf")

# Rows with entries of size 1e4 (both signs), where exp overflows without the shift.
LARGE = np.array([
    [1e4, 1e4 - 1.0, -1e4, 1e4 - 3.0],
    [-1e4, -1e4 - 0.5, -1e4 + 2.0, -1e4],
])


def _expected(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``logsumexp`` and ``softmax`` of float64 rows, with the max shift written out (the oracle)."""
    m = x.max(axis=-1, keepdims=True)
    e = np.exp(x - m)
    return m[..., 0] + np.log(e.sum(axis=-1)), e / e.sum(axis=-1, keepdims=True)


# Tolerances: the value ≈ 1e4 carries float32's relative rounding (1e4 · 6e-8 ≈ 6e-4);
# the weights are O(1) and need not lose anything.
TOL = {"float32": dict(value=2e-3, weights=1e-6), "float64": dict(value=1e-11, weights=1e-14)}


def _torch_lse_and_grad(fn: Callable[..., Any], x: np.ndarray, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    t = torch.tensor(x, dtype=dtype, requires_grad=True)
    y = fn(t)
    (g,) = torch.autograd.grad(y.sum(), t)
    return y.detach().double().numpy(), g.double().numpy()


def _jax_lse_and_grad(fn: Callable[..., Any], x: np.ndarray, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    a = jnp.asarray(x, dtype=dtype)
    y, g = jax.value_and_grad(lambda a: fn(a).sum())(a)
    return np.asarray(fn(a), np.float64), np.asarray(g, np.float64)


# --------------------------------------------------------------------------
# Stability at ±1e4
# --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_large_entries_torch(dtype: str) -> None:
    want_y, want_s = _expected(LARGE)
    y, g = _torch_lse_and_grad(ct.logsumexp, LARGE, getattr(torch, dtype))
    assert np.isfinite(y).all() and np.isfinite(g).all()
    np.testing.assert_allclose(y, want_y, rtol=0, atol=TOL[dtype]["value"])
    np.testing.assert_allclose(g, want_s, rtol=0, atol=TOL[dtype]["weights"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_large_entries_jax(dtype: str) -> None:
    want_y, want_s = _expected(LARGE)
    with jax.enable_x64(True):
        for fn in (cj.logsumexp, cj.logsumexp_vjp):
            y, g = _jax_lse_and_grad(fn, LARGE, getattr(jnp, dtype))
            assert np.isfinite(y).all() and np.isfinite(g).all()
            np.testing.assert_allclose(y, want_y, rtol=0, atol=TOL[dtype]["value"])
            np.testing.assert_allclose(g, want_s, rtol=0, atol=TOL[dtype]["weights"])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_softmax_large_entries(dtype: str) -> None:
    _, want_s = _expected(LARGE)
    w = np.cos(np.arange(LARGE.size)).reshape(LARGE.shape)  # a cotangent
    want_x_bar = want_s * (w - (want_s * w).sum(axis=-1, keepdims=True))
    tol = TOL[dtype]["weights"]
    t = torch.tensor(LARGE, dtype=getattr(torch, dtype), requires_grad=True)
    s = ct.softmax(t)
    (x_bar,) = torch.autograd.grad(s, t, torch.tensor(w, dtype=t.dtype))
    np.testing.assert_allclose(s.detach().double().numpy(), want_s, rtol=0, atol=tol)
    np.testing.assert_allclose(x_bar.double().numpy(), want_x_bar, rtol=0, atol=tol)
    with jax.enable_x64(True):
        a, wj = jnp.asarray(LARGE, dtype=getattr(jnp, dtype)), jnp.asarray(w, dtype=getattr(jnp, dtype))
        for fn in (cj.softmax, cj.softmax_vjp):
            s_j, pullback = jax.vjp(fn, a)
            np.testing.assert_allclose(np.asarray(s_j, np.float64), want_s, rtol=0, atol=tol)
            np.testing.assert_allclose(np.asarray(pullback(wj)[0], np.float64), want_x_bar, rtol=0, atol=tol)


def test_naive_logsumexp_overflows() -> None:
    """The unshifted formula overflows at these entries: the stability tests can fail."""
    with np.errstate(over="ignore", divide="ignore"):
        naive = np.log(np.exp(LARGE).sum(axis=-1))
    assert naive.tolist() == [np.inf, -np.inf]  # exp overflows in row 0, underflows in row 1
    assert np.isfinite(_expected(LARGE)[0]).all()


# --------------------------------------------------------------------------
# −inf entries and rows of −inf
# --------------------------------------------------------------------------

MASKED = np.array([[0.0, NINF, 1.0], [NINF, NINF, NINF]])


def test_minus_inf_entries_torch() -> None:
    x = torch.tensor(MASKED, dtype=F64, requires_grad=True)
    y = ct.logsumexp(x)
    assert y[0].item() == pytest.approx(np.log(1 + np.e)) and y[1].item() == NINF
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    assert torch.isfinite(g).all() and (g[0, 1] == 0) and (g[1] == 0).all()
    np.testing.assert_allclose(g[0, [0, 2]].detach().numpy(), _expected(MASKED[:1, [0, 2]])[1][0])
    (gg,) = torch.autograd.grad(g.sum(), x)
    assert torch.isfinite(gg).all()
    # softmax: a −inf entry has weight 0 and zero derivative; a row of −inf gives s = 0
    x = torch.tensor(MASKED, dtype=F64, requires_grad=True)
    s = ct.softmax(x)
    assert (s[0, 1] == 0) and (s[1] == 0).all()
    (x_bar,) = torch.autograd.grad(s, x, torch.ones_like(s) + torch.eye(2, 3, dtype=F64))
    assert torch.isfinite(x_bar).all() and x_bar[0, 1] == 0 and (x_bar[1] == 0).all()
    # forward mode and torch.func
    primal = torch.tensor(MASKED, dtype=F64)
    with fwAD.dual_level():
        dual = fwAD.make_dual(primal, torch.ones_like(primal))
        y_dot = fwAD.unpack_dual(ct.logsumexp(dual)).tangent
        s_dot = fwAD.unpack_dual(ct.softmax(dual)).tangent
    assert y_dot[0].item() == pytest.approx(1.0) and y_dot[1].item() == 0
    assert torch.isfinite(s_dot).all() and (s_dot[1] == 0).all()
    for transform in (tf.jacfwd, tf.jacrev):
        assert torch.isfinite(transform(ct.softmax)(primal)).all()
    for row in primal:
        H = tf.hessian(ct.logsumexp)(row)
        assert torch.isfinite(H).all() and (H[1] == 0).all() and (H[:, 1] == 0).all()


def test_minus_inf_entries_jax() -> None:
    with jax.enable_x64(True):
        x = jnp.asarray(MASKED)
        for lse, sm in ((cj.logsumexp, cj.softmax), (cj.logsumexp_vjp, cj.softmax_vjp)):
            y = lse(x)
            assert float(y[1]) == NINF
            g = jax.grad(lambda x: lse(x).sum())(x)
            assert jnp.isfinite(g).all() and g[0, 1] == 0 and (g[1] == 0).all()
            H = jax.jacrev(jax.grad(lambda x: lse(x).sum()))(x)
            assert jnp.isfinite(H).all()
            s, pullback = jax.vjp(sm, x)
            assert (s[1] == 0).all() and s[0, 1] == 0
            (x_bar,) = pullback(jnp.ones_like(s) + jnp.eye(2, 3))
            assert jnp.isfinite(x_bar).all() and x_bar[0, 1] == 0 and (x_bar[1] == 0).all()
        _, y_dot = jax.jvp(cj.logsumexp, (x,), (jnp.ones_like(x),))
        assert float(y_dot[0]) == pytest.approx(1.0) and float(y_dot[1]) == 0
        assert jnp.isfinite(jax.jacfwd(cj.softmax)(x)).all()
        assert jnp.isfinite(jax.hessian(lambda x: cj.logsumexp(x).sum())(x)).all()


# --------------------------------------------------------------------------
# The norm at x = 0: value 0 and derivative 0 in every mode, never NaN
# --------------------------------------------------------------------------

ZERO = np.zeros(3)
BATCH = np.array([[3.0, 0.0, 4.0], [0.0, 0.0, 0.0]])  # one row at the corner


def _zero(a: Any) -> bool:
    """Finite and exactly zero (a NaN fails both)."""
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    return bool(np.isfinite(a).all() and (a == 0).all())


def test_norm_at_zero_torch() -> None:
    x = torch.zeros(3, dtype=F64, requires_grad=True)
    r = ct.norm(x)
    (g,) = torch.autograd.grad(r, x, create_graph=True)
    (gg,) = torch.autograd.grad(g.sum(), x)  # reverse over reverse
    assert _zero(r) and _zero(g) and _zero(gg)
    with fwAD.dual_level():
        dual = fwAD.make_dual(torch.zeros(3, dtype=F64), torch.ones(3, dtype=F64))
        r_dot = fwAD.unpack_dual(ct.norm(dual)).tangent
    assert _zero(r_dot)
    z = torch.zeros(3, dtype=F64)
    assert _zero(tf.grad(ct.norm)(z))
    assert _zero(tf.jvp(ct.norm, (z,), (torch.ones(3, dtype=F64),))[1])
    for transform in (tf.jacfwd, tf.jacrev, tf.hessian, lambda f: tf.jacrev(tf.jacrev(f))):
        assert _zero(transform(ct.norm)(z))


def test_norm_at_zero_jax() -> None:
    z, ones = jnp.zeros(3), jnp.ones(3)
    assert _zero(cj.norm(z)) and _zero(cj.norm_vjp(z))
    assert _zero(jax.grad(cj.norm)(z)) and _zero(jax.jvp(cj.norm, (z,), (ones,))[1])
    for transform in (jax.jacfwd, jax.jacrev, jax.hessian, lambda f: jax.jacrev(jax.jacrev(f))):
        assert _zero(transform(cj.norm)(z))
    # the custom_vjp version: reverse mode, and reverse over reverse
    assert _zero(jax.grad(cj.norm_vjp)(z))
    assert _zero(jax.jacrev(jax.grad(cj.norm_vjp))(z))
    assert _zero(jax.jit(jax.jacrev(jax.grad(cj.norm_vjp)))(z))


def test_norm_batch_with_a_zero_row() -> None:
    """The zero row gets the zero subgradient; the other row its true gradient ``x / ‖x‖``."""
    want = np.array([[0.6, 0.0, 0.8], [0.0, 0.0, 0.0]])
    x = torch.tensor(BATCH, dtype=F64, requires_grad=True)
    (g,) = torch.autograd.grad(ct.norm(x).sum(), x)
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-15, atol=0)
    for fn in (cj.norm, cj.norm_vjp):
        with jax.enable_x64(True):
            g = jax.grad(lambda x: fn(x).sum())(jnp.asarray(BATCH))
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-15, atol=0)


def test_naive_direction_is_nan_at_zero() -> None:
    """``x / ‖x‖``, the naive rule, is ``0 / 0`` at the corner: what the double ``where`` prevents."""
    with np.errstate(invalid="ignore"):
        naive = ZERO / rules.norm(ZERO, numpy_ops)
    assert np.isnan(naive).all()
    np.testing.assert_array_equal(rules.norm_direction(ZERO, rules.norm(ZERO, numpy_ops), numpy_ops), ZERO)


def test_plus_inf_entry_is_not_covered() -> None:
    """The documented limit: a ``+inf`` entry gives ``logsumexp = +inf`` and NaN in the gradient."""
    x = torch.tensor([0.0, np.inf], dtype=F64, requires_grad=True)
    y = ct.logsumexp(x)
    (g,) = torch.autograd.grad(y, x)
    assert y.item() == np.inf and torch.isnan(g).any()
    with jax.enable_x64(True):
        assert bool(jnp.isnan(jax.grad(cj.logsumexp)(jnp.asarray([0.0, np.inf]))).any())


# --------------------------------------------------------------------------
# Second derivatives away from the corner, by every composition of both frameworks
# --------------------------------------------------------------------------

X_H = np.array([0.3, -1.2, 2.0, 0.7])
W_H = np.cos(np.arange(4.0))  # weights that make softmax's output a scalar

# name: (companion torch, torch built-in, companion jax custom_jvp, companion jax custom_vjp)
SECOND = {
    "logsumexp": (ct.logsumexp, lambda a: torch.logsumexp(a, -1), cj.logsumexp, cj.logsumexp_vjp),
    "softmax": (
        lambda a: (ct.softmax(a) * torch.from_numpy(W_H)).sum(),
        lambda a: (torch.softmax(a, -1) * torch.from_numpy(W_H)).sum(),
        lambda a: (cj.softmax(a) * W_H).sum(),
        lambda a: (cj.softmax_vjp(a) * W_H).sum(),
    ),
    "norm": (ct.norm, lambda a: torch.linalg.vector_norm(a, dim=-1), cj.norm, cj.norm_vjp),
}


def _hessian_of_builtin(name: str) -> np.ndarray:
    return tf.hessian(SECOND[name][1])(torch.tensor(X_H, dtype=F64)).numpy()


@pytest.mark.parametrize("name", SECOND)
@pytest.mark.parametrize("route", ["jacfwd of jacrev", "jacrev of jacfwd", "jacrev of jacrev"])
def test_torch_second_derivatives(name: str, route: str) -> None:
    compose = {
        "jacfwd of jacrev": tf.hessian,
        "jacrev of jacfwd": lambda f: tf.jacrev(tf.jacfwd(f)),
        "jacrev of jacrev": lambda f: tf.jacrev(tf.jacrev(f)),
    }[route]
    got = compose(SECOND[name][0])(torch.tensor(X_H, dtype=F64)).numpy()
    np.testing.assert_allclose(got, _hessian_of_builtin(name), rtol=1e-13, atol=1e-15)


@pytest.mark.xfail(
    strict=True,
    reason="PyTorch 2.13: forward-over-forward through an autograd.Function whose jvp uses "
    "ordinary operations returns 0 (pytorch/pytorch#197867)",
)
@pytest.mark.parametrize("name", SECOND)
def test_torch_forward_over_forward(name: str) -> None:
    got = tf.jacfwd(tf.jacfwd(SECOND[name][0]))(torch.tensor(X_H, dtype=F64)).numpy()
    np.testing.assert_allclose(got, _hessian_of_builtin(name), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", SECOND)
def test_torch_forward_over_forward_is_zero_today(name: str) -> None:
    """What the strict xfail above records (and the chapter shows): exactly 0, not a rounding error."""
    got = tf.jacfwd(tf.jacfwd(SECOND[name][0]))(torch.tensor(X_H, dtype=F64))
    assert bool((got == 0).all())


@pytest.mark.parametrize("name", SECOND)
def test_jax_second_derivatives(name: str) -> None:
    """Every composition of the custom_jvp version, and reverse over reverse of the custom_vjp one."""
    want = _hessian_of_builtin(name)
    _, _, f_jvp, f_vjp = SECOND[name]
    with jax.enable_x64(True):
        x = jnp.asarray(X_H)
        for outer in (jax.jacfwd, jax.jacrev):
            for inner in (jax.jacfwd, jax.jacrev):
                np.testing.assert_allclose(np.asarray(outer(inner(f_jvp))(x)), want, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(np.asarray(jax.jacrev(jax.jacrev(f_vjp))(x)), want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("fn", [cj.logsumexp_vjp, cj.softmax_vjp, cj.norm_vjp])
def test_jax_custom_vjp_versions_are_reverse_mode_only(fn: Callable[..., Any]) -> None:
    """What the JAX module's docstring says: ``jax.jvp`` raises a TypeError on the custom_vjp versions."""
    with pytest.raises(TypeError, match=r"can't apply forward-mode autodiff \(jvp\) to a custom_vjp function"):
        jax.jvp(fn, (jnp.ones(3),), (jnp.ones(3),))
