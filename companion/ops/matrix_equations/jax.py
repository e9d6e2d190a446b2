"""JAX adapters of the matrix equations rules: ``jax.custom_jvp`` and ``jax.custom_vjp`` versions.

``lyapunov`` is a :func:`jax.custom_jvp` function: one JVP rule gives forward mode,
reverse mode (JAX linearises the rule and transposes its solve into the adjoint
Lyapunov equation with ``Aᵀ``), ``jit``, ``vmap`` and higher orders.
``lyapunov_vjp`` is the :func:`jax.custom_vjp` version: **reverse mode only**
(``jax.jvp`` raises a ``TypeError`` on it), but ``jit``, ``vmap`` and
reverse-over-reverse work. The formulas come from
``companion.ops.matrix_equations.rules``; this module is wiring. The public
functions convert their arguments with :func:`jax.numpy.asarray` and validate
shapes and dtypes (statically, so also under ``jit``).
"""

from __future__ import annotations

from typing import Any

from companion._extras import require

require("jax", "companion.jax")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

from companion.ops.matrix_equations import rules  # noqa: E402
from companion.xp.jax import jax_ops  # noqa: E402

__all__ = [
    "lyapunov",
    "lyapunov_vjp",
    "lyapunov_custom_jvp",
    "lyapunov_jvp_rule",
    "lyapunov_custom_vjp",
    "lyapunov_fwd",
    "lyapunov_bwd",
]

Array = jax.Array
_ARRAY = "a JAX array (or array-like)"


# --------------------------------------------------------------------------
# lyapunov: one LU factorisation of K = A ⊗ I + I ⊗ A, reused by the JVP (and so by its transpose)
# --------------------------------------------------------------------------


@jax.custom_jvp
def lyapunov_custom_jvp(A: Array, Q: Array) -> Array:
    """``P`` with ``A P + P Aᵀ + Q = 0``; JVP rule :func:`lyapunov_jvp_rule`."""
    P, _ = rules.lyapunov(A, Q, jax_ops)
    return P


@lyapunov_custom_jvp.defjvp
def lyapunov_jvp_rule(primals: tuple[Array, ...], tangents: tuple[Array, ...]) -> Any:
    """JVP: ``A Ṗ + Ṗ Aᵀ = −(Ȧ P + P Ȧᵀ + Q̇)``, solved with the primal's factors.

    >>> A = jnp.asarray([[-1.0, 1.0], [0.0, -1.0]])
    >>> Q = jnp.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> P, P_dot = lyapunov_jvp_rule((A, Q), (jnp.eye(2), jnp.zeros((2, 2))))
    >>> P.tolist(), P_dot.tolist()
    ([[1.0, 0.75], [0.25, 0.5]], [[1.75, 1.0], [0.5, 0.5]])
    """
    A, Q = primals
    A_dot, Q_dot = tangents
    P, lu_factors = rules.lyapunov(A, Q, jax_ops)
    return P, rules.lyapunov_tangent(lu_factors, P, A_dot, Q_dot, jax_ops)


def lyapunov(A: Any, Q: Any) -> Array:
    """``P`` with ``A P + P Aᵀ + Q = 0`` for square ``A`` and ``Q`` ``(n, n)``; ``jax.custom_jvp`` rule.

    Neither ``A`` nor ``Q`` needs to be symmetric. The Kronecker sum
    ``K = A ⊗ I + I ⊗ A`` (n² × n²) is LU-factorised once, O(n⁶) work, meant for
    n up to about 30; the JVP ``A Ṗ + Ṗ Aᵀ = −(Ȧ P + P Ȧᵀ + Q̇)`` reuses the
    factors, and reverse mode transposes it into ``Aᵀ W + W A + P̄ = 0``,
    ``Q̄ = W``, ``Ā = W Pᵀ + Wᵀ P``, a transposed solve with the same factors.

    **Eigenvalues of A.** The solution is unique when ``λᵢ + λⱼ ≠ 0`` for all
    eigenvalues of ``A``, as for a stable ``A``. Nothing about them is checked: JAX
    cannot raise on values under ``jit``. An ``A`` for which ``K`` is exactly
    singular (such as a singular ``A``) gives a zero pivot, and ``P`` (and every
    derivative) contains ``inf`` or ``nan``; check ``jnp.isfinite(P).all()`` where
    that can happen.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[-1.0, 1.0], [0.0, -1.0]])
    >>> Q = jnp.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> lyapunov(A, Q).tolist()
    [[1.0, 0.75], [0.25, 0.5]]
    >>> C = jnp.asarray([[1.0, 2.0], [0.0, 1.0]])  # the loss sum(C ⊙ P): P̄ = C
    >>> jax.grad(lambda Q: jnp.sum(C * lyapunov(A, Q)))(Q).tolist()
    [[0.5, 1.25], [0.25, 1.25]]
    >>> bool(jnp.isfinite(lyapunov(jnp.zeros((2, 2)), Q)).all())
    False
    """
    A, Q = jnp.asarray(A), jnp.asarray(Q)
    rules.check_lyapunov(A, Q, _ARRAY)
    return lyapunov_custom_jvp(A, Q)


