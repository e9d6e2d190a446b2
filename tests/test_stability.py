"""Numerical stability of ``softplus``: value, first and second derivatives at extreme inputs.

``softplus(x) = log(1 + eˣ)`` overflows when computed as written (``eˣ`` is
infinite beyond x ≈ 88.7 in float32 and x ≈ 709.8 in float64), and its
derivative then comes out as NaN. The companion's rules must give finite and
correct values, derivatives ``σ(x) = 1 / (1 + e^{−x})`` and second
derivatives ``σ(x) σ(−x)`` at x = ±1e4, ±100, ±30 and 0, and on a grid of
1,791 points in [−1e4, 1e4] (log-spaced magnitudes, and the overflow
thresholds of ``eˣ`` near ±88.7 and ±709.8), in float32 and float64, through
every way the frameworks differentiate: PyTorch backward, double backward,
forward AD, forward-over-reverse and reverse-over-forward; JAX ``grad``,
``jvp`` and their compositions on the ``custom_jvp`` version, ``grad`` and
``grad`` of ``grad`` on the ``custom_vjp`` version.

PyTorch's forward-over-forward (``jacfwd`` of ``jacfwd``) is the exception: in
PyTorch 2.13 it returns 0 for the second derivative through any
``autograd.Function`` whose ``jvp`` uses ordinary operations (PyTorch issue
197867). A strict ``xfail`` test records it, so that the day PyTorch fixes it
the test reports it.

The expected values come from mpmath at 50 significant digits, from the
closed forms above, never from the code under test. The last tests apply the
same comparisons to the naive formula ``log(1 + exp(x))`` and to two subtly wrong
rules (the textbook sigmoid ``1 / (1 + e^{−x})``, whose own derivative is NaN at
x = −1e4, and ``−|x|`` in place of ``min(x, −x)``, whose kink gives JAX a wrong
second derivative at 0) and require them to fail.
"""

from __future__ import annotations

from typing import Any, Callable

import mpmath
import numpy as np
import pytest

torch = pytest.importorskip("torch")
jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

import companion.jax as cj  # noqa: E402
import companion.torch as ct  # noqa: E402

POINTS = (-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4)
#: A dense grid: magnitudes 1e-8 ... 1e4, a uniform grid over [−120, 120], and the
#: points where exp(x) overflows in float32 (x ≈ 88.7) and float64 (x ≈ 709.8).
_MAGNITUDES = np.logspace(-8, 4, 600)
GRID = tuple(
    float(v)
    for v in np.unique(np.concatenate([
        -_MAGNITUDES, [0.0], _MAGNITUDES, np.linspace(-120.0, 120.0, 481),
        np.linspace(85.0, 92.0, 29), np.linspace(-92.0, -85.0, 29),
        np.linspace(705.0, 715.0, 41), np.linspace(-715.0, -705.0, 41),
    ]))
)
DTYPES = ("float32", "float64")
#: Allowed error in units of the dtype's epsilon: σ(x) = exp(−softplus(−x)) turns the
#: relative error ε of softplus(−x) ≈ |x| into about |x| ε, and |x| ≤ 100 where σ is
#: not 0 or 1.
ULPS = 256


def _exact(x: float) -> tuple[Any, Any, Any]:
    """``softplus(x)``, ``σ(x)`` and ``σ'(x) = σ(x) σ(−x)`` in 50-digit arithmetic."""
    with mpmath.workdps(50):
        x = mpmath.mpf(x)
        sigma = 1 / (1 + mpmath.exp(-x))
        sigma_minus = 1 / (1 + mpmath.exp(x))
        return mpmath.log1p(mpmath.exp(x)), sigma, sigma * sigma_minus


def expected(dtype: str, points: tuple[float, ...] = POINTS) -> dict[str, np.ndarray]:
    """The exact values at ``points`` (first rounded to ``dtype``, as the functions see them),
    rounded to ``dtype`` (values below its range become 0)."""
    rows = [_exact(float(x)) for x in np.asarray(points).astype(dtype)]
    return {
        name: np.array([float(r[i]) for r in rows]).astype(dtype)
        for i, name in enumerate(("value", "derivative", "second derivative"))
    }


def assert_matches(
    what: str, got: Any, want: np.ndarray, dtype: str, points: tuple[float, ...] = POINTS
) -> None:
    """``got`` is finite and within ``ULPS`` epsilons of ``want`` (relative), or below the
    dtype's smallest normal number where ``want`` underflows."""
    got = np.asarray(got.detach() if hasattr(got, "detach") else got)
    assert got.dtype == np.dtype(dtype), f"{what}: dtype {got.dtype}, expected {dtype}"
    got = got.astype(np.float64)
    xs = np.array(points)
    assert np.all(np.isfinite(got)), f"{what}: not finite at x = {xs[~np.isfinite(got)][:8]}"
    info = np.finfo(dtype)
    tol = ULPS * float(info.eps) * np.abs(want.astype(np.float64)) + float(info.tiny)
    bad = np.abs(got - want) > tol
    assert not bad.any(), f"{what}: at x = {xs[bad][:8]} got {got[bad][:8]}, expected {want[bad][:8]}"


