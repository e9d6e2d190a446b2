"""Root finding, written once: ``x`` with ``F(x, θ) = 0``, by Newton's method, and its
derivatives by the implicit function theorem.

With ``J = ∂F/∂x`` at the root (invertible) and ``θ = params``:

* Newton's step: ``x_{k+1} = x_k − J(x_k)⁻¹ F(x_k, θ)`` (:func:`root_newton_step`);
* JVP: ``ẋ = −J⁻¹ (∂F/∂θ) θ̇`` (:func:`root_tangent`), where ``(∂F/∂θ) θ̇`` is a JVP
  of ``F`` in ``θ`` at the root;
* VJP: ``u = J⁻ᵀ x̄``, ``θ̄ = −(∂F/∂θ)ᵀ u`` (:func:`root_cotangents`), where
  ``(∂F/∂θ)ᵀ u`` is a VJP of ``F`` in ``θ``; ``x̄₀ = 0``.

The root does not depend on the starting point ``x0`` (any ``x0`` in the same basin
of attraction gives the same root), so ``x0`` has zero tangent and cotangent. Each
rule needs one linear solve with ``J`` (or ``Jᵀ``) and one JVP (or VJP) of ``F``,
whatever the number of Newton iterations. The framework adapters form ``J`` with
their own Jacobian of ``F`` (``torch.func.jacrev``, ``jax.jacfwd``) and pass the
JVP/VJP of ``F`` in ``θ`` as functions; the formulas below are the same lines in
NumPy, SymPy, PyTorch and JAX.

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> F = lambda x, c: x * x - c                      # root √c
>>> jac = lambda x, c: np.diag(2 * x)
>>> x, r = np.array([1.0]), None
>>> for _ in range(6):
...     x, r, _ = root_newton_step(F, jac, x, (np.array([2.0]),), numpy_ops)
>>> x
array([1.41421356])
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from companion import _validate
from companion.xp import ArrayOps, numpy_ops  # noqa: F401  (numpy_ops: doctests)

__all__ = [
    "root_newton_step",
    "root_tangent",
    "root_cotangents",
    "check_root",
    "check_residual",
    "check_iteration",
    "param_names",
    "default_tol",
    "RootNotFoundError",
    "not_converged_message",
]

Array = Any
Needs = Sequence[bool]


class RootNotFoundError(RuntimeError):
    """Newton's method stopped without a root: ``max_iter`` iterations spent with the
    residual still above ``tol``, a singular Jacobian ``∂F/∂x`` at an iterate, or a
    non-finite residual. The message names the op, the residual reached, ``tol`` and
    ``max_iter``."""

    __module__ = "companion.torch"  # raised by companion.torch.root; its public home


def root_newton_step(
    F: Callable[..., Array],
    jacobian: Callable[..., Array],
    x: Array,
    params: tuple[Any, ...],
    xp: ArrayOps,
) -> tuple[Array, Array, Any]:
    """Newton's step: ``x_{k+1} = x_k − (∂F/∂x)⁻¹ F(x_k, θ)``; returns
    ``(x_{k+1}, ‖F(x_k, θ)‖∞, lu_factors)``.

    ``jacobian(x, *params)`` is ``∂F/∂x`` at ``x`` (the framework's Jacobian of
    ``F``); it is factorised once (``xp.lu_factor``) and the factors are returned
    too. The residual norm is the one at ``x_k``, before the step.

    >>> import numpy as np
    >>> F = lambda x, c: x * x - c
    >>> jac = lambda x, c: np.diag(2 * x)
    >>> x0, c = np.array([1.0]), np.array([2.0])
    >>> x1, r0, _ = root_newton_step(F, jac, x0, (c,), numpy_ops)
    >>> x1, r0
    (array([1.5]), np.float64(1.0))
    """
    r = F(x, *params)
    lu_factors = xp.lu_factor(jacobian(x, *params))
    return x - xp.lu_solve(lu_factors, r), xp.abs(r).max(), lu_factors


def root_tangent(lu_factors: Any, F_dot: Array, xp: ArrayOps) -> Array:
    """JVP: ``ẋ = −(∂F/∂x)⁻¹ (∂F/∂θ) θ̇``, given ``F_dot = (∂F/∂θ) θ̇`` and the
    factors of ``∂F/∂x`` at the root.

    ``F_dot`` is a JVP of ``F`` in its parameters at the root ``x`` (``x`` held
    fixed); the tangent of ``x0`` does not enter.

    >>> import numpy as np
    >>> # F(x, c) = x² − c at the root x = 2 (c = 4): ∂F/∂x = 4, ∂F/∂c = −1,
    >>> # so ẋ = ċ / 4
    >>> root_tangent(np.array([[4.0]]), np.array([-1.0]), numpy_ops)
    array([0.25])
    """
    return -xp.lu_solve(lu_factors, F_dot)


def root_cotangents(
    lu_factors: Any,
    x_bar: Array,
    F_vjp: Callable[[Array], tuple[Array, ...]],
    xp: ArrayOps,
    needs: Needs,
) -> tuple[Array | None, ...]:
    """VJP: ``u = (∂F/∂x)⁻ᵀ x̄``, ``θ̄ = −(∂F/∂θ)ᵀ u``, ``x̄₀ = 0``; returns
    ``(x̄₀, *θ̄)``.

    ``F_vjp(v)`` is ``(∂F/∂θ)ᵀ v`` for each parameter (a VJP of ``F`` in its
    parameters at the root, ``x`` held fixed); it is called once, on ``−u``
    (negating the vector, not each cotangent). ``needs`` has one flag for ``x0``
    and one per parameter; ``x0`` gets zeros (the root does not move with the
    starting point: ``∂x/∂x0 = 0``), a parameter that needs no cotangent gets ``None``.

    >>> import numpy as np
    >>> # F(x, c) = x² − c at x = 2: u = x̄ / 4, c̄ = −(−1) u = x̄ / 4
    >>> F_vjp = lambda v: (-v,)
    >>> lu_factors, x_bar = np.array([[4.0]]), np.array([1.0])
    >>> root_cotangents(lu_factors, x_bar, F_vjp, numpy_ops, (True, True))
    (array([0.]), array([0.25]))
    """
    # x̄₀ = (∂x/∂x0)ᵀ x̄ with ∂x/∂x0 = 0: written as 0 · x̄ (x and x0 have one
    # shape), so it stays connected to x̄ in a graph of higher derivatives, as a
    # zero should.
    x0_bar = 0 * x_bar if needs[0] else None
    if not any(needs[1:]):
        return (x0_bar, *(None for _ in needs[1:]))
    u = xp.lu_solve(lu_factors, x_bar, trans=True)
    params_bar = F_vjp(-u)
    return (x0_bar, *(p if need else None for p, need in zip(params_bar, needs[1:])))


# --------------------------------------------------------------------------
# input checks and messages
# --------------------------------------------------------------------------


def param_names(F: Callable[..., Any], count: int) -> tuple[str, ...]:
    """Names for the parameters in error messages: ``F``'s own argument names after
    ``x``, where its signature gives them, else ``params[i]``.

    >>> param_names(lambda x, A, b: x, 2)
    ('A', 'b')
    >>> param_names(lambda x, *p: x, 2)
    ('params[0]', 'params[1]')
    """
    try:
        kinds = (
            inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD
        )
        parameters = inspect.signature(F).parameters.values()
        named = [p.name for p in parameters if p.kind in kinds][1:]
    except (TypeError, ValueError):
        named = []
    if len(set(named)) != len(named) or set(named) & {"x0", "op", "array_type"}:
        named = []  # names the checks' own keywords use: fall back on positions
    return tuple(named[i] if i < len(named) else f"params[{i}]" for i in range(count))


def check_root(
    F: Any, x0: Any, params: dict[str, Any], array_type: str = "an array"
) -> None:
    """``F`` callable, ``x0`` a vector ``(n,)`` and every parameter an array, all of one
    floating dtype. ``params`` maps each parameter's name (:func:`param_names`) to it
    (JAX: to each leaf of its pytree).

    >>> import numpy as np
    >>> check_root(lambda x, c: x - c, np.ones((2, 2)), {"c": np.ones(2)})
    Traceback (most recent call last):
        ...
    ValueError: root: x0 must be a vector of shape (n,); got shape (2, 2)
    """
    if not callable(F):
        raise TypeError(
            "root: F must be a function F(x, *params) returning an array like x; "
            f"got {type(F).__name__}"
        )
    _validate.check_arrays("root", array_type, x0=x0, **params)
    if x0.ndim != 1:
        raise ValueError(
            "root: x0 must be a vector of shape (n,); "
            f"got shape {_validate.shape_of(x0)}"
        )


def check_iteration(tol: Any, max_iter: Any) -> None:
    """``tol`` a positive finite number, ``max_iter`` a positive integer.

    >>> check_iteration(0.0, 50)
    Traceback (most recent call last):
        ...
    ValueError: root: tol must be a positive finite number; got 0.0
    """
    if (
        isinstance(tol, bool)
        or not isinstance(tol, (int, float))
        or not 0 < tol < float("inf")
    ):
        raise ValueError(f"root: tol must be a positive finite number; got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"root: max_iter must be a positive integer; got {max_iter!r}")


def check_residual(r: Any, x0: Any) -> None:
    """``F(x0, *params)`` has the shape and dtype of ``x0``: ``F`` maps a vector of
    ``n`` unknowns to ``n`` equations.

    >>> import numpy as np
    >>> check_residual(np.ones(3), np.ones(2))
    Traceback (most recent call last):
        ...
    ValueError: root: F(x0, *params) must have the shape of x0, (2,)
    (F maps Rⁿ to Rⁿ); got shape (3,)
    """
    if _validate.shape_of(r) != _validate.shape_of(x0):
        raise ValueError(
            f"root: F(x0, *params) must have the shape of x0, {_validate.shape_of(x0)} "
            "(F maps Rⁿ to Rⁿ); "
            f"got shape {_validate.shape_of(r)}"
        )
    if _validate.dtype_name(r) != _validate.dtype_name(x0):
        raise TypeError(
            "root: F(x0, *params) must have the dtype of x0, "
            f"{_validate.dtype_name(x0)}; "
            f"got dtype {_validate.dtype_name(r)}"
        )


def default_tol(dtype: str) -> float:
    """The default tolerance on ``‖F(x_k, θ)‖∞``: the square root of the dtype's machine
    epsilon (``1.5e-8`` for float64, ``3.5e-4`` for float32). The step taken from the
    first iterate below it makes the residual of order ``tol²`` (Newton's quadratic
    convergence), so the returned root is accurate to rounding for a simple root.

    >>> default_tol("float64")
    1.4901161193847656e-08
    """
    eps = {
        "float64": 2.0**-52,
        "float32": 2.0**-23,
        "float16": 2.0**-10,
        "bfloat16": 2.0**-7,
    }[dtype]
    return eps**0.5


def not_converged_message(
    cause: str, k: int, residual: float, tol: float, max_iter: int
) -> str:
    """The message of :class:`RootNotFoundError`: op, cause, iterate, residual reached,
    ``tol``, ``max_iter``.

    >>> not_converged_message("no convergence", 50, 0.25, 1e-8, 50)
    "root: Newton's method found no root (no convergence): residual ‖F(x, θ)‖∞ = 2.5e-01
    at iterate 50, tol = 1.0e-08, max_iter = 50"
    """
    return (
        f"root: Newton's method found no root ({cause}): "
        f"residual ‖F(x, θ)‖∞ = {residual:.1e} "
        f"at iterate {k}, tol = {tol:.1e}, max_iter = {max_iter}"
    )
