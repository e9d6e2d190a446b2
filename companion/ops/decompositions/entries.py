"""Registry entries of the decompositions ops, with their SymPy derivations.

>>> [op.name for op in OPS]
['cholesky', 'eigh']
>>> derive_cholesky().confirmed, derive_eigh().confirmed
(True, True)
"""

from __future__ import annotations

import types

import numpy as np
import sympy

from companion.derivation import Derivation, as_array, confirm_rules, dot, flat, same, symbols
from companion.ops import BadInput, Op
from companion.ops.decompositions import rules
from companion.xp.sympy import SympyOps, sympy_ops

__all__ = ["OPS", "derive_cholesky", "derive_eigh"]


class _SympyCholeskyOps(SympyOps):
    """The SymPy namespace plus ``linalg.cholesky`` (SymPy's ``Matrix.cholesky``), for the primal."""

    linalg = types.SimpleNamespace(
        cholesky=lambda A: as_array(sympy.Matrix(A).cholesky(hermitian=False))
    )


def derive_cholesky() -> Derivation:
    """``cholesky(A) = L`` with ``L Lᵀ = sym(A)``, for a symbolic 2×2 ``A`` (four independent entries).

    The truth is the closed form ``L = [[√a, 0], [s/√a, √(d − s²/a)]]`` with
    ``a = A₀₀``, ``s = (A₀₁ + A₁₀)/2``, ``d = A₁₁``: a function of all four
    entries, so the checks confirm that the tangent acts through ``sym(Ȧ)`` and
    that ``Ā`` is the gradient (``vjp = Jᵀ w``, hence symmetric). Two more
    checks: ``Ā`` is symmetric, and ``⟨Ā, Ȧ⟩ = ⟨L̄, L̇⟩`` for a symmetric ``Ȧ``.
    The rules' primal is SymPy's ``Matrix.cholesky`` of ``sym(A)``.

    >>> d = derive_cholesky()
    >>> for claim, holds in d.checks.items():
    ...     print(f"{claim}: {holds}")
    primal: True
    jvp = J v: True
    vjp = Jᵀ w: True
    <w, J v> = <vjp(w), v>: True
    Ā = Āᵀ: True
    <Ā, Ȧ> = <L̄, L̇> for symmetric Ȧ: True
    """
    xp = _SympyCholeskyOps()
    A = symbols("A", (2, 2))
    a, s, d = A[0, 0], (A[0, 1] + A[1, 0]) / 2, A[1, 1]
    truth = np.array(
        [[sympy.sqrt(a), 0], [s / sympy.sqrt(a), sympy.sqrt(d - s**2 / a)]],
        dtype=object,
    )
    L = rules.cholesky(A, xp)
    derivation = confirm_rules(
        "cholesky",
        {"A": A},
        truth,
        L,
        lambda t: rules.cholesky_tangent(L, t["A"], xp),
        lambda w: {"A": rules.cholesky_cotangents(L, w, xp)[0]},
    )
    A_bar = derivation.vjp["A"]
    p, q, r = sympy.symbols("p q r", real=True)
    A_dot = np.array([[p, q], [q, r]], dtype=object)  # a symmetric tangent
    L_dot = rules.cholesky_tangent(L, A_dot, xp)
    derivation.checks["Ā = Āᵀ"] = same(A_bar, A_bar.T)
    derivation.checks["<Ā, Ȧ> = <L̄, L̇> for symmetric Ȧ"] = same(
        [dot(A_bar, A_dot)], [dot(derivation.cotangent, L_dot)]
    )
    return derivation


