"""A framework-agnostic checker for anyone's derivative rules.

:func:`check_rule` takes a function of NumPy float64 arrays and a JVP rule,
a VJP rule or both, and checks them the way a careful reviewer would:

1. **JVP against central finite differences**, input by input, in several
   random directions: ``ẏ ≈ (f(x + εv) − f(x − εv)) / 2ε``.
2. **VJP by the dot-product test**, input by input: ``⟨w, J v⟩ = ⟨x̄, v⟩`` for
   random ``v`` and ``w``, with ``J v`` from the JVP (or from finite
   differences when no JVP is given).
3. **Taylor remainder**: ``‖f(x + h v) − f(x) − h J v‖ = O(h²)``, by the slope of
   its log-log line over a range of ``h`` (a wrong ``J v`` gives slope 1).

On failure it raises :class:`RuleCheckError` saying which check failed, by how
much and for which input; on success it returns a :class:`RuleReport`.
:func:`taylor_remainder` gives the ``(h, remainder)`` data for a plot.

:func:`check_torch` and :func:`check_jax` run the same checks on a PyTorch or
JAX function through the framework's own ``jvp``/``vjp``; they import their
framework when called, so importing this module imports neither.

>>> import numpy as np
>>> f = lambda x, y: y * np.sin(x)
>>> jvp = lambda p, t: (f(*p), p[1] * np.cos(p[0]) * t[0] + np.sin(p[0]) * t[1])
>>> vjp = lambda p, w: (w * p[1] * np.cos(p[0]), w * np.sin(p[0]))
>>> args = (np.linspace(0, 1, 3), np.ones(3))
>>> report = check_rule(f, args, jvp=jvp, vjp=vjp)
>>> round(report.taylor.slope)
2
>>> bad_vjp = lambda p, w: (-w * p[1] * np.cos(p[0]), w * np.sin(p[0]))
>>> check_rule(f, args, jvp=jvp, vjp=bad_vjp, arg_names=("x", "y"))
Traceback (most recent call last):
    ...
companion.testing.RuleCheckError: check_rule: VJP fails the dot-product test ...
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "check_rule",
    "check_torch",
    "check_jax",
    "taylor_remainder",
    "RuleCheckError",
    "RuleReport",
    "TaylorData",
]

Arrays = tuple[np.ndarray, ...]
JvpRule = Callable[[Arrays, Arrays], tuple[Any, Any]]
VjpRule = Callable[[Arrays, Any], Sequence[Any]]

_EPS = np.finfo(np.float64).eps


class RuleCheckError(AssertionError):
    """A derivative rule failed one of :func:`check_rule`'s checks."""


@dataclass(frozen=True)
class TaylorData:
    """The Taylor remainder ``r(h) = ‖f(x + h v) − f(x) − h J v‖`` over step sizes ``h``.

    ``slope`` is the least-squares slope of ``log r`` against ``log h`` over the
    points ``used``: the five smallest ``h`` whose remainder is above the
    round-off floor (the order is asymptotic, as ``h → 0``). It is ``nan`` when
    fewer than three remain, e.g. when ``f`` is linear along ``v``.
    """

    h: np.ndarray
    remainder: np.ndarray
    used: np.ndarray
    slope: float

    def __repr__(self) -> str:
        return f"TaylorData(slope={self.slope:.3f}, h=[{self.h[0]:.2g} … {self.h[-1]:.2g}], points={len(self.h)})"


@dataclass(frozen=True)
class RuleReport:
    """What :func:`check_rule` measured (all checks passed).

    ``jvp_error[name]``: the largest relative error of the JVP against finite
    differences over the directions tried for input ``name``;
    ``vjp_error[name]``: the relative error of the dot-product test for input
    ``name``; ``taylor_slope[name]``: the Taylor remainder's log-log slope along
    a direction moving input ``name`` (``nan`` where ``f`` is linear in it), and
    under ``"all inputs jointly"``; ``taylor``: the data of that joint line.
    """

    jvp_error: dict[str, float] = field(default_factory=dict)
    vjp_error: dict[str, float] = field(default_factory=dict)
    taylor_slope: dict[str, float] = field(default_factory=dict)
    taylor: TaylorData | None = None

    def __repr__(self) -> str:
        lines = ["RuleReport("]
        if self.jvp_error:
            lines.append(
                "  JVP vs finite differences (max rel. error): " + _fmt(self.jvp_error)
            )
        if self.vjp_error:
            lines.append(
                "  VJP dot-product test (rel. error):          " + _fmt(self.vjp_error)
            )
        if self.taylor_slope:
            lines.append(
                "  Taylor remainder log-log slope (expect 2):  "
                + ", ".join(
                    f"{k}: "
                    + ("linear, remainder at round-off" if np.isnan(v) else f"{v:.2f}")
                    for k, v in self.taylor_slope.items()
                )
            )
        return "\n".join(lines) + "\n)"