# --------------------------------------------------------------------------
# The ways each framework differentiates a function f: value, first, second
# --------------------------------------------------------------------------


def torch_results(
    f: Callable[[Any], Any], dtype: str, points: tuple[float, ...] = POINTS
) -> dict[str, dict[str, Any]]:
    """Value, σ and σ' of ``f`` at ``points``, by every PyTorch route (forward-over-forward
    apart: see :func:`test_torch_forward_over_forward`)."""
    x = torch.tensor(points, dtype=getattr(torch, dtype), requires_grad=True)
    ones = torch.ones_like(x)
    y = f(x)
    (g,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    x0 = x.detach()
    _, g_fwd = torch.func.jvp(f, (x0,), (ones,))
    _, h_fwd_rev = torch.func.jvp(torch.func.grad(lambda x: f(x).sum()), (x0,), (ones,))
    h_rev_fwd = torch.func.grad(lambda x: torch.func.jvp(f, (x,), (ones,))[1].sum())(x0)
    return {
        "value": {"forward": y},
        "derivative": {"backward": g, "forward AD (torch.func.jvp)": g_fwd},
        "second derivative": {
            "double backward": h,
            "forward-over-reverse": h_fwd_rev,
            "reverse-over-forward": h_rev_fwd,
        },
    }


def jax_results(
    f: Callable[[Any], Any], dtype: str, forward: bool = True, points: tuple[float, ...] = POINTS
) -> dict[str, dict[str, Any]]:
    """Value, σ and σ' of ``f`` at ``points``, by every JAX route (reverse only if not ``forward``)."""
    with jax.enable_x64(dtype == "float64"):
        x = jnp.asarray(points, dtype=dtype)
        ones = jnp.ones_like(x)
        grad = jax.grad(lambda x: f(x).sum())
        out = {
            "value": {"eager": f(x), "jit": jax.jit(f)(x)},
            "derivative": {"grad": grad(x)},
            "second derivative": {"grad of grad": jax.grad(lambda x: grad(x).sum())(x)},
        }
        if forward:
            out["derivative"]["jvp"] = jax.jvp(f, (x,), (ones,))[1]
            out["second derivative"]["jvp of grad"] = jax.jvp(grad, (x,), (ones,))[1]
            out["second derivative"]["jvp of jvp"] = jax.jvp(
                lambda x: jax.jvp(f, (x,), (ones,))[1], (x,), (ones,)
            )[1]
        return {k: {name: np.asarray(v) for name, v in d.items()} for k, d in out.items()}


def assert_all_match(
    label: str, results: dict[str, dict[str, Any]], dtype: str, points: tuple[float, ...] = POINTS
) -> None:
    want = expected(dtype, points)
    for quantity, routes in results.items():
        for route, got in routes.items():
            assert_matches(f"{label} {dtype} {quantity} by {route}", got, want[quantity], dtype, points)


IMPLEMENTATIONS = {
    "torch": lambda dtype, points=POINTS: torch_results(ct.softplus, dtype, points),
    "jax custom_jvp": lambda dtype, points=POINTS: jax_results(cj.softplus, dtype, points=points),
    "jax custom_vjp": lambda dtype, points=POINTS: jax_results(
        cj.softplus_vjp, dtype, forward=False, points=points
    ),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_softplus_is_stable(impl: str, dtype: str) -> None:
    """Finite and correct value, σ and σ' at ±1e4, ±100, ±30 and 0."""
    assert_all_match(impl, IMPLEMENTATIONS[impl](dtype), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_softplus_is_stable_on_a_grid(impl: str, dtype: str) -> None:
    """The same on :data:`GRID`: every magnitude up to 1e4 and both overflow thresholds."""
    assert_all_match(impl, IMPLEMENTATIONS[impl](dtype, GRID), dtype, GRID)


@pytest.mark.xfail(
    strict=True,
    reason="PyTorch 2.13: forward-over-forward through an autograd.Function whose jvp uses "
    "ordinary operations returns 0 (pytorch/pytorch#197867)",
)
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_forward_over_forward(dtype: str) -> None:
    """``jacfwd(jacfwd(softplus))`` should be σ'(x) on the diagonal; PyTorch gives 0 for now."""
    x = torch.tensor(POINTS, dtype=getattr(torch, dtype))
    hessian = torch.func.jacfwd(torch.func.jacfwd(lambda x: ct.softplus(x).sum()))(x)
    assert_matches(
        f"torch {dtype} second derivative by forward-over-forward",
        hessian.diagonal(), expected(dtype)["second derivative"], dtype,
    )


def test_torch_forward_over_forward_is_zero_today() -> None:
    """What the strict xfail above records: exactly 0 at every point, not a rounding error."""
    x = torch.tensor(POINTS, dtype=torch.float64)
    hessian = torch.func.jacfwd(torch.func.jacfwd(lambda x: ct.softplus(x).sum()))(x)
    assert bool((hessian == 0).all())


def test_torch_softplus_rejects_non_tensors() -> None:
    """A NumPy array has ``shape`` and ``dtype`` too; the PyTorch entry point names what it needs."""
    with pytest.raises(TypeError, match=r"softplus: x must be a torch\.Tensor; got ndarray"):
        ct.softplus(np.zeros(3))
    with pytest.raises(TypeError, match=r"softplus: x must be a torch\.Tensor; got float"):
        ct.softplus(1.0)


def test_expected_values_are_the_closed_forms() -> None:
    """The reference itself, at the points where it is exact in float64: large x gives
    softplus = x and σ = 1, very negative x gives 0 and 0, and x = 0 gives log 2, 1/2, 1/4."""
    want = expected("float64")
    i = {x: k for k, x in enumerate(POINTS)}
    assert want["value"][i[1e4]] == 1e4 and want["derivative"][i[1e4]] == 1.0
    assert want["value"][i[-1e4]] == 0.0 and want["derivative"][i[-1e4]] == 0.0
    assert want["second derivative"][i[1e4]] == 0.0 == want["second derivative"][i[-1e4]]
    assert want["value"][i[0.0]] == np.log(2.0)
    assert want["derivative"][i[0.0]] == 0.5 and want["second derivative"][i[0.0]] == 0.25
    # exp(−100) is 3.7e-44: below float32's normal range, representable in float64.
    assert want["value"][i[-100.0]] == pytest.approx(np.exp(-100.0), rel=1e-15)


# --------------------------------------------------------------------------
# The naive formula fails these same checks
# --------------------------------------------------------------------------


def _naive_torch(x: Any) -> Any:
    return torch.log(1 + torch.exp(x))


def _naive_jax(x: Any) -> Any:
    return jnp.log(1 + jnp.exp(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_naive_formula_overflows(dtype: str) -> None:
    """``log(1 + exp(x))`` is infinite at x = 1e4 and its derivative NaN, in both frameworks."""
    i = POINTS.index(1e4)
    t = torch_results(_naive_torch, dtype)
    assert torch.isinf(t["value"]["forward"][i]) and torch.isnan(t["derivative"]["backward"][i])
    j = jax_results(_naive_jax, dtype)
    assert np.isinf(j["value"]["eager"][i]) and np.isnan(j["derivative"]["grad"][i])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("framework", ["torch", "jax"])
def test_checks_catch_the_naive_formula(framework: str, dtype: str) -> None:
    """The comparisons of :func:`test_softplus_is_stable` reject the naive formula."""
    results = torch_results(_naive_torch, dtype) if framework == "torch" else jax_results(_naive_jax, dtype)
    with pytest.raises(AssertionError, match="not finite"):
        assert_all_match(f"naive {framework}", results, dtype)


# --------------------------------------------------------------------------
# Subtly wrong rules fail them too
# --------------------------------------------------------------------------


def _textbook_sigmoid(x: Any, xp: Any) -> Any:
    """``1 / (1 + exp(−x))``: right values, but its derivative is ∞/∞ = NaN at x = −1e4."""
    return 1 / (1 + xp.exp(-x))


def _softplus_with_abs(x: Any, xp: Any) -> Any:
    """The stable softplus with ``−|x|``: right values, but JAX's ``abs'(0) = 1`` then makes
    the second derivative at 0 equal to 1/2 instead of 1/4."""
    return xp.maximum(x, xp.zeros_like(x)) + xp.log1p(xp.exp(-xp.abs(x)))


@pytest.fixture
def fresh_jax_caches() -> Any:
    """Clear JAX's trace caches after a test that patches a rule, so no later test reuses them."""
    yield
    jax.clear_caches()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_checks_catch_the_textbook_sigmoid(
    impl: str, dtype: str, monkeypatch: pytest.MonkeyPatch, fresh_jax_caches: Any
) -> None:
    """With ``1 / (1 + exp(−x))`` as the derivative formula, second derivatives are NaN."""
    from companion.ops.elementwise import rules

    monkeypatch.setattr(rules, "softplus_derivative", _textbook_sigmoid)
    with pytest.raises(AssertionError, match="second derivative .*not finite"):
        assert_all_match(f"textbook sigmoid {impl}", IMPLEMENTATIONS[impl](dtype), dtype)


@pytest.mark.parametrize("impl", ["jax custom_jvp", "jax custom_vjp"])
def test_checks_catch_abs_at_the_kink(
    impl: str, monkeypatch: pytest.MonkeyPatch, fresh_jax_caches: Any
) -> None:
    """With ``−|x|`` in the formula, JAX's second derivative at 0 is 1/2, not 1/4."""
    from companion.ops.elementwise import rules

    monkeypatch.setattr(rules, "softplus", _softplus_with_abs)
    with pytest.raises(AssertionError, match=r"second derivative .*at x = \[0\.\]"):
        assert_all_match(f"abs {impl}", IMPLEMENTATIONS[impl]("float64"), "float64")