def derive_eigh() -> Derivation:
    """``eigh(A) = (w, V)`` for a symbolic 2×2 symmetric ``A``, through its closed-form eigenpairs.

    ``A = R(θ) diag(λ₁, λ₂) R(θ)ᵀ`` with the rotation ``R(θ) = [[cos θ, −sin θ],
    [sin θ, cos θ]]``: ``w = (λ₁, λ₂)``, ``V = R(θ)``, and ``(a, b, c) =
    (A₀₀, (A₀₁ + A₁₀)/2, A₁₁)`` is a function of ``(θ, λ₁, λ₂)`` that is locally
    invertible where ``λ₁ ≠ λ₂``. The Jacobian of ``(w, V)`` with respect to the
    four entries of ``A`` is then ``∂(w, V)/∂(θ, λ) · (∂(a, b, c)/∂(θ, λ))⁻¹ ·
    ∂(a, b, c)/∂A``, computed by SymPy, independently of the rules. Checked
    identically in ``θ, λ₁, λ₂`` and the symbolic tangent and cotangents:
    ``A V = V diag(w)`` and ``Vᵀ V = I`` (the eigenpairs), ``jvp = J v``,
    ``vjp = Jᵀ (w̄, V̄)``, the dot-product identity, ``Ā = Āᵀ``, and that the
    rule's ``ẇ`` and ``V̇`` for the tangent ``Ȧ`` of a path ``(θ(t), λ(t))`` are
    ``λ̇`` and ``R'(θ) θ̇``.

    >>> d = derive_eigh()
    >>> list(d.checks)  # doctest: +NORMALIZE_WHITESPACE
    ['primal', 'jvp = J v', 'vjp = Jᵀ w', '<w, J v> = <vjp(w), v>', 'Ā = Āᵀ',
     'ẇ = λ̇, V̇ = R′(θ) θ̇ along a path']
    >>> d.confirmed
    True
    """
    theta, lam1, lam2 = sympy.symbols("theta lambda1 lambda2", real=True)
    c, s = sympy.cos(theta), sympy.sin(theta)
    R = sympy.Matrix([[c, -s], [s, c]])
    Am = R * sympy.diag(lam1, lam2) * R.T
    w, V = np.array([lam1, lam2], dtype=object), as_array(R)
    params = sympy.Matrix([theta, lam1, lam2])
    out = sympy.Matrix([lam1, lam2, *R])  # vec(w, V), V row-major
    abc = sympy.Matrix([Am[0, 0], Am[0, 1], Am[1, 1]])
    d_abc_dA = sympy.Matrix(
        [[1, 0, 0, 0], [0, sympy.Rational(1, 2), sympy.Rational(1, 2), 0], [0, 0, 0, 1]]
    )
    J = sympy.Matrix(
        sympy.simplify(out.jacobian(params) * abc.jacobian(params).inv() * d_abc_dA)
    )

    A_dot = symbols("A_dot_", (2, 2))
    w_bar, V_bar = symbols("w_bar", (2,)), symbols("V_bar", (2, 2))
    w_dot, V_dot = rules.eigh_tangent(w, V, A_dot, sympy_ops)
    (A_bar,) = rules.eigh_cotangents(w, V, w_bar, V_bar, sympy_ops)
    cotangent = np.concatenate([w_bar, V_bar.reshape(-1)])

    t_theta, t1, t2 = sympy.symbols("theta_dot lambda1_dot lambda2_dot", real=True)
    path_A_dot = as_array(
        Am.diff(theta) * t_theta + Am.diff(lam1) * t1 + Am.diff(lam2) * t2
    )
    path_w_dot, path_V_dot = rules.eigh_tangent(w, V, path_A_dot, sympy_ops)

    Am_arr = as_array(Am)
    checks = {
        "primal": same(Am_arr @ V, V * w[None, :])
        and same(V.T @ V, np.eye(2, dtype=int)),
        "jvp = J v": same(np.concatenate([w_dot, V_dot.reshape(-1)]), J * flat(A_dot)),
        "vjp = Jᵀ w": same(A_bar.reshape(-1), J.T * flat(cotangent)),
        "<w, J v> = <vjp(w), v>": same(
            [dot(w_bar, w_dot) + dot(V_bar, V_dot)], [dot(A_bar, A_dot)]
        ),
        "Ā = Āᵀ": same(A_bar, A_bar.T),
        "ẇ = λ̇, V̇ = R′(θ) θ̇ along a path": same(path_w_dot, [t1, t2])
        and same(path_V_dot, as_array(R.diff(theta) * t_theta)),
    }
    return Derivation(
        op="eigh",
        inputs={"A": Am_arr},
        output=(w, V),
        jacobians={"A": J},
        tangents={"A": A_dot},
        cotangent=(w_bar, V_bar),
        jvp=(w_dot, V_dot),
        vjp={"A": A_bar},
        checks=checks,
    )


