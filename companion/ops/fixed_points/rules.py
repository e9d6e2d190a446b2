"""Fixed points, written once: ``x* = f(x*, θ)`` and its derivatives without unrolling.

``fixed_point`` iterates ``x_{k+1} = f(x_k, θ)``. Its derivatives come from the
implicit function theorem applied to ``F(x, θ) = x − f(x, θ) = 0``: they are
themselves fixed points of *linear* maps with the same asymptotic rate (the
spectral radius of ``∂f/∂x`` at ``x*``),

* JVP: ``ẋ = (∂f/∂x) ẋ + (∂f/∂θ) θ̇``, the fixed point of
  :func:`fixed_point_tangent_map` (JVPs of ``f`` only);
* VJP: ``u = x̄ + (∂f/∂x)ᵀ u``, the fixed point of :func:`fixed_point_adjoint_map`
  (VJPs of ``f`` only), then ``θ̄ = (∂f/∂θ)ᵀ u`` (:func:`fixed_point_cotangents`).

No Jacobian is formed and nothing of the forward iterations is kept: the
adapters pass the framework's own ``v ↦ (∂f/∂x) v`` (``jvp_x``) and
``u ↦ (∂f/∂x)ᵀ u`` (``vjp_x``) at the converged ``x*``. The starting point
``x0`` gets no derivative (``x*`` does not depend on it).

>>> import numpy as np
>>> from companion.xp import numpy_ops
>>> x, residual, iterations = fixed_point(lambda x, c: 0.5 * x + c, np.zeros(1), (np.ones(1),),
...                                        numpy_ops, tol=1e-12, max_iter=100)
>>> x  # x = x/2 + 1
array([2.])
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from companion import _validate
from companion.xp import ArrayOps, numpy_ops  # noqa: F401  (numpy_ops: doctests)

__all__ = [
    "fixed_point",
    "fixed_point_step",
    "fixed_point_tangent_map",
    "fixed_point_adjoint_map",
    "fixed_point_cotangents",
    "check_fixed_point",
    "check_fixed_point_value",
    "check_fixed_point_options",
    "default_tol",
    "not_converged_message",
    "param_names",
]

Array = Any
Needs = Sequence[bool]

DEFAULT_MAX_ITER = 1000
"""The default iteration budget of the public functions."""


def default_tol(dtype_name: str) -> float:
    """The default tolerance, 64 machine epsilons of the dtype: ``1.4e-14`` for float64.

    >>> default_tol("float64"), default_tol("float32")
    (1.4210854715202004e-14, 7.62939453125e-06)
    """
    eps = {"float64": 2.0**-52, "float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7}
    return 64 * eps[dtype_name]


def fixed_point_step(f: Callable[..., Array], x: Array, params: Sequence[Any], xp: ArrayOps) -> tuple[Array, Array]:
    """One step ``x_{k+1} = f(x_k, θ)`` and its residual ``‖x_{k+1} − x_k‖_∞ / (1 + ‖x_{k+1}‖_∞)``.

    The residual is relative to the size of ``x`` (absolute for ``‖x‖ ≤ 1``), so
    the same ``tol`` serves a fixed point and its tangents and adjoints, whose
    scale is set by the seed.

    >>> import numpy as np
    >>> fx, residual = fixed_point_step(lambda x: 0.5 * x + 1, np.zeros(2), (), numpy_ops)
    >>> fx, float(residual)
    (array([1., 1.]), 0.5)
    """
    fx = f(x, *params)
    check_fixed_point_value(fx, x)
    return fx, xp.max(xp.abs(fx - x)) / (1 + xp.max(xp.abs(fx)))


def fixed_point(
    f: Callable[..., Array],
    x0: Array,
    params: Sequence[Any],
    xp: ArrayOps,
    tol: float,
    max_iter: int,
    converged: Callable[[Array, float], bool] | None = None,
) -> tuple[Array, Array, int]:
    """Primal: ``x_{k+1} = f(x_k, θ)`` until ``‖x_{k+1} − x_k‖_∞ ≤ tol (1 + ‖x_{k+1}‖_∞)``; ``x* = f(x*, θ)``.

    Returns ``(x, residual, iterations)``; the caller decides what a residual
    above ``tol`` after ``max_iter`` steps means (PyTorch raises, JAX returns
    NaN). ``converged(residual, tol)`` reads the residual as a Python bool
    (default ``bool(residual <= tol)``); PyTorch passes one that also works
    inside ``torch.func.vmap``. The JAX adapter runs the same step in a
    ``jax.lax.while_loop`` instead.

    >>> import numpy as np
    >>> x, residual, iterations = fixed_point(
    ...     np.cos, np.zeros(1), (), numpy_ops, tol=1e-12, max_iter=200
    ... )
    >>> x.round(6), iterations  # the Dottie number
    (array([0.739085]), 69)
    """
    converged = converged or (lambda r, t: bool(r <= t))
    x, residual = x0, None
    for k in range(1, max_iter + 1):
        x, residual = fixed_point_step(f, x, params, xp)
        if converged(residual, tol):
            return x, residual, k
    return x, residual, max_iter


def fixed_point_tangent_map(
    v: Array, b: Array, jvp_x: Callable[[Array], Array]
) -> Array:
    """JVP: ``ẋ = (∂f/∂x) ẋ + (∂f/∂θ) θ̇``, the fixed point of ``v ↦ b + (∂f/∂x) v``
    with ``b = (∂f/∂θ) θ̇``.

    ``jvp_x(v)`` is ``(∂f/∂x) v`` at the converged ``x*``; ``b`` is the JVP of
    ``f`` in its parameters. The map contracts exactly as ``f`` does near
    ``x*`` (its Jacobian is ``∂f/∂x``), so the same iteration converges.

    >>> import numpy as np
    >>> A = np.array([[0.5, 0.0], [0.0, 0.25]])
    >>> fixed_point_tangent_map(np.ones(2), np.ones(2), lambda v: A @ v)
    array([1.5 , 1.25])
    """
    return b + jvp_x(v)


def fixed_point_adjoint_map(
    u: Array, x_bar: Array, vjp_x: Callable[[Array], Array]
) -> Array:
    """VJP: ``u = x̄ + (∂f/∂x)ᵀ u``, ``θ̄ = (∂f/∂θ)ᵀ u``; this is the map
    ``u ↦ x̄ + (∂f/∂x)ᵀ u`` whose fixed point is ``u``.

    ``vjp_x(u)`` is ``(∂f/∂x)ᵀ u`` at the converged ``x*``. The transposed
    Jacobian has the spectral radius of ``∂f/∂x``, so the adjoint iteration
    converges at the rate of the forward one.

    >>> import numpy as np
    >>> A = np.array([[0.5, 0.5], [0.0, 0.25]])
    >>> fixed_point_adjoint_map(np.ones(2), np.ones(2), lambda u: A.T @ u)
    array([1.5 , 1.75])
    """
    return x_bar + vjp_x(u)


def fixed_point_cotangents(
    u: Array, vjp_params: Callable[[Array], Sequence[Array]], needs: Needs | None = None
) -> tuple[Array | None, ...]:
    """VJP, second half: ``θ̄ = (∂f/∂θ)ᵀ u`` with the adjoint ``u`` (the fixed point of :func:`fixed_point_adjoint_map`).

    ``vjp_params(u)`` returns ``(∂f/∂θᵢ)ᵀ u`` for every parameter; entries
    whose ``needs`` flag is false become None.

    >>> import numpy as np
    >>> fixed_point_cotangents(np.ones(2), lambda u: (2 * u, 3 * u), needs=(True, False))
    (array([2., 2.]), None)
    """
    params_bar = tuple(vjp_params(u))
    needs = needs if needs is not None else (True,) * len(params_bar)
    return tuple(p if n else None for p, n in zip(params_bar, needs))


def param_names(f: Callable[..., Any], n: int) -> tuple[str, ...]:
    """Names for the ``n`` parameters in error messages: ``f``'s own parameter names after
    the first, where its signature gives them, else ``params[i]``.

    >>> param_names(lambda x, W, b: x, 2)
    ('W', 'b')
    >>> param_names(lambda x, *p: x, 2)
    ('params[0]', 'params[1]')
    """
    try:
        sig = list(inspect.signature(f).parameters.values())[1:]
    except (TypeError, ValueError):
        sig = []
    plain = [
        p.name for p in sig if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    return tuple(plain[i] if i < len(plain) else f"params[{i}]" for i in range(n))


def check_fixed_point_options(tol: Any, max_iter: Any) -> None:
    """``tol`` a positive number, ``max_iter`` a positive int.

    >>> check_fixed_point_options(0.0, 10)
    Traceback (most recent call last):
        ...
    ValueError: fixed_point: tol must be a positive number; got 0.0
    """
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not tol > 0:
        raise ValueError(f"fixed_point: tol must be a positive number; got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(
            f"fixed_point: max_iter must be a positive int; got {max_iter!r}"
        )


def check_fixed_point(
    f: Any,
    x0: Any,
    params: Sequence[Any],
    array_type: str = "an array",
    names: Sequence[str] | None = None,
) -> str:
    """``f`` callable; ``x0`` and every array parameter of one real floating dtype; returns that dtype.

    >>> import numpy as np
    >>> check_fixed_point(lambda x, W: W @ x, np.zeros(2), (np.eye(2, dtype=np.float32),))
    Traceback (most recent call last):
        ...
    TypeError: fixed_point: x0 and W must have the same dtype; got ..., W is float32
    """
    if not callable(f):
        raise TypeError(
            f"fixed_point: f must be a callable f(x, *params); got {type(f).__name__}"
        )
    names = tuple(names) if names is not None else param_names(f, len(params))
    arrays = {"x0": x0}
    arrays.update({name: p for name, p in zip(names, params)})
    return _validate.check_arrays("fixed_point", array_type, **arrays)


def check_fixed_point_value(fx: Any, x0: Any) -> None:
    """``f(x0, *params)`` has ``x0``'s shape and dtype (a fixed point maps a space to itself).

    >>> import numpy as np
    >>> check_fixed_point_value(np.zeros(3), np.zeros(2))
    Traceback (most recent call last):
        ...
    ValueError: fixed_point: f(x0, *params) must have x0's shape ...; got shape (3,) ...
    """
    if getattr(fx, "shape", None) is None or getattr(fx, "dtype", None) is None:
        raise TypeError(
            f"fixed_point: f(x0, *params) must return an array like x0; got {type(fx).__name__}"
        )
    if _validate.shape_of(fx) != _validate.shape_of(x0) or _validate.dtype_name(
        fx
    ) != _validate.dtype_name(x0):
        raise ValueError(
            f"fixed_point: f(x0, *params) must have x0's shape {_validate.shape_of(x0)} and dtype "
            f"{_validate.dtype_name(x0)}; got shape {_validate.shape_of(fx)} and dtype {_validate.dtype_name(fx)}"
        )


def not_converged_message(
    residual: float, tol: float, max_iter: int, what: str = "x = f(x, *params)"
) -> str:
    """The message of a fixed-point iteration that ran out of iterations.

    >>> import textwrap
    >>> print(textwrap.fill(not_converged_message(0.5, 1e-12, 10), 80))
    fixed_point: no convergence of x = f(x, *params) in max_iter=10 iterations: the
    residual ‖f(x) − x‖_∞ / (1 + ‖f(x)‖_∞) reached 5.0e-01 > tol=1e-12 (is f a
    contraction near the fixed point?)
    """
    return (
        f"fixed_point: no convergence of {what} in max_iter={max_iter} iterations: the residual "
        f"‖f(x) − x‖_∞ / (1 + ‖f(x)‖_∞) reached {residual:.1e} > tol={tol:g} "
        "(is f a contraction near the fixed point?)"
    )