def _fmt(errors: dict[str, float]) -> str:
    return ", ".join(f"{k}: {v:.1e}" for k, v in errors.items())


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------


def _as_tuple(out: Any) -> Arrays:
    """Outputs (an array or a tuple/list of arrays) as a tuple of float64 arrays."""
    if isinstance(out, (tuple, list)):
        return tuple(np.asarray(o, dtype=np.float64) for o in out)
    return (np.asarray(out, dtype=np.float64),)


def _norm(arrays: Arrays) -> float:
    return float(np.sqrt(sum(float(np.sum(a * a)) for a in arrays)))


def _dot(a: Arrays, b: Arrays) -> float:
    return float(sum(float(np.sum(p * q)) for p, q in zip(a, b, strict=True)))


def _sub(a: Arrays, b: Arrays) -> Arrays:
    return tuple(p - q for p, q in zip(a, b, strict=True))


def _axpy(x: Arrays, h: float, v: Arrays) -> Arrays:
    return tuple(p + h * q for p, q in zip(x, v, strict=True))


def _names(n: int, arg_names: Sequence[str] | None) -> list[str]:
    if arg_names is not None:
        if len(arg_names) != n:
            raise ValueError(
                f"check_rule: arg_names has {len(arg_names)} names for {n} arguments"
            )
        return list(arg_names)
    return [f"args[{i}]" for i in range(n)]


def _basis_direction(args: Arrays, i: int, rng: np.random.Generator) -> Arrays:
    """A random direction that moves input ``i`` only."""
    return tuple(
        rng.standard_normal(a.shape) if j == i else np.zeros_like(a)
        for j, a in enumerate(args)
    )


def _central_difference(
    f: Callable[..., Any], args: Arrays, v: Arrays, eps: float
) -> Arrays:
    step = eps * max(
        1.0, max((float(np.max(np.abs(a))) for a in args if a.size), default=1.0)
    )
    plus, minus = (
        _as_tuple(f(*_axpy(args, step, v))),
        _as_tuple(f(*_axpy(args, -step, v))),
    )
    return tuple((p - m) / (2 * step) for p, m in zip(plus, minus, strict=True))


def _close(got: Arrays, want: Arrays, rtol: float, atol: float) -> tuple[bool, float]:
    """Whether ``‖got − want‖ ≤ atol + rtol ‖want‖``, and the relative error."""
    err, scale = _norm(_sub(got, want)), _norm(want)
    return err <= atol + rtol * scale, err / max(scale, atol, _EPS)


# --------------------------------------------------------------------------
# Taylor remainder
# --------------------------------------------------------------------------


