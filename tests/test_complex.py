"""The complex ops' gradients against the frameworks' built-ins, in each framework's convention.

PyTorch's gradient of a real loss ``L`` of ``z = a + ib`` is ``∂L/∂a + i ∂L/∂b``;
JAX's is its conjugate. ``abs2`` and ``phase_mul`` must agree with the built-in
expressions (``z.abs() ** 2``, ``torch.exp(1j * theta) * z`` and their ``jax.numpy``
twins) under every transform, the cotangent of the real ``theta`` must be real with
``theta``'s shape, and a rule that forgets a conjugate must fail these tests (checked
at the end by patching the rules).
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
import torch.autograd.forward_ad as fwAD  # noqa: E402
from jax.test_util import check_grads  # noqa: E402
from torch.autograd.gradcheck import GradcheckError  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402
from companion.ops.complex import rules  # noqa: E402

RNG = np.random.default_rng(7)


def _c(shape: tuple[int, ...]) -> np.ndarray:
    return RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)


Z = _c((3, 4))  # abs2, complex
X = RNG.standard_normal(5)  # abs2, real
THETA, ZB = RNG.standard_normal((3, 1)), _c((4,))  # phase_mul, broadcasting to (3, 4)
W = _c((3, 4))  # an output cotangent of phase_mul
THETA_DOT, ZB_DOT = RNG.standard_normal((3, 1)), _c((4,))

# (name, companion function, built-in, arguments, argument tangents)
TORCH_CASES = {
    "abs2 complex": (ct.abs2, lambda z: z.abs() ** 2, (Z,), (_c((3, 4)),)),
    "abs2 real": (ct.abs2, lambda z: z.abs() ** 2, (X,), (RNG.standard_normal(5),)),
    "phase_mul": (ct.phase_mul, lambda t, z: torch.exp(1j * t) * z, (THETA, ZB), (THETA_DOT, ZB_DOT)),
}
JAX_CASES = {
    "abs2 complex": ((cj.abs2, cj.abs2_vjp), lambda z: jnp.abs(z) ** 2, (Z,), TORCH_CASES["abs2 complex"][3]),
    "abs2 real": ((cj.abs2, cj.abs2_vjp), lambda z: jnp.abs(z) ** 2, (X,), TORCH_CASES["abs2 real"][3]),
    "phase_mul": ((cj.phase_mul, cj.phase_mul_vjp), lambda t, z: jnp.exp(1j * t) * z, (THETA, ZB),
                  (THETA_DOT, ZB_DOT)),
}


def _close(got: Any, want: Any) -> None:
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _close(g, w)
        return
    got = got.detach().numpy() if hasattr(got, "detach") else np.asarray(got)
    want = want.detach().numpy() if hasattr(want, "detach") else np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape, want.dtype, want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def _weights(out: Any, lib: Any) -> Any:
    """Weights ``w`` of the real loss ``Re Σ w ⊙ out``, of ``out``'s shape: complex for a complex
    output (both its parts count), real for a real one."""
    k = np.arange(int(np.prod(tuple(out.shape))))
    w = (np.cos(k) + 1j * np.sin(2 * k + 1)).reshape(tuple(out.shape))
    complex_out = out.is_complex() if lib is torch else jnp.iscomplexobj(out)
    w = w if complex_out else w.real
    return torch.as_tensor(w) if lib is torch else jnp.asarray(w)


def _torch_loss(f: Callable[..., Any]) -> Callable[..., Any]:
    def loss(*args: Any) -> Any:
        out = f(*args)
        return (out * _weights(out, torch)).real.sum()

    return loss


def _jax_loss(f: Callable[..., Any]) -> Callable[..., Any]:
    def loss(*args: Any) -> Any:
        out = f(*args)
        return jnp.real(out * _weights(out, jnp)).sum()

    return loss


# --------------------------------------------------------------------------
# The two conventions, measured on the built-ins
# --------------------------------------------------------------------------


def test_the_frameworks_gradients_differ_by_a_conjugate() -> None:
    """For L = |z|²: PyTorch's gradient is 2z = ∂L/∂a + i ∂L/∂b, JAX's 2 conj(z)."""
    z = torch.tensor(Z, requires_grad=True)
    (z.abs() ** 2).sum().backward()
    _close(z.grad, torch.as_tensor(2 * Z))
    with jax.enable_x64(True):
        _close(jax.grad(lambda z: (jnp.abs(z) ** 2).sum())(Z), 2 * np.conj(Z))


def test_jax_cotangent_is_the_conjugate_of_torchs_for_the_conjugate_cotangent() -> None:
    """The identity the JAX custom_vjp adapters rely on, measured on the built-in phase_mul."""
    t, z = torch.tensor(THETA), torch.tensor(ZB)
    _, vjp = torch.func.vjp(lambda t, z: torch.exp(1j * t) * z, t, z)
    torch_bars = vjp(torch.as_tensor(np.conj(W)))
    with jax.enable_x64(True):
        _, vjp_j = jax.vjp(lambda t, z: jnp.exp(1j * t) * z, THETA, ZB)
        jax_bars = vjp_j(W)
    _close(jax_bars, tuple(np.conj(b.numpy()) for b in torch_bars))


# --------------------------------------------------------------------------
# PyTorch: the companion equals the built-in under every transform
# --------------------------------------------------------------------------


def _torch_transforms(f: Callable[..., Any], args: tuple[np.ndarray, ...], tangents: tuple[np.ndarray, ...]) -> dict:
    primals = tuple(torch.tensor(a) for a in args)
    dots = tuple(torch.tensor(t) for t in tangents)
    argnums = tuple(range(len(args)))
    leaves = tuple(torch.tensor(a, requires_grad=True) for a in args)
    _torch_loss(f)(*leaves).backward()
    out, vjp = torch.func.vjp(f, *primals)
    with fwAD.dual_level():
        dual = f(*(fwAD.make_dual(p, d) for p, d in zip(primals, dots)))
        forward_ad = fwAD.unpack_dual(dual).tangent.clone()
    return {
        "backward": tuple(a.grad for a in leaves),
        "autograd.grad": torch.autograd.grad(_torch_loss(f)(*leaves), leaves),
        "forward AD": forward_ad,
        "torch.func.grad": torch.func.grad(_torch_loss(f), argnums)(*primals),
        "torch.func.vjp": vjp(_weights(out, torch).conj()),
        "torch.func.jvp": torch.func.jvp(f, primals, dots),
    }


@pytest.mark.parametrize("case", TORCH_CASES)
def test_torch_matches_builtin(case: str) -> None:
    ours, builtin, args, tangents = TORCH_CASES[case]
    got, want = _torch_transforms(ours, args, tangents), _torch_transforms(builtin, args, tangents)
    for name in want:
        _close(got[name], want[name])


@pytest.mark.parametrize("case", TORCH_CASES)
def test_torch_gradcheck_with_complex_inputs(case: str) -> None:
    """gradcheck on the complex arguments: the conjugate Wirtinger derivatives (backward) and
    forward AD against finite differences in the real and imaginary directions, batched too."""
    ours, _, args, _ = TORCH_CASES[case]
    inputs = tuple(torch.tensor(a, requires_grad=True) for a in args)
    assert torch.autograd.gradcheck(ours, inputs, check_forward_ad=True, check_batched_grad=True,
                                    check_batched_forward_grad=True)
    assert torch.autograd.gradgradcheck(ours, inputs, check_fwd_over_rev=True)


def test_torch_theta_bar_is_real_with_thetas_shape() -> None:
    theta, z = torch.tensor(THETA, requires_grad=True), torch.tensor(ZB, requires_grad=True)
    _torch_loss(ct.phase_mul)(theta, z).backward()
    assert theta.grad.dtype == torch.float64 and theta.grad.shape == (3, 1)
    assert z.grad.dtype == torch.complex128 and z.grad.shape == (4,)


# --------------------------------------------------------------------------
# JAX: custom_jvp and custom_vjp equal the built-in under every transform
# --------------------------------------------------------------------------


def _jax_transforms(f: Callable[..., Any], args: tuple[np.ndarray, ...], tangents: tuple[np.ndarray, ...],
                    forward: bool) -> dict:
    argnums = tuple(range(len(args)))
    out, vjp = jax.vjp(f, *args)
    results = {
        "jax.grad": jax.grad(_jax_loss(f), argnums)(*args),
        "jax.vjp": vjp(_weights(out, jnp)),
        "jax.jit(jax.grad)": jax.jit(jax.grad(_jax_loss(f), argnums))(*args),
    }
    if forward:
        results["jax.jvp"] = jax.jvp(f, args, tangents)
        results["jax.linearize"] = jax.linearize(f, *args)[1](*tangents)
    return results


@pytest.mark.parametrize("vjp", [False, True], ids=["custom_jvp", "custom_vjp"])
@pytest.mark.parametrize("case", JAX_CASES)
def test_jax_matches_builtin(case: str, vjp: bool) -> None:
    (custom_jvp, custom_vjp), builtin, args, tangents = JAX_CASES[case]
    with jax.enable_x64(True):
        got = _jax_transforms(custom_vjp if vjp else custom_jvp, args, tangents, forward=not vjp)
        want = _jax_transforms(builtin, args, tangents, forward=not vjp)
        for name in want:
            _close(got[name], want[name])


@pytest.mark.parametrize("case", JAX_CASES)
def test_jax_check_grads_with_complex_inputs(case: str) -> None:
    (custom_jvp, custom_vjp), _, args, _ = JAX_CASES[case]
    with jax.enable_x64(True):
        check_grads(custom_jvp, args, order=2, modes=("fwd", "rev"))
        check_grads(custom_vjp, args, order=2, modes=("rev",))


@pytest.mark.parametrize("f", [cj.phase_mul, cj.phase_mul_vjp], ids=["custom_jvp", "custom_vjp"])
def test_jax_theta_bar_is_real_with_thetas_shape(f: Callable[..., Any]) -> None:
    with jax.enable_x64(True):
        theta_bar, z_bar = jax.grad(_jax_loss(f), (0, 1))(THETA, ZB)
    assert theta_bar.dtype == jnp.float64 and theta_bar.shape == (3, 1)
    assert z_bar.dtype == jnp.complex128 and z_bar.shape == (4,)


def test_float32_theta_with_complex64_z() -> None:
    theta, z = THETA.astype(np.float32), ZB.astype(np.complex64)
    t = torch.tensor(theta, requires_grad=True)
    out = ct.phase_mul(t, torch.tensor(z))
    out.real.sum().backward()
    assert out.dtype == torch.complex64 and t.grad.dtype == torch.float32
    for f in (cj.phase_mul, cj.phase_mul_vjp):
        assert f(theta, z).dtype == jnp.complex64
        assert jax.grad(lambda t: f(t, z).real.sum())(theta).dtype == jnp.float32


# --------------------------------------------------------------------------
# A rule that forgets a conjugate fails these tests
# --------------------------------------------------------------------------


def _phase_mul_cotangents_without_conj(theta: Any, z: Any, out_bar: Any, xp: Any, needs: Any = (True, True)) -> Any:
    e = xp.exp(1j * theta)
    theta_bar = xp.sum_to_shape(xp.imag(out_bar * xp.conj(e * z)), theta.shape) if needs[0] else None
    z_bar = xp.sum_to_shape(e * out_bar, z.shape) if needs[1] else None  # forgot conj(e)
    return theta_bar, z_bar


def _phase_mul_cotangents_theta_in_jax_convention(theta: Any, z: Any, out_bar: Any, xp: Any,
                                                  needs: Any = (True, True)) -> Any:
    e = xp.exp(1j * theta)
    theta_bar = xp.sum_to_shape(-xp.imag(out_bar * e * z), theta.shape) if needs[0] else None  # JAX's
    z_bar = xp.sum_to_shape(xp.conj(e) * out_bar, z.shape) if needs[1] else None
    return theta_bar, z_bar


def _phase_mul_cotangents_complex_theta_bar(theta: Any, z: Any, out_bar: Any, xp: Any,
                                            needs: Any = (True, True)) -> Any:
    e = xp.exp(1j * theta)
    theta_bar = xp.sum_to_shape(xp.conj(1j * e * z) * out_bar, theta.shape) if needs[0] else None  # no Re
    z_bar = xp.sum_to_shape(xp.conj(e) * out_bar, z.shape) if needs[1] else None
    return theta_bar, z_bar


def _abs2_cotangents_in_jax_convention(z: Any, out_bar: Any, xp: Any, needs: Any = (True,)) -> Any:
    return (2 * out_bar * xp.conj(z) if needs[0] else None,)  # JAX's cotangent in PyTorch


def _abs2_tangent_without_conj(z: Any, z_dot: Any, xp: Any) -> Any:
    return 2 * xp.real(z * z_dot)


BROKEN = {
    "phase_mul z cotangent without conj": ("phase_mul_cotangents", _phase_mul_cotangents_without_conj, "phase_mul"),
    "abs2 cotangent in the other convention": ("abs2_cotangents", _abs2_cotangents_in_jax_convention, "abs2 complex"),
    "phase_mul theta cotangent in the other convention": ("phase_mul_cotangents",
                                                          _phase_mul_cotangents_theta_in_jax_convention, "phase_mul"),
    "abs2 tangent without conj": ("abs2_tangent", _abs2_tangent_without_conj, "abs2 complex"),
}


@pytest.mark.parametrize("broken", BROKEN)
def test_a_forgotten_conjugate_fails(broken: str, monkeypatch: pytest.MonkeyPatch) -> None:
    name, wrong, case = BROKEN[broken]
    monkeypatch.setattr(rules, name, wrong)
    with pytest.raises(AssertionError):
        test_torch_matches_builtin(case)
    with pytest.raises((AssertionError, GradcheckError)):
        test_torch_gradcheck_with_complex_inputs(case)
    vjp = name.endswith("cotangents")  # a tangent formula serves the custom_jvp versions
    with pytest.raises(AssertionError):
        test_jax_matches_builtin(case, vjp=vjp)
    with pytest.raises(AssertionError):
        test_jax_check_grads_with_complex_inputs(case)


def test_a_complex_theta_cotangent_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """A theta cotangent without its real part: PyTorch rejects it; in JAX the gradient comes back
    complex (its real part right), which check_grads does not notice but the dtype comparison with
    the built-in does."""
    monkeypatch.setattr(rules, "phase_mul_cotangents", _phase_mul_cotangents_complex_theta_bar)
    with pytest.raises(RuntimeError, match="input_is_complex == grad_is_complex"):
        test_torch_matches_builtin("phase_mul")
    with pytest.raises(AssertionError):
        test_jax_matches_builtin("phase_mul", vjp=True)
    with jax.enable_x64(True):
        check_grads(cj.phase_mul_vjp, (THETA, ZB), order=1, modes=("rev",))  # blind to it
        theta_bar = jax.grad(_jax_loss(cj.phase_mul_vjp))(THETA, ZB)
        want = jax.grad(_jax_loss(lambda t, z: jnp.exp(1j * t) * z))(THETA, ZB)
    assert jnp.iscomplexobj(theta_bar) and np.abs(np.imag(theta_bar)).max() > 1e-3
    np.testing.assert_allclose(np.real(theta_bar), want, rtol=1e-12, atol=1e-12)