@jax.custom_vjp
def lyapunov_custom_vjp(A: Array, Q: Array) -> Array:
    """``P`` with ``A P + P Aᵀ + Q = 0``, with the VJP rule :func:`lyapunov_fwd`/:func:`lyapunov_bwd`."""
    P, _ = rules.lyapunov(A, Q, jax_ops)
    return P


def lyapunov_fwd(A: Array, Q: Array) -> tuple[Array, tuple[Any, Array]]:
    """Forward pass: factorise ``K`` once; the residuals are its factors and ``P``.

    >>> A = jnp.asarray([[-1.0, 1.0], [0.0, -1.0]])
    >>> Q = jnp.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> P, ((lu, piv), _) = lyapunov_fwd(A, Q)
    >>> P.tolist(), lu.shape
    ([[1.0, 0.75], [0.25, 0.5]], (4, 4))
    """
    P, lu_factors = rules.lyapunov(A, Q, jax_ops)
    return P, (lu_factors, P)


def lyapunov_bwd(residuals: tuple[Any, Array], P_bar: Array) -> tuple[Array, Array]:
    """VJP: ``Aᵀ W + W A + P̄ = 0`` by the saved factors; ``Q̄ = W``,
    ``Ā = W Pᵀ + Wᵀ P``.

    >>> A = jnp.asarray([[-1.0, 1.0], [0.0, -1.0]])
    >>> Q = jnp.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> P, residuals = lyapunov_fwd(A, Q)
    >>> P_bar = jnp.asarray([[1.0, 2.0], [0.0, 1.0]])
    >>> A_bar, Q_bar = lyapunov_bwd(residuals, P_bar)
    >>> A_bar.tolist(), Q_bar.tolist()
    ([[2.0, 1.25], [2.75, 2.25]], [[0.5, 1.25], [0.25, 1.25]])
    """
    lu_factors, P = residuals
    A_bar, Q_bar = rules.lyapunov_cotangents(lu_factors, P, P_bar, jax_ops)
    return A_bar, Q_bar  # type: ignore[return-value]


lyapunov_custom_vjp.defvjp(lyapunov_fwd, lyapunov_bwd)


def lyapunov_vjp(A: Any, Q: Any) -> Array:
    """``P`` with ``A P + P Aᵀ + Q = 0`` with a ``jax.custom_vjp`` rule: **reverse mode only**.

    VJP: ``Aᵀ W + W A + P̄ = 0`` (a transposed solve with the LU factors of
    ``K = A ⊗ I + I ⊗ A`` saved by the forward pass), ``Q̄ = W``,
    ``Ā = W Pᵀ + Wᵀ P``. Eigenvalues of ``A`` as for :func:`lyapunov` (unchecked; an
    exactly singular ``K`` gives ``inf``/``nan``). Reverse-over-reverse
    differentiates through ``lyapunov_bwd`` (JAX's own LU solve derivatives), not
    through a custom rule.

    >>> import jax, jax.numpy as jnp
    >>> A = jnp.asarray([[-1.0, 1.0], [0.0, -1.0]])
    >>> Q = jnp.asarray([[1.0, 1.0], [0.0, 1.0]])
    >>> C = jnp.asarray([[1.0, 2.0], [0.0, 1.0]])  # the loss sum(C ⊙ P): P̄ = C
    >>> jax.grad(lambda Q: jnp.sum(C * lyapunov_vjp(A, Q)))(Q).tolist()
    [[0.5, 1.25], [0.25, 1.25]]
    """
    A, Q = jnp.asarray(A), jnp.asarray(Q)
    rules.check_lyapunov(A, Q, _ARRAY)
    return lyapunov_custom_vjp(A, Q)