def taylor_remainder(
    f: Callable[..., Any],
    args: Sequence[Any],
    jvp: JvpRule | None = None,
    *,
    direction: Sequence[Any] | None = None,
    J_v: Any = None,
    h0: float = 0.1,
    steps: int = 10,
    seed: int = 0,
) -> TaylorData:
    """The Taylor remainder ``r(h) = ‖f(x + h v) − f(x) − h J v‖`` for ``h = h0, h0/2, …``.

    ``J v`` comes from ``jvp`` (or is given as ``J_v``); ``v`` is ``direction``
    or a seeded random direction moving every input. A correct ``J v`` gives
    ``r(h) = O(h²)``: a log-log slope of 2.

    >>> import numpy as np
    >>> jvp = lambda p, t: (np.sin(p[0]), np.cos(p[0]) * t[0])
    >>> data = taylor_remainder(np.sin, (np.array([0.3, 1.2]),), jvp)
    >>> data.h.shape, round(data.slope, 1)
    ((10,), 2.0)
    """
    x = tuple(np.asarray(a, dtype=np.float64) for a in args)
    rng = np.random.default_rng(seed)
    v = (
        tuple(np.asarray(d, dtype=np.float64) for d in direction)
        if direction is not None
        else tuple(rng.standard_normal(a.shape) for a in x)
    )
    if J_v is None:
        if jvp is None:
            raise ValueError("taylor_remainder: give jvp or J_v")
        J_v = jvp(x, v)[1]
    J_v = _as_tuple(J_v)
    y = _as_tuple(f(*x))
    h = h0 * 0.5 ** np.arange(steps)
    r = np.array(
        [
            _norm(
                _sub(
                    _sub(_as_tuple(f(*_axpy(x, hk, v))), y), tuple(hk * t for t in J_v)
                )
            )
            for hk in h
        ]
    )
    floor = 1e3 * _EPS * (1.0 + _norm(y))
    used = r > floor
    # The asymptotic order shows at small h: fit the (up to) 5 smallest steps above the floor.
    used[np.flatnonzero(used)[:-5]] = False
    if used.sum() >= 3:
        slope = float(np.polyfit(np.log(h[used]), np.log(r[used]), 1)[0])
    else:
        slope = float("nan")
    return TaylorData(h=h, remainder=r, used=used, slope=slope)


# --------------------------------------------------------------------------
# check_rule
# --------------------------------------------------------------------------


