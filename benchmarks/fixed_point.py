"""Implicit vs unrolled differentiation of a fixed-point solve: memory held for backward and time.

A DEQ-like layer ``X ↦ tanh(X Wᵀ + C)`` on ``n = 256`` features for a batch of
32 inputs (``C`` is the injected input), ``W`` scaled so that the iteration
needs about K = 50, 200 or 500 steps to reach ``tol = 1e-10``. For each K:

* **implicit**: ``companion.torch.fixed_point`` (and ``companion.jax.fixed_point_vjp``):
  the forward iterates without recording anything; the backward solves the
  adjoint fixed point ``u = x̄ + (∂f/∂x)ᵀ u`` with VJPs of ``f``;
* **unrolled**: the same K iterations recorded by autograd (PyTorch) or a
  ``lax.scan`` (JAX) and backpropagated through.

Memory is measured deterministically: PyTorch sums the bytes of the distinct
storages that ``torch.autograd.graph.saved_tensors_hooks`` sees; JAX sums the
bytes of the residuals of ``jax.vjp`` (the leaves of the returned function).
Both are reported in total and without the parameters' own storages (``W``
and ``C``, which the caller holds anyway). Time is the median of interleaved
repeats of forward + backward, PyTorch on one thread. The machine is shared
(2 cores): the timings are noisy, the memory figures are exact.

Run ``python -m benchmarks.fixed_point`` (``--quick``: K = 50 only, few
repeats; ``--json PATH``: write the results).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from typing import Any, Callable

import numpy as np

N, BATCH, TOL = 256, 32, 1e-10


@functools.lru_cache(maxsize=None)
def problem(K: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X0, W, C)``: ``W = ρ Q`` (``Q`` orthogonal) with ``ρ`` tuned so that the iteration
    takes K steps to reach ``TOL`` (``tanh' < 1`` makes the rate a little below ``ρ``)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((N, N)))
    C = 0.1 * rng.standard_normal((BATCH, N))
    X0 = np.zeros((BATCH, N))
    lo, hi = TOL ** (1.0 / K), 1.0  # count(lo) ≤ K; the count grows with ρ
    for _ in range(20):
        rho = (lo + hi) / 2
        if _count(X0, rho * Q, C, 2 * K) <= K:
            lo = rho
        else:
            hi = rho
    return X0, lo * Q, C


def _count(X: np.ndarray, W: np.ndarray, C: np.ndarray, max_iter: int) -> int:
    """The iterations ``X ↦ tanh(X Wᵀ + C)`` takes to reach ``TOL`` with the companion's stopping rule."""
    for k in range(1, max_iter + 1):
        FX = np.tanh(X @ W.T + C)
        done = np.abs(FX - X).max() / (1 + np.abs(FX).max()) <= TOL
        X = FX
        if done:
            return k
    return max_iter + 1


def _median_interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm-up (and compilation in JAX)
    for _ in range(repeats):
        for k, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


# --------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------


def torch_case(K: int, repeats: int) -> dict[str, Any]:
    import torch

    import companion.torch as ct

    X0, W, C = (torch.tensor(a) for a in problem(K))
    f = lambda X, W, C: torch.tanh(X @ W.T + C)  # noqa: E731
    count: list[int] = []

    def counted(X: Any, W: Any, C: Any) -> Any:
        count.append(1)
        return f(X, W, C)

    def implicit(W: Any, C: Any) -> Any:
        return ct.fixed_point(f, X0, W, C, tol=TOL, max_iter=10 * K)

    count.clear()
    ct.fixed_point(counted, X0, W, C, tol=TOL, max_iter=10 * K)
    iterations = len(count)  # the forward's iterations: the unrolled version runs as many

    def unrolled(W: Any, C: Any) -> Any:
        X = X0
        for _ in range(iterations):
            X = f(X, W, C)
        return X

    def saved_bytes(solve: Callable[..., Any]) -> tuple[int, int]:
        Wr, Cr = W.clone().requires_grad_(), C.clone().requires_grad_()
        storages: dict[int, int] = {}

        def pack(t: Any) -> Any:
            s = t.untyped_storage()
            storages[s.data_ptr()] = s.nbytes()
            return t

        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = solve(Wr, Cr)
        inputs = {Wr.untyped_storage().data_ptr(), Cr.untyped_storage().data_ptr()}
        del out
        return sum(storages.values()), sum(v for k, v in storages.items() if k not in inputs)

    def fwd_bwd(solve: Callable[..., Any]) -> Callable[[], Any]:
        def run() -> Any:
            Wr, Cr = W.clone().requires_grad_(), C.clone().requires_grad_()
            return torch.autograd.grad(solve(Wr, Cr).sum(), (Wr, Cr))

        return run

    gi, gu = fwd_bwd(implicit)(), fwd_bwd(unrolled)()
    agreement = max(float((a - b).abs().max() / b.abs().max()) for a, b in zip(gi, gu))
    (imp_total, imp_extra), (unr_total, unr_extra) = saved_bytes(implicit), saved_bytes(unrolled)
    t = _median_interleaved({"implicit": fwd_bwd(implicit), "unrolled": fwd_bwd(unrolled)}, repeats)
    return {
        "framework": "torch", "K": K, "iterations": iterations,
        "bytes_implicit": imp_total, "bytes_unrolled": unr_total,
        "bytes_beyond_params_implicit": imp_extra, "bytes_beyond_params_unrolled": unr_extra,
        "seconds_implicit": t["implicit"], "seconds_unrolled": t["unrolled"],
        "gradient_rel_difference": agreement,
    }