def _spd(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random symmetric positive definite ``n × n`` matrix, eigenvalues at least 1 (well conditioned)."""
    B = rng.standard_normal((n, n))
    A = B @ B.T / n + np.eye(n)
    return (A + A.T) / 2  # exactly symmetric


def _symmetric_spread(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random symmetric ``n × n`` matrix near ``diag(0, 1, …, n−1) − n/2``: eigenvalue gaps near 1.

    Each library picks the signs of the eigenvectors its own way: ``torch.linalg.eigh``
    (MKL) often returns columns of opposite sign to NumPy's and JAX's. The
    registry compares the PyTorch op with NumPy's reference, so this case is
    one where the three agree (for seed 0, the first case's seed).
    """
    P = rng.standard_normal((n, n))
    return np.diag(np.arange(n) - n / 2) + 0.2 * (P + P.T) / 2


def _symmetric(rng: np.random.Generator, n: int) -> np.ndarray:
    """A random symmetric ``n × n`` matrix, ``(P + Pᵀ)/2`` for a standard normal ``P``."""
    P = rng.standard_normal((n, n))
    return (P + P.T) / 2


def _bad_inputs(op: str) -> tuple[BadInput, ...]:
    """The shape and dtype errors (checked eagerly and under ``jit``); symmetry is checked by values only."""
    return (
        BadInput(
            "A not square",
            (np.ones((3, 2)),),
            ValueError,
            rf"{op}: A must be a square matrix of shape \(n, n\) with n ≥ 1; got shape \(3, 2\)",
        ),
        BadInput(
            "A is a vector",
            (np.ones(3),),
            ValueError,
            rf"{op}: A must be a square matrix .*; got shape \(3,\)",
        ),
        BadInput(
            "A is empty",
            (np.ones((0, 0)),),
            ValueError,
            rf"{op}: A must be a square matrix .* n ≥ 1; got shape \(0, 0\)",
        ),
        BadInput(
            "integer A",
            (np.eye(2, dtype=np.int64),),
            TypeError,
            rf"{op}: A must have a real floating dtype .*; got dtype int64",
        ),
        BadInput(
            "half precision",
            (np.eye(2, dtype=np.float16),),
            TypeError,
            rf"{op}: A must have dtype float32 or float64 .*; got dtype float16",
        ),
    )


OPS: tuple[Op, ...] = (
    Op(
        name="cholesky",
        family="decompositions",
        arg_names=("A",),
        symmetric_args=("A",),
        formula="L with L Lᵀ = (A + Aᵀ)/2, A symmetric positive definite",
        reference=lambda xp, A: xp.linalg.cholesky((A + A.T) / 2),
        cases={"4x4_spd": lambda rng: (_spd(rng, 4),)},
        derive=derive_cholesky,
        validate=rules.check_cholesky,
        bad_inputs=_bad_inputs("cholesky"),
        chapter="ch-decompositions",
        benchmark_cases={
            f"n={n}": lambda rng, n=n: (_spd(rng, n),) for n in (256, 1024)
        },
    ),
    Op(
        name="eigh",
        family="decompositions",
        arg_names=("A",),
        symmetric_args=("A",),
        formula="(w, V) with (A + Aᵀ)/2 = V diag(w) Vᵀ, w ascending",
        reference=lambda xp, A: tuple(xp.linalg.eigh((A + A.T) / 2)),
        cases={"4x4_symmetric": lambda rng: (_symmetric_spread(rng, 4),)},
        derive=derive_eigh,
        validate=rules.check_eigh,
        bad_inputs=_bad_inputs("eigh"),
        chapter="ch-decompositions",
        benchmark_cases={
            f"n={n}": lambda rng, n=n: (_symmetric(rng, n),) for n in (256, 1024)
        },
    ),
)