def check_rule(
    f: Callable[..., Any],
    args: Sequence[Any],
    *,
    jvp: JvpRule | None = None,
    vjp: VjpRule | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    seed: int = 0,
    directions: int = 3,
    eps: float = 1e-6,
    min_slope: float = 1.8,
    arg_names: Sequence[str] | None = None,
) -> RuleReport:
    """Check a JVP rule, a VJP rule or both for ``f`` at ``args``; raise :class:`RuleCheckError` on failure.

    ``f(*args)`` maps NumPy float64 arrays to an array or a tuple of arrays.
    ``jvp(primals, tangents) -> (primal_out, tangent_out)`` (the contract of a
    ``jax.custom_jvp`` rule); ``vjp(primals, cotangent_out)`` returns one
    cotangent per input. Checks, each per input and in ``directions`` seeded
    random directions:

    * JVP ≈ central finite differences with step ``eps`` (relative to the
      inputs' size): ``‖ẏ − ẏ_fd‖ ≤ atol + rtol·‖ẏ_fd‖``, loosened to
      ``max(rtol, 1e-5)`` because finite differences are only that accurate;
    * the JVP's primal output equals ``f(*args)``;
    * VJP: each cotangent has its input's shape, and
      ``|⟨w, J v⟩ − ⟨x̄, v⟩| ≤ atol + rtol·(|⟨w, J v⟩| + ‖w‖‖J v‖)``;
    * Taylor remainder slope ≥ ``min_slope`` (when ``f`` is not linear along
      the direction); with only a VJP, ``J v`` is assembled from VJPs of unit
      cotangents.

    ``arg_names`` names the inputs in messages (default ``args[i]``).
    """
    if jvp is None and vjp is None:
        raise ValueError("check_rule: give a jvp rule, a vjp rule or both")
    x = tuple(np.asarray(a, dtype=np.float64) for a in args)
    names = _names(len(x), arg_names)
    rng = np.random.default_rng(seed)
    y = _as_tuple(f(*x))
    fd_rtol = max(rtol, 1e-5)
    jvp_error: dict[str, float] = {}
    vjp_error: dict[str, float] = {}

    if jvp is not None:
        primal_out, _ = jvp(x, tuple(np.zeros_like(a) for a in x))
        ok, err = _close(_as_tuple(primal_out), y, rtol, atol)
        if not ok:
            raise RuleCheckError(
                f"check_rule: the JVP rule's primal output differs from f(*args): relative error {err:.2e} > rtol {rtol:g}"
            )

    for i, name in enumerate(names):
        for k in range(directions):
            v = _basis_direction(x, i, rng)
            w = tuple(rng.standard_normal(o.shape) for o in y)
            fd = _central_difference(f, x, v, eps)
            if jvp is not None:
                J_v = _as_tuple(jvp(x, v)[1])
                if [t.shape for t in J_v] != [o.shape for o in y]:
                    raise RuleCheckError(
                        f"check_rule: JVP tangent output for input {name} has shapes {[t.shape for t in J_v]}; "
                        f"expected the output shapes {[o.shape for o in y]}"
                    )
                ok, err = _close(J_v, fd, fd_rtol, atol)
                jvp_error[name] = max(jvp_error.get(name, 0.0), err)
                if not ok:
                    raise RuleCheckError(
                        f"check_rule: JVP disagrees with central finite differences for input {name} "
                        f"(direction {k}): relative error {err:.2e} > rtol {fd_rtol:g} "
                        f"(‖J v − fd‖ = {_norm(_sub(J_v, fd)):.3e}, ‖fd‖ = {_norm(fd):.3e})"
                    )
            else:
                J_v = fd
            if vjp is not None:
                x_bar = tuple(vjp(x, w if len(y) > 1 else w[0]))
                if len(x_bar) != len(x):
                    raise RuleCheckError(
                        f"check_rule: VJP returned {len(x_bar)} cotangents for {len(x)} inputs"
                    )
                got = np.asarray(x_bar[i], dtype=np.float64)
                if got.shape != x[i].shape:
                    raise RuleCheckError(
                        f"check_rule: VJP cotangent for input {name} has shape {got.shape}; "
                        f"expected the input's shape {x[i].shape} (reduce broadcast dimensions)"
                    )
                lhs, rhs = _dot(w, J_v), float(np.sum(got * v[i]))
                scale = abs(lhs) + _norm(w) * _norm(J_v)
                tol = rtol if jvp is not None else fd_rtol
                err = abs(lhs - rhs) / max(scale, _EPS)
                vjp_error[name] = max(vjp_error.get(name, 0.0), err)
                if abs(lhs - rhs) > atol + tol * scale:
                    raise RuleCheckError(
                        f"check_rule: VJP fails the dot-product test <w, J v> = <x̄, v> for input {name} "
                        f"(direction {k}): <w, J v> = {lhs:.6e} but <x̄, v> = {rhs:.6e}, "
                        f"relative error {err:.2e} > rtol {tol:g}"
                    )

    def J_dot(v: Arrays) -> Arrays:
        return (
            _as_tuple(jvp(x, v)[1]) if jvp is not None else _jvp_from_vjp(vjp, x, y, v)
        )  # type: ignore[arg-type]

    taylor_slope: dict[str, float] = {}
    moves = [(name, _basis_direction(x, i, rng)) for i, name in enumerate(names)]
    joint = tuple(rng.standard_normal(a.shape) for a in x)
    for name, v in moves + [("all inputs jointly", joint)]:
        taylor = taylor_remainder(f, x, direction=v, J_v=J_dot(v), seed=seed)
        taylor_slope[name] = taylor.slope
        if not (np.isnan(taylor.slope) or taylor.slope >= min_slope):
            raise RuleCheckError(
                f"check_rule: Taylor remainder ‖f(x + h v) − f(x) − h J v‖ for input {name} has log-log slope "
                f"{taylor.slope:.2f} < {min_slope} (expected 2, so J v is not the derivative); "
                "remainders at h = "
                + ", ".join(
                    f"{h:.3g}: {r:.2e}"
                    for h, r in zip(taylor.h[:4], taylor.remainder[:4])
                )
                + " …"
            )
    return RuleReport(
        jvp_error=jvp_error,
        vjp_error=vjp_error,
        taylor_slope=taylor_slope,
        taylor=taylor,
    )


def _jvp_from_vjp(vjp: VjpRule, x: Arrays, y: Arrays, v: Arrays) -> Arrays:
    """``J v`` assembled entry by entry: ``(J v)_k = ⟨x̄(e_k), v⟩`` for unit cotangents ``e_k``."""
    out = []
    for j, o in enumerate(y):
        flat = np.zeros(o.size)
        for k in range(o.size):
            e = tuple(np.zeros_like(p) for p in y)
            e[j].reshape(-1)[k] = 1.0
            flat[k] = _dot(
                tuple(
                    np.asarray(c, np.float64) for c in vjp(x, e if len(y) > 1 else e[0])
                ),
                v,
            )
        out.append(flat.reshape(o.shape))
    return tuple(out)


