"""Tests of companion.testing (check_rule and friends) and companion.symbolic.

The checker must pass correct rules and catch the classic mistakes; the
symbolic derivations must confirm the rules and refute deliberately wrong ones.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy

from companion import rules, symbolic
from companion.ops.elementwise import rules as elementwise_rules
from companion.ops.linalg import rules as linalg_rules
from companion.registry import OPS, Op
from companion.testing import RuleCheckError, RuleReport, check_rule, taylor_remainder

# --------------------------------------------------------------------------
# check_rule on hand-written NumPy rules
# --------------------------------------------------------------------------


def f(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return y * np.sin(x)


def good_jvp(p, t):  # type: ignore[no-untyped-def]
    (x, y), (x_dot, y_dot) = p, t
    return f(x, y), y * np.cos(x) * x_dot + np.sin(x) * y_dot


def good_vjp(p, w):  # type: ignore[no-untyped-def]
    x, y = p
    return rules.sum_to_shape(w * y * np.cos(x), x.shape), rules.sum_to_shape(w * np.sin(x), y.shape)


ARGS = (np.linspace(-1.0, 1.0, 6).reshape(2, 3), np.linspace(0.5, 2.0, 3))
NAMES = ("x", "y")


def test_correct_rules_pass_with_a_report() -> None:
    report = check_rule(f, ARGS, jvp=good_jvp, vjp=good_vjp, arg_names=NAMES)
    assert isinstance(report, RuleReport)
    assert max(report.jvp_error.values()) < 1e-8
    assert max(report.vjp_error.values()) < 1e-12
    assert abs(report.taylor_slope["all inputs jointly"] - 2) < 0.1
    assert np.isnan(report.taylor_slope["y"])  # f is linear in y: no quadratic remainder
    assert "Taylor" in repr(report) and "x:" in repr(report)


def test_vjp_alone_is_checked_against_finite_differences() -> None:
    report = check_rule(f, ARGS, vjp=good_vjp, arg_names=NAMES)
    assert set(report.vjp_error) == {"x", "y"} and not report.jvp_error


@pytest.mark.parametrize(
    ("jvp", "vjp", "message"),
    [
        (lambda p, t: (f(*p), -good_jvp(p, t)[1]), None, r"JVP disagrees with central finite differences for input x"),
        (lambda p, t: (f(*p), p[1] * np.cos(p[0]) * t[0]), None, r"JVP disagrees .* for input y"),
        (lambda p, t: (2 * f(*p), good_jvp(p, t)[1]), None, r"primal output differs"),
        (good_jvp, lambda p, w: (good_vjp(p, w)[0], -good_vjp(p, w)[1]), r"dot-product test .* for input y"),
        (good_jvp, lambda p, w: (good_vjp(p, w)[0], w * np.sin(p[0])), r"VJP cotangent for input y has shape \(2, 3\)"),
        (None, lambda p, w: (good_vjp(p, w)[0],), r"VJP returned 1 cotangents for 2 inputs"),
        (good_jvp, lambda p, w: (good_vjp(p, w)[0], good_vjp(p, w)[1].sum(keepdims=True)), r"for input y has shape \(1,\)"),
    ],
    ids=["jvp sign", "jvp forgets y", "jvp primal", "vjp sign", "vjp not reduced", "vjp arity", "vjp wrong shape"],
)
def test_classic_mistakes_are_caught(jvp, vjp, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleCheckError, match=message):
        check_rule(f, ARGS, jvp=jvp, vjp=vjp, arg_names=NAMES)


def test_jvp_error_below_a_loose_tolerance_is_caught_by_the_taylor_slope() -> None:
    """A 0.1 % JVP error passes finite differences at rtol=1e-2 but not the Taylor test."""
    slightly_off = lambda p, t: (f(*p), good_jvp(p, t)[1] * (1 + 1e-3))  # noqa: E731
    with pytest.raises(RuleCheckError, match=r"Taylor remainder .* for input x has log-log slope 1\.\d"):
        check_rule(f, ARGS, jvp=slightly_off, arg_names=NAMES, rtol=1e-2)


def test_rule_check_error_is_an_assertion_error() -> None:
    assert issubclass(RuleCheckError, AssertionError)
    with pytest.raises(ValueError, match="give a jvp rule, a vjp rule or both"):
        check_rule(f, ARGS)


def test_tuple_outputs() -> None:
    def g(x):  # type: ignore[no-untyped-def]
        return np.sin(x), x**2

    def g_jvp(p, t):  # type: ignore[no-untyped-def]
        return g(p[0]), (np.cos(p[0]) * t[0], 2 * p[0] * t[0])

    def g_vjp(p, w):  # type: ignore[no-untyped-def]
        return (np.cos(p[0]) * w[0] + 2 * p[0] * w[1],)

    check_rule(g, (np.linspace(0, 1, 4),), jvp=g_jvp, vjp=g_vjp)
    with pytest.raises(RuleCheckError, match="dot-product"):
        check_rule(g, (np.linspace(0, 1, 4),), jvp=g_jvp, vjp=lambda p, w: (np.cos(p[0]) * w[0] - 2 * p[0] * w[1],))


def test_taylor_remainder_data_for_a_plot() -> None:
    good = taylor_remainder(np.sin, (np.array([0.2, 0.9]),), lambda p, t: (np.sin(p[0]), np.cos(p[0]) * t[0]), steps=8)
    assert good.h.shape == good.remainder.shape == (8,)
    assert np.all(np.diff(good.h) < 0) and abs(good.slope - 2) < 0.05
    bad = taylor_remainder(np.sin, (np.array([0.2, 0.9]),), lambda p, t: (np.sin(p[0]), np.sin(p[0]) * t[0]))
    assert abs(bad.slope - 1) < 0.05


# --------------------------------------------------------------------------
# check_torch / check_jax catch a wrong framework rule
# --------------------------------------------------------------------------


def test_check_torch_catches_a_wrong_backward() -> None:
    torch = pytest.importorskip("torch")
    from companion.testing import check_torch

    class BadSin(torch.autograd.Function):
        @staticmethod
        def forward(x):  # type: ignore[no-untyped-def]
            return torch.sin(x)

        @staticmethod
        def setup_context(ctx, inputs, output):  # type: ignore[no-untyped-def]
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):  # type: ignore[no-untyped-def]
            (x,) = ctx.saved_tensors
            return -g * torch.cos(x)  # the classic sign slip

    args = (np.linspace(0.0, 1.0, 3),)
    check_torch(torch.sin, args)
    with pytest.raises(RuleCheckError, match="dot-product"):
        check_torch(BadSin.apply, args, jvp=False)


def test_check_jax_catches_a_wrong_jvp() -> None:
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp

    from companion.testing import check_jax

    @jax.custom_jvp
    def bad_sin(x):  # type: ignore[no-untyped-def]
        return jnp.sin(x)

    bad_sin.defjvp(lambda p, t: (jnp.sin(p[0]), jnp.sin(p[0]) * t[0]))  # sin where cos belongs
    with pytest.raises(RuleCheckError, match="JVP disagrees"):
        check_jax(bad_sin, (np.linspace(0.0, 1.0, 3),))


# --------------------------------------------------------------------------
# companion.symbolic
# --------------------------------------------------------------------------


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_derivation_confirms_and_displays(op: Op) -> None:
    d = symbolic.derive(op.name)
    assert d.confirmed and all(d.checks.values())
    assert d.op == op.name and d.jacobians
    if op.bind is None:  # the entry's arguments are the op's; with bind, the derivation
        # takes a small instance of the op's equation of its own (root: F(x, c) = 0 with
        # a closed-form root), not the example function the entry binds
        assert set(d.jacobians) >= set(op.arg_names)
    assert all(isinstance(J, sympy.Matrix) for J in d.jacobians.values())
    md = d._repr_markdown_()
    assert "| check |" in md and "confirmed" in md and "$$" in md
    # One display form (Markdown: math, then the table of checks) for HTML, PDF and notebooks.
    assert not hasattr(d, "_repr_latex_")


def test_matvec_jacobians_are_the_textbook_ones() -> None:
    d = symbolic.derive_matvec()
    A = sympy.Matrix(d.inputs["A"])
    assert d.jacobians["x"] == A
    x = sympy.Matrix(d.inputs["x"])
    assert d.jacobians["A"] == sympy.BlockDiagMatrix(x.T, x.T, x.T).as_explicit()


def test_wrong_rules_are_refuted(monkeypatch: pytest.MonkeyPatch) -> None:
    """A doubled matvec VJP and a sign-flipped solve JVP fail their symbolic checks."""
    monkeypatch.setattr(linalg_rules, "matvec_cotangents", lambda A, x, y_bar, xp, needs=(True, True): (y_bar[:, None] * x[None, :], 2 * (A.T @ y_bar)))
    d = symbolic.derive_matvec()
    assert not d.confirmed
    assert d.checks["jvp = J v"] and not d.checks["vjp = Jᵀ w"] and not d.checks["<w, J v> = <vjp(w), v>"]

    original = linalg_rules.solve_tangent
    monkeypatch.setattr(linalg_rules, "solve_tangent", lambda *a: -original(*a))
    d = symbolic.derive_solve()
    assert not d.checks["jvp = J v"] and not d.checks["<w, J v> = <vjp(w), v>"] and d.checks["vjp = Jᵀ w"]
    assert "NO" in d.table()


def test_sin_second_derivative_rule_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(elementwise_rules, "sin_derivative_tangent", lambda x, x_dot, xp: xp.sin(x) * x_dot)  # sign slip
    d = symbolic.derive_sin()
    failed = [k for k, ok in d.checks.items() if not ok]
    assert failed == ["second: sin_derivative_tangent = (d cos x) ẋ"]


def test_derive_unknown_op() -> None:
    with pytest.raises(ValueError, match=r"derive: unknown op 'tanh'; expected one of \[.*'matvec', .*'solve'.*\]"):
        symbolic.derive("tanh")


# --------------------------------------------------------------------------
# python -m companion verify
# --------------------------------------------------------------------------


def test_verify_cli_exit_status(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from companion.__main__ import main

    assert main(["verify", "--op", "matvec", "--check", "symbolic"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^matvec +symbolic +ok", out, re.M) and "1 of 1 checks passed" in out

    monkeypatch.setattr(linalg_rules, "matvec_tangent", lambda A, x, A_dot, x_dot, xp: A @ x_dot)  # forgets Ȧ x
    assert main(["verify", "--op", "matvec", "--check", "symbolic"]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "FAILED matvec / symbolic" in out and "jvp = J v" in out