# --------------------------------------------------------------------------
# JAX
# --------------------------------------------------------------------------


def jax_case(K: int, repeats: int) -> dict[str, Any]:
    import jax
    import jax.numpy as jnp

    import companion.jax as cj

    with jax.enable_x64(True):
        X0, W, C = (jnp.asarray(a) for a in problem(K))
        f = lambda X, W, C: jnp.tanh(X @ W.T + C)  # noqa: E731
        iterations = _torch_iterations(K)

        def implicit(W: Any, C: Any) -> Any:
            return cj.fixed_point_vjp(f, X0, W, C, tol=TOL, max_iter=10 * K).sum()

        def unrolled(W: Any, C: Any) -> Any:
            X = jax.lax.scan(lambda X, _: (f(X, W, C), None), X0, None, length=iterations)[0]
            return X.sum()

        def residual_bytes(loss: Callable[..., Any]) -> tuple[int, int]:
            _, vjp_fn = jax.vjp(loss, W, C)
            leaves = [leaf for leaf in jax.tree_util.tree_leaves(vjp_fn) if hasattr(leaf, "nbytes")]
            total = sum(int(leaf.nbytes) for leaf in leaves)
            is_param = lambda a: any(  # noqa: E731  (W or C, held in the residuals)
                a.shape == p.shape and bool(jnp.array_equal(a, p)) for p in (W, C)
            )
            return total, total - sum(int(leaf.nbytes) for leaf in leaves if is_param(leaf))

        gi = jax.jit(jax.grad(implicit, (0, 1)))
        gu = jax.jit(jax.grad(unrolled, (0, 1)))
        a, b = gi(W, C), gu(W, C)
        agreement = max(float(jnp.abs(p - q).max() / jnp.abs(q).max()) for p, q in zip(a, b))
        (imp_total, imp_extra), (unr_total, unr_extra) = residual_bytes(implicit), residual_bytes(unrolled)
        t = _median_interleaved(
            {"implicit": lambda: jax.block_until_ready(gi(W, C)), "unrolled": lambda: jax.block_until_ready(gu(W, C))},
            repeats,
        )
    return {
        "framework": "jax", "K": K, "iterations": iterations,
        "bytes_implicit": imp_total, "bytes_unrolled": unr_total,
        "bytes_beyond_params_implicit": imp_extra, "bytes_beyond_params_unrolled": unr_extra,
        "seconds_implicit": t["implicit"], "seconds_unrolled": t["unrolled"],
        "gradient_rel_difference": agreement,
    }


def _torch_iterations(K: int) -> int:
    """The number of forward iterations the problem of size K takes (counted in NumPy)."""
    X, W, C = problem(K)
    return _count(X, W, C, 10 * K)


def report(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'':6} {'K':>4} {'iters':>5}  {'saved implicit':>14} {'saved unrolled':>14} {'ratio':>7}"
        f"  {'beyond params':>14}  {'t implicit':>10} {'t unrolled':>10} {'speed-up':>8}"
    ]
    for r in rows:
        ratio = r["bytes_unrolled"] / r["bytes_implicit"]
        beyond = r["bytes_beyond_params_unrolled"] / max(r["bytes_beyond_params_implicit"], 1)
        lines.append(
            f"{r['framework']:6} {r['K']:>4} {r['iterations']:>5}  {r['bytes_implicit'] / 2**20:11.2f} MiB"
            f" {r['bytes_unrolled'] / 2**20:11.2f} MiB {ratio:6.1f}x  {beyond:13.0f}x"
            f"  {r['seconds_implicit'] * 1e3:7.1f} ms {r['seconds_unrolled'] * 1e3:7.1f} ms"
            f" {r['seconds_unrolled'] / r['seconds_implicit']:7.2f}x"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="K = 50 only, PyTorch only, 2 repeats")
    parser.add_argument("--json", help="write the results to this path")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)  # the shared machine: one thread avoids oversubscription
    Ks = (50,) if args.quick else (50, 200, 500)
    repeats = 2 if args.quick else args.repeats
    rows = [torch_case(K, repeats) for K in Ks]
    if not args.quick:
        rows += [jax_case(K, repeats) for K in Ks]
    print("implicit (companion fixed_point) vs unrolled backprop, n = 256, batch 32, tol = 1e-10")
    print(report(rows))
    if args.json:
        from benchmarks.results import save

        save(args.json, {"n": N, "batch": BATCH, "tol": TOL, "rows": rows}, "benchmarks.fixed_point", argv)


if __name__ == "__main__":
    main()
