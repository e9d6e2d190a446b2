"""Hard cases of ``odeint`` (the odes family): accuracy against closed forms, the order of the
continuous adjoint's distance from the discrete derivative, closures, pytrees, bad inputs,
the peers torchdiffeq and diffrax as independent oracles, and the benchmark's smoke run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from companion.ops.odes.entries import hopf, hopf_reference

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
jnp = jax.numpy

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PEERS = "the peers extra is not installed: pip install -e '.[peers]' (make test installs it)"

X0, MU, OMEGA, T = np.array([0.3, -0.2]), 0.3, 0.8, np.array([0.1, 0.6, 1.2, 2.0])


def _t(a: object) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _torch_grads(fn, steps: int = 200) -> tuple[np.ndarray, ...]:
    """Gradients of ``Σ cos(ys)`` with respect to (x0, mu, omega, t)."""
    args = [_t(X0), _t(MU), _t(OMEGA), _t(T)]
    ys = fn(hopf(torch), args[0], args[3], args[1], args[2], steps_per_interval=steps)
    grads = torch.autograd.grad(torch.cos(ys).sum(), args)
    return tuple(g.numpy() for g in grads)


def _reference_grads() -> tuple[np.ndarray, ...]:
    args = [_t(X0), _t(MU), _t(OMEGA), _t(T)]
    ys = hopf_reference(torch, *args)
    return tuple(g.numpy() for g in torch.autograd.grad(torch.cos(ys).sum(), args))


def test_values_and_gradients_match_the_closed_form_in_both_frameworks() -> None:
    """Rates up to ~1, h = 0.0025..0.004: RK4 and both derivatives agree with the closed form to 1e-9."""
    want = _reference_grads()
    for got in (_torch_grads(ct.odeint), _torch_grads(ct.odeint_discrete)):
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-11)
    with jax.enable_x64(True):
        f = hopf(jnp)
        args = (jnp.asarray(X0), jnp.asarray(MU), jnp.asarray(OMEGA), jnp.asarray(T))
        ref = jax.grad(lambda *a: jnp.cos(hopf_reference(jnp, *a)).sum(), (0, 1, 2, 3))(*args)
        for public in (cj.odeint, cj.odeint_vjp, cj.odeint_discrete):
            loss = lambda x0, mu, om, t, public=public: jnp.cos(public(f, x0, t, mu, om, steps_per_interval=200)).sum()
            got = jax.jit(jax.grad(loss, (0, 1, 2, 3)))(*args)
            for g, w in zip(got, ref):
                np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-9, atol=1e-11)


def test_continuous_adjoint_differs_from_the_discrete_derivative_at_fourth_order() -> None:
    """‖adjoint gradient − discrete gradient‖ shrinks like h⁴: the log-log slope lies in [3.5, 4.5]."""
    steps = np.array([5, 10, 20, 40])
    diffs = []
    for n in steps:
        a, d = _torch_grads(ct.odeint, int(n)), _torch_grads(ct.odeint_discrete, int(n))
        diffs.append(np.sqrt(sum(((p - q) ** 2).sum() for p, q in zip(a, d))))
    slope = -np.polyfit(np.log(steps), np.log(diffs), 1)[0]
    assert 3.5 <= slope <= 4.5, (slope, diffs)
    assert diffs[0] > 1e-7  # the two derivatives really differ at coarse steps


def test_a_wrong_sign_adjoint_is_caught() -> None:
    """The adjoint integrated with ȧ = +(∂f/∂x)ᵀa (the classic slip) gives a wrong x0 gradient."""
    from companion.ops.odes import rules
    from companion.xp.torch import torch_ops

    f = hopf(torch)
    t, x0, mu, om = (torch.tensor(a, dtype=torch.float64) for a in (T, X0, MU, OMEGA))
    ys = ct.odeint_discrete(f, x0, t, mu, om)
    ys_bar = torch.ones_like(ys)

    def wrong_vjp(x, tau, params, a):
        fx, pull = torch.func.vjp(lambda x, *p: f(x, tau, *p), x, *params)
        x_bar, *p_bar = pull(a)
        return fx, -x_bar, tuple(p_bar)

    right = rules.odeint_cotangents(f, ct_f_vjp(f), ys, t, (mu, om), ys_bar, 100, torch_ops)[0]
    wrong = rules.odeint_cotangents(f, wrong_vjp, ys, t, (mu, om), ys_bar, 100, torch_ops)[0]
    want = _reference_grads_of_sum()
    np.testing.assert_allclose(right.numpy(), want, rtol=1e-8)
    assert np.abs(wrong.numpy() - want).max() > 1e-2


def ct_f_vjp(f):
    from companion.ops.odes.torch import _f_vjp

    return _f_vjp(f)


def _reference_grads_of_sum() -> np.ndarray:
    x0 = _t(X0)
    ys = hopf_reference(torch, x0, torch.tensor(MU, dtype=torch.float64), torch.tensor(OMEGA, dtype=torch.float64), torch.tensor(T, dtype=torch.float64))
    return torch.autograd.grad(ys.sum(), x0)[0].numpy()


def test_time_cotangents_are_f_at_the_outputs() -> None:
    """t̄_i = ⟨ȳ_i, f(y_i, t_i)⟩ for i ≥ 1 and t̄_0 = −⟨a(t_0⁺), f(y_0, t_0)⟩, by central differences."""
    f = hopf(torch)
    t = _t(T)
    ys = ct.odeint(f, torch.tensor(X0, dtype=torch.float64), t, torch.tensor(MU, dtype=torch.float64), torch.tensor(OMEGA, dtype=torch.float64), steps_per_interval=200)
    w = torch.cos(torch.arange(ys.numel(), dtype=torch.float64)).reshape(ys.shape)
    (t_bar,) = torch.autograd.grad((ys * w).sum(), t)
    fs = torch.stack([f(y, s, torch.tensor(MU, dtype=torch.float64), torch.tensor(OMEGA, dtype=torch.float64)) for y, s in zip(ys.detach(), torch.tensor(T, dtype=torch.float64))])
    np.testing.assert_allclose(t_bar[1:].numpy(), (w * fs).sum(-1)[1:].numpy(), rtol=1e-12)
    eps = 1e-6
    fd = []
    for i in range(len(T)):
        e = np.zeros(len(T))
        e[i] = eps
        plus = hopf_reference(np, X0, MU, OMEGA, T + e)
        minus = hopf_reference(np, X0, MU, OMEGA, T - e)
        fd.append(((plus - minus) / (2 * eps) * w.numpy()).sum())
    np.testing.assert_allclose(t_bar.numpy(), fd, rtol=1e-7, atol=1e-9)


def test_memory_of_the_adjoint_does_not_grow_with_the_steps() -> None:
    """Bytes saved for backward: constant for the adjoint, linear in the steps for backprop through RK4."""
    from benchmarks.ode import saved_bytes_torch

    adjoint = [saved_bytes_torch("adjoint", n) for n in (10, 100)]
    discrete = [saved_bytes_torch("discrete", n) for n in (10, 100)]
    assert adjoint[0] == adjoint[1]
    assert discrete[1] > 5 * discrete[0]


def test_bad_inputs() -> None:
    f = hopf(torch)
    x0, t, mu, om = torch.tensor(X0, dtype=torch.float64), torch.tensor(T, dtype=torch.float64), torch.tensor(MU, dtype=torch.float64), torch.tensor(OMEGA, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"odeint: f must be a callable f\(x, t, \*params\); got int"):
        ct.odeint(3, x0, t, mu, om)
    with pytest.raises(TypeError, match=r"odeint: f must be a callable .*; got int"):
        cj.odeint(3, jnp.asarray(X0), jnp.asarray(T))
    with pytest.raises(ValueError, match=r"odeint: t must be strictly increasing; got \[0.0, 1.0, 0.5\]"):
        ct.odeint(f, x0, torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64), mu, om)
    with pytest.raises(ValueError, match=r"odeint: steps_per_interval must be at least 1; got 0"):
        ct.odeint(f, x0, t, mu, om, steps_per_interval=0)
    with pytest.raises(TypeError, match=r"odeint: steps_per_interval must be an int; got float"):
        cj.odeint_vjp(hopf(jnp), jnp.asarray(X0), jnp.asarray(T), MU, OMEGA, steps_per_interval=10.0)
    with jax.enable_x64(True):
        g = hopf(jnp)
        bad_t = jnp.asarray([0.0, 1.0, 0.5])
        with pytest.raises(ValueError, match=r"odeint: t must be strictly increasing"):
            cj.odeint(g, jnp.asarray(X0), bad_t, jnp.asarray(MU), jnp.asarray(OMEGA))
        # under jit the values of t are unknown: the states come back NaN
        ys = jax.jit(lambda t: cj.odeint_vjp(g, jnp.asarray(X0), t, jnp.asarray(MU), jnp.asarray(OMEGA)))(bad_t)
        assert np.isnan(np.asarray(ys)).all()
        ys = jax.jit(lambda t: cj.odeint(g, jnp.asarray(X0), t, jnp.asarray(MU), jnp.asarray(OMEGA)))(jnp.asarray(T))
        assert np.isfinite(np.asarray(ys)).all()


def test_closures_torch_drops_the_gradient_jax_keeps_it() -> None:
    """PyTorch: a tensor f captures gets no gradient (only *params do). JAX: closure_convert passes it on."""
    k = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    x0 = torch.ones(1, dtype=torch.float64, requires_grad=True)
    ys = ct.odeint(lambda x, t: -k * x, x0, t)
    ys[-1].sum().backward()
    assert k.grad is None
    np.testing.assert_allclose(x0.grad.numpy(), np.exp(-0.7), rtol=1e-10)
    with jax.enable_x64(True):
        def loss(k: jax.Array) -> jax.Array:
            return cj.odeint_vjp(lambda x, t: -k * x, jnp.ones(1), jnp.asarray([0.0, 1.0]))[-1, 0]

        np.testing.assert_allclose(jax.grad(loss)(0.7), -np.exp(-0.7), rtol=1e-9)
        np.testing.assert_allclose(jax.jit(jax.grad(loss))(0.7), -np.exp(-0.7), rtol=1e-9)


def test_jax_params_may_be_pytrees() -> None:
    with jax.enable_x64(True):
        def f(x, t, p):
            return -p["k"] * x + p["c"][0]

        p = {"k": jnp.asarray(0.5), "c": (jnp.asarray(0.2),)}
        t = jnp.asarray([0.0, 1.0])
        for public in (cj.odeint, cj.odeint_vjp):
            g = jax.grad(lambda p: public(f, jnp.ones(1), t, p)[-1, 0])(p)
            # x(1) = c/k + (1 − c/k) e^{−k}
            dk = jax.grad(lambda k: (0.2 / k + (1 - 0.2 / k) * jnp.exp(-k)))(0.5)
            dc = (1 - np.exp(-0.5)) / 0.5
            np.testing.assert_allclose(g["k"], dk, rtol=1e-9)
            np.testing.assert_allclose(g["c"][0], dc, rtol=1e-9)


def test_torchdiffeq_adjoint_agrees() -> None:
    """torchdiffeq.odeint_adjoint (its rk4 is the 3/8 rule) on the same grid: gradients within 1e-8."""
    torchdiffeq = pytest.importorskip("torchdiffeq", reason=PEERS)
    steps = 200
    f = hopf(torch)
    args = [_t(X0), _t(MU), _t(OMEGA), _t(T)]

    class Func(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mu, self.omega = torch.nn.Parameter(args[1]), torch.nn.Parameter(args[2])

        def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
            return f(x, t, self.mu, self.omega)

    func = Func()

    def grid(_f, _y0, t):  # `steps` steps between consecutive times, each time hit exactly
        pieces = [t[:1]]
        for i in range(len(t) - 1):
            inner = t[i] + (t[i + 1] - t[i]) * torch.arange(1, steps, dtype=t.dtype) / steps
            pieces += [inner, t[i + 1 : i + 2]]
        return torch.cat(pieces)

    ys_peer = torchdiffeq.odeint_adjoint(func, args[0], args[3], method="rk4",
                                         options={"grid_constructor": grid})
    peer = torch.autograd.grad(torch.cos(ys_peer).sum(), (args[0], func.mu, func.omega, args[3]))
    ours = _torch_grads(ct.odeint, steps)
    for g, w in zip(ours, peer):
        np.testing.assert_allclose(g, w.detach().numpy(), rtol=1e-8, atol=1e-10)


def test_diffrax_backsolve_adjoint_agrees() -> None:
    """diffrax (Tsit5, constant steps of 1/800, BacksolveAdjoint and RecursiveCheckpointAdjoint) at
    equally spaced times: gradients within 1e-8 of companion.jax.odeint and odeint_vjp."""
    diffrax = pytest.importorskip("diffrax", reason=PEERS)
    times = np.array([0.1, 0.6, 1.1, 1.6])
    with jax.enable_x64(True):
        f = hopf(jnp)
        args = (jnp.asarray(X0), jnp.asarray(MU), jnp.asarray(OMEGA), jnp.asarray(times))

        def peer(adjoint):
            def loss(x0, mu, om):
                sol = diffrax.diffeqsolve(
                    diffrax.ODETerm(lambda t, y, a: f(y, t, *a)), diffrax.Tsit5(), times[0], times[-1],
                    0.5 / 400, x0, args=(mu, om), saveat=diffrax.SaveAt(ts=args[3]),
                    stepsize_controller=diffrax.ConstantStepSize(), adjoint=adjoint, max_steps=4096,
                )
                return jnp.cos(sol.ys).sum()

            return jax.grad(loss, (0, 1, 2))(*args[:3])

        for adjoint in (diffrax.BacksolveAdjoint(solver=diffrax.Tsit5()), diffrax.RecursiveCheckpointAdjoint()):
            want = peer(adjoint)
            for public in (cj.odeint, cj.odeint_vjp):
                got = jax.grad(lambda x0, mu, om: jnp.cos(public(f, x0, args[3], mu, om, steps_per_interval=200)).sum(),
                               (0, 1, 2))(*args[:3])
                for g, w in zip(got, want):
                    np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-8, atol=1e-10)


def test_benchmark_quick_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "benchmarks.ode", "--quick"], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "adjoint" in out.stdout


def test_jax_captured_array_of_another_dtype_and_f_of_another_dtype() -> None:
    """A captured float32 value in a float64 problem gets its (float32) gradient from both rules; an f that
    returns another dtype than x0's is refused with a clear error (the RK4 loop keeps one dtype)."""
    with jax.enable_x64(True):
        for public in (cj.odeint, cj.odeint_vjp):
            def loss(k, public=public):
                return public(lambda x, t: -k * x, jnp.ones(1), jnp.asarray([0.0, 1.0]))[-1, 0]

            for grad in (jax.grad(loss), jax.jit(jax.grad(loss))):
                g = grad(jnp.float32(0.7))
                assert g.dtype == jnp.float32
                np.testing.assert_allclose(g, -np.exp(-0.7), rtol=1e-6)
        with pytest.raises(TypeError, match=r"odeint: f\(x0, t\[0\], \*params\) must return x0's dtype float32; "
                                            r"it returned float64"):
            cj.odeint_vjp(lambda x, t: x * jnp.float64(2.0), jnp.ones(1, jnp.float32), jnp.asarray([0.0, 1.0], jnp.float32))
