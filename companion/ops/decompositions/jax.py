"""JAX adapters of the decompositions rules: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions.

``cholesky`` and ``eigh`` are :func:`jax.custom_jvp` functions: one JVP rule
gives forward mode, reverse mode (JAX linearises the rule and transposes it),
``jit``, ``vmap`` and higher orders. ``cholesky_vjp`` and ``eigh_vjp`` are the
:func:`jax.custom_vjp` versions: **reverse mode only** (``jax.jvp`` raises a
``TypeError`` on them). The formulas come from
``companion.ops.decompositions.rules``; this module is wiring.

The public functions convert ``A`` with :func:`jax.numpy.asarray` and check
its shape and dtype (statically, so also under ``jit``). They check that ``A``
is symmetric to round-off only where its values exist: on a concrete array,
outside every JAX transformation. Under ``jit``, ``grad``, ``vmap`` (a traced
``A``) nothing is checked and the ops read ``sym(A) = (A + Aᵀ)/2``.
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.decompositions import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "cholesky",
    "eigh",
    "cholesky_vjp",
    "eigh_vjp",
    "cholesky_custom_jvp",
    "cholesky_jvp_rule",
    "eigh_custom_jvp",
    "eigh_jvp_rule",
    "cholesky_custom_vjp",
    "cholesky_fwd",
    "cholesky_bwd",
    "eigh_custom_vjp",
    "eigh_fwd",
    "eigh_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


def _check_symmetric(op: str, A: Array) -> None:
    """The value check, on a concrete ``A`` only (a tracer has no values to read)."""
    if not isinstance(A, jax.core.Tracer):
        rules.check_symmetric(op, A, jax_ops)


# --------------------------------------------------------------------------
# cholesky
# --------------------------------------------------------------------------


@jax.custom_jvp
def cholesky_custom_jvp(A: Array) -> Array:
    """``L`` with ``L Lᵀ = sym(A)``, with the JVP rule :func:`cholesky_jvp_rule`."""
    return rules.cholesky(A, jax_ops)


@cholesky_custom_jvp.defjvp
def cholesky_jvp_rule(
    primals: tuple[Array], tangents: tuple[Array]
) -> tuple[Array, Array]:
    """JVP: ``L̇ = L Φ(L⁻¹ sym(Ȧ) L⁻ᵀ)``.

    >>> A = jnp.asarray([[4.0, 2.0], [2.0, 5.0]])
    >>> L, L_dot = cholesky_jvp_rule((A,), (jnp.eye(2),))
    >>> L_dot.tolist()
    [[0.25, 0.0], [-0.125, 0.3125]]
    """
    (A,), (A_dot,) = primals, tangents
    L = rules.cholesky(A, jax_ops)
    return L, rules.cholesky_tangent(L, A_dot, jax_ops)


def cholesky(A: Any) -> Array:
    """The Cholesky factor ``L`` (lower triangular, ``L Lᵀ = A``) of a symmetric positive definite ``A``.

    ``jax.custom_jvp`` rule: JVP ``L̇ = L Φ(L⁻¹ Ȧ L⁻ᵀ)``; reverse mode by
    transposing it, which gives ``Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``. ``Φ`` takes the
    lower triangle and halves the diagonal; ``sym(X) = (X + Xᵀ)/2``.

    **Convention.** ``A`` is read through ``sym(A)`` (as
    ``jnp.linalg.cholesky`` does), so the gradient ``Ā`` is **symmetric**: the
    gradient over all ``n²`` entries of ``A ↦ L(sym(A))``, and for symmetric
    ``Ȧ`` exactly ``⟨Ā, Ȧ⟩ = ⟨L̄, L̇⟩``.

    **Errors and what is not checked.** Dtypes and shapes raise
    ``TypeError``/``ValueError`` always (also under ``jit``). On a concrete
    ``A`` (outside ``jit``, ``grad``, ``vmap``), ``max|A − Aᵀ| > √ε·max|A|``
    raises ``ValueError`` (``ε`` = the dtype's machine epsilon: 1.5e-8 relative
    in float64); a traced ``A`` is not checked. An ``A`` that is **not positive
    definite never raises**: JAX cannot raise on values under ``jit``, and its
    Cholesky returns ``nan`` entries, which spread to every derivative. Test
    ``jnp.isfinite(L).all()`` where that can happen.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[4.0, 2.0], [2.0, 5.0]])
    >>> cholesky(A).tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    >>> jax.grad(lambda A: cholesky(A)[1, 0])(A).tolist()
    [[-0.125, 0.25], [0.25, 0.0]]
    >>> bool(jnp.isnan(cholesky(jnp.asarray([[1.0, 2.0], [2.0, 1.0]]))).any())
    True
    """
    A = jnp.asarray(A)
    rules.check_cholesky(A, _ARRAY)
    _check_symmetric("cholesky", A)
    return cholesky_custom_jvp(A)


@jax.custom_vjp
def cholesky_custom_vjp(A: Array) -> Array:
    """``L`` with ``L Lᵀ = sym(A)``, with the VJP rule :func:`cholesky_fwd`/:func:`cholesky_bwd`."""
    return rules.cholesky(A, jax_ops)


def cholesky_fwd(A: Array) -> tuple[Array, Array]:
    """Forward pass: ``L`` and the residual ``L``.

    >>> L, res = cholesky_fwd(jnp.asarray([[4.0, 2.0], [2.0, 5.0]]))
    >>> L.tolist()
    [[2.0, 0.0], [1.0, 2.0]]
    """
    L = rules.cholesky(A, jax_ops)
    return L, L


def cholesky_bwd(L: Array, L_bar: Array) -> tuple[Array]:
    """VJP: ``Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``.

    >>> (A_bar,) = cholesky_bwd(
    ...     jnp.asarray([[2.0, 0.0], [1.0, 2.0]]), jnp.asarray([[0.0, 0.0], [1.0, 0.0]])
    ... )
    >>> A_bar.tolist()
    [[-0.125, 0.25], [0.25, 0.0]]
    """
    return rules.cholesky_cotangents(L, L_bar, jax_ops)  # type: ignore[return-value]


cholesky_custom_vjp.defvjp(cholesky_fwd, cholesky_bwd)


def cholesky_vjp(A: Any) -> Array:
    """:func:`cholesky` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP ``Ā = sym(L⁻ᵀ Φ(Lᵀ L̄) L⁻¹)``.

    Same checks and conventions as :func:`cholesky` (symmetric ``Ā``; ``nan``
    for an ``A`` that is not positive definite).

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[4.0, 2.0], [2.0, 5.0]])
    >>> jax.grad(lambda A: cholesky_vjp(A)[1, 0])(A).tolist()
    [[-0.125, 0.25], [0.25, 0.0]]
    """
    A = jnp.asarray(A)
    rules.check_cholesky(A, _ARRAY)
    _check_symmetric("cholesky", A)
    return cholesky_custom_vjp(A)


# --------------------------------------------------------------------------
# eigh
# --------------------------------------------------------------------------


@jax.custom_jvp
def eigh_custom_jvp(A: Array) -> tuple[Array, Array]:
    """``(w, V)`` with ``sym(A) = V diag(w) Vᵀ``, with the JVP rule :func:`eigh_jvp_rule`."""
    return rules.eigh(A, jax_ops)


@eigh_custom_jvp.defjvp
def eigh_jvp_rule(
    primals: tuple[Array], tangents: tuple[Array]
) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """JVP: ``ẇ = diag(Vᵀ sym(Ȧ) V)``, ``V̇ = V (F ∘ (Vᵀ sym(Ȧ) V))``,
    ``F_ij = 1/(w_j − w_i)`` (0 at ties).

    >>> (w, V), (w_dot, V_dot) = eigh_jvp_rule(
    ...     (jnp.diag(jnp.asarray([1.0, 3.0])),), (jnp.ones((2, 2)),)
    ... )
    >>> w_dot.tolist(), V_dot.tolist()
    ([1.0, 1.0], [[0.0, 0.5], [-0.5, 0.0]])
    """
    (A,), (A_dot,) = primals, tangents
    w, V = rules.eigh(A, jax_ops)
    return (w, V), rules.eigh_tangent(w, V, A_dot, jax_ops)


def eigh(A: Any) -> tuple[Array, Array]:
    """Eigenvalues ``w`` (ascending) and eigenvectors ``V`` (columns) of a symmetric ``A`` ``(n, n)``.

    Returns the tuple ``(w, V)`` with ``A = V diag(w) Vᵀ``, computed by
    ``jnp.linalg.eigh`` (so ``V`` is exactly JAX's, signs included).
    ``jax.custom_jvp`` rule: JVP ``ẇ = diag(Vᵀ Ȧ V)``, ``V̇ = V (F ∘ (Vᵀ Ȧ V))``
    with ``F_ij = 1/(w_j − w_i)``; reverse mode by transposing it, which gives
    ``Ā = sym(V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ)``, symmetric. ``A`` is read
    through ``sym(A) = (A + Aᵀ)/2``.

    **What is defined.** Each eigenvector is defined up to its sign: a loss
    that depends on those signs has no well-defined gradient. At a **repeated
    eigenvalue** ``V`` is defined only up to a rotation of the eigenspace and
    is not differentiable; the rule sets ``F_ij = 0`` where ``w_i = w_j``, so a
    loss of ``w`` alone that is symmetric in the tied eigenvalues, such as
    ``Σ g(w_i)``, still gets its exact, finite gradient (also when a zero ``V̄``
    is passed explicitly), while a loss of ``V`` there has in general no
    gradient (one that depends only on the eigenspace, such as a projector,
    does, and gets it where the tie is exact). (The sorted eigenvalues
    themselves have kinks there.)

    **Checks.** As for :func:`cholesky`: dtypes and shapes always; symmetry
    only on a concrete ``A``.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[2.0, 1.0], [1.0, 2.0]])
    >>> w, V = eigh(A)
    >>> w.tolist()
    [1.0, 3.0]
    >>> jax.grad(lambda A: eigh(A)[0][1])(A).round(6).tolist()  # v₂ v₂ᵀ, v₂ = (1, 1)/√2
    [[0.5, 0.5], [0.5, 0.5]]
    """
    A = jnp.asarray(A)
    rules.check_eigh(A, _ARRAY)
    _check_symmetric("eigh", A)
    return eigh_custom_jvp(A)


@jax.custom_vjp
def eigh_custom_vjp(A: Array) -> tuple[Array, Array]:
    """``(w, V)`` with ``sym(A) = V diag(w) Vᵀ``, with the VJP rule :func:`eigh_fwd`/:func:`eigh_bwd`."""
    return rules.eigh(A, jax_ops)


def eigh_fwd(A: Array) -> tuple[tuple[Array, Array], tuple[Array, Array]]:
    """Forward pass: ``(w, V)`` and the residuals ``(w, V)``.

    >>> (w, V), _ = eigh_fwd(jnp.asarray([[2.0, 1.0], [1.0, 2.0]]))
    >>> w.tolist()
    [1.0, 3.0]
    """
    w, V = rules.eigh(A, jax_ops)
    return (w, V), (w, V)


def eigh_bwd(
    residuals: tuple[Array, Array], out_bar: tuple[Array, Array]
) -> tuple[Array]:
    """VJP: ``Ā = sym(V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ)`` (JAX passes a zero ``V̄`` for an
    unused ``V``).

    >>> w, V = jnp.asarray([1.0, 1.0]), jnp.eye(2)  # a repeated eigenvalue
    >>> (A_bar,) = eigh_bwd((w, V), (jnp.asarray([1.0, 2.0]), jnp.zeros((2, 2))))
    >>> A_bar.tolist()
    [[1.0, 0.0], [0.0, 2.0]]
    """
    w, V = residuals
    w_bar, V_bar = out_bar
    cotangents = rules.eigh_cotangents(w, V, w_bar, V_bar, jax_ops)
    return cotangents  # type: ignore[return-value]


eigh_custom_vjp.defvjp(eigh_fwd, eigh_bwd)


def eigh_vjp(A: Any) -> tuple[Array, Array]:
    """:func:`eigh` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP ``Ā = sym(V (diag(w̄) + F ∘ (Vᵀ V̄)) Vᵀ)``; same checks, conventions
    and caveats as :func:`eigh`.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[2.0, 1.0], [1.0, 2.0]])
    >>> jax.grad(lambda A: eigh_vjp(A)[0][1])(A).round(6).tolist()
    [[0.5, 0.5], [0.5, 0.5]]
    """
    A = jnp.asarray(A)
    rules.check_eigh(A, _ARRAY)
    _check_symmetric("eigh", A)
    return eigh_custom_vjp(A)