# --------------------------------------------------------------------------
# The same checks through the frameworks' own jvp/vjp
# --------------------------------------------------------------------------


def _structure(out: Any, convert: Callable[[Any], Any]) -> Any:
    return (
        tuple(convert(o) for o in out)
        if isinstance(out, (tuple, list))
        else convert(out)
    )


def check_torch(
    fn: Callable[..., Any],
    args: Sequence[Any],
    *,
    jvp: bool = True,
    vjp: bool = True,
    **kwargs: Any,
) -> RuleReport:
    """:func:`check_rule` for a PyTorch function, through ``torch.func.jvp`` and ``torch.func.vjp``.

    ``args`` are NumPy arrays (or anything :func:`torch.as_tensor` takes);
    they are converted to float64 tensors. ``jvp=False`` or ``vjp=False``
    skips that mode. Keyword arguments go to :func:`check_rule`.

    >>> import numpy as np, torch
    >>> check_torch(torch.sin, (np.linspace(0.0, 1.0, 4),)).taylor_slope["args[0]"] > 1.8
    True
    """
    import torch
    import torch.func

    def to_torch(arrays: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(torch.as_tensor(np.asarray(a, dtype=np.float64)) for a in arrays)

    def to_numpy(out: Any) -> Any:
        return _structure(out, lambda t: t.detach().numpy())

    def f(*a: np.ndarray) -> Any:
        return to_numpy(fn(*to_torch(a)))

    def jvp_rule(primals: Arrays, tangents: Arrays) -> tuple[Any, Any]:
        out, out_dot = torch.func.jvp(fn, to_torch(primals), to_torch(tangents))
        return to_numpy(out), to_numpy(out_dot)

    def vjp_rule(primals: Arrays, out_bar: Any) -> tuple[Any, ...]:
        _, pullback = torch.func.vjp(fn, *to_torch(primals))
        return to_numpy(
            pullback(
                _structure(
                    out_bar, lambda w: torch.as_tensor(np.asarray(w, np.float64))
                )
            )
        )

    return check_rule(
        f, args, jvp=jvp_rule if jvp else None, vjp=vjp_rule if vjp else None, **kwargs
    )


def check_jax(
    fn: Callable[..., Any],
    args: Sequence[Any],
    *,
    jvp: bool = True,
    vjp: bool = True,
    **kwargs: Any,
) -> RuleReport:
    """:func:`check_rule` for a JAX function, through ``jax.jvp`` and ``jax.vjp``, in float64.

    Runs inside ``jax.enable_x64(True)``, so the global setting is left alone.
    Use ``jvp=False`` for a ``jax.custom_vjp`` function (reverse mode only).
    Keyword arguments go to :func:`check_rule`.

    >>> import numpy as np, jax.numpy as jnp
    >>> check_jax(jnp.sin, (np.linspace(0.0, 1.0, 4),)).taylor_slope["args[0]"] > 1.8
    True
    """
    import jax
    import jax.numpy as jnp

    def to_jax(arrays: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(jnp.asarray(np.asarray(a, dtype=np.float64)) for a in arrays)

    def to_numpy(out: Any) -> Any:
        return _structure(out, lambda a: np.asarray(a))

    def f(*a: np.ndarray) -> Any:
        return to_numpy(fn(*to_jax(a)))

    def jvp_rule(primals: Arrays, tangents: Arrays) -> tuple[Any, Any]:
        out, out_dot = jax.jvp(fn, to_jax(primals), to_jax(tangents))
        return to_numpy(out), to_numpy(out_dot)

    def vjp_rule(primals: Arrays, out_bar: Any) -> tuple[Any, ...]:
        out, pullback = jax.vjp(fn, *to_jax(primals))
        cot = _structure(out_bar, lambda w: jnp.asarray(np.asarray(w, np.float64)))
        return to_numpy(pullback(tuple(cot) if isinstance(out, tuple) else cot))

    with jax.enable_x64(True):
        return check_rule(
            f,
            args,
            jvp=jvp_rule if jvp else None,
            vjp=vjp_rule if vjp else None,
            **kwargs,
        )
