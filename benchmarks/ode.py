"""``python -m benchmarks.ode``: the continuous adjoint against backpropagation through RK4.

The problem: ``dx/dt = tanh(W x + b)`` with a state of 32, integrated over ``t ∈ [0, 1]`` in one
interval by 100, 1000 and 10000 RK4 steps, in float64; the loss is ``Σ x(1)``.

* **Memory held for the backward pass**, a deterministic count. PyTorch: the bytes of the distinct
  storages that autograd saves during the forward pass (``torch.autograd.graph.saved_tensors_hooks``).
  JAX: the bytes of the residuals of ``jax.vjp`` (the array leaves of the returned function).
  The adjoint (``companion.torch.odeint``, ``companion.jax.odeint_vjp``) keeps the outputs and the
  parameters only, whatever the number of steps; backpropagation through the RK4 steps
  (``odeint_discrete``, and JAX's transposition of ``companion.jax.odeint``'s JVP) keeps every stage.
* **Time** of forward + backward (PyTorch eager; JAX ``jit(grad)``), medians of interleaved repeats.
  The machine's two cores are shared: the times are noisy, the memory counts are exact.

Options: ``--quick`` (10 and 20 steps, one repeat: a smoke run), ``--repeats N``, ``--json PATH``
(write the figures, with the date, the command and the machine; ``benchmarks/results/ode.json`` is the
committed run the book plots).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

STEPS = (100, 1000, 10000)
QUICK_STEPS = (10, 20)
N = 32


def _problem() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal(N), rng.standard_normal((N, N)) / N**0.5, rng.standard_normal(N) / 10


def _torch_f(x: Any, t: Any, W: Any, b: Any) -> Any:
    import torch

    return torch.tanh(W @ x + b)


def _jax_f(x: Any, t: Any, W: Any, b: Any) -> Any:
    import jax.numpy as jnp

    return jnp.tanh(W @ x + b)


def _torch_loss(mode: str, steps: int) -> Callable[..., Any]:
    import companion.torch as ct

    fn = ct.odeint if mode == "adjoint" else ct.odeint_discrete
    return lambda x0, t, W, b: fn(_torch_f, x0, t, W, b, steps_per_interval=steps)[-1].sum()


def _torch_inputs() -> list[Any]:
    import torch

    x0, W, b = _problem()
    t = np.array([0.0, 1.0])
    return [torch.tensor(a, requires_grad=True) for a in (x0, t, W, b)]


def saved_bytes_torch(mode: str, steps: int) -> int:
    """Bytes of the distinct storages autograd saves for the backward pass of one loss evaluation."""
    import torch

    storages: dict[int, int] = {}

    def pack(tensor: Any) -> Any:
        s = tensor.untyped_storage()
        storages[s.data_ptr()] = s.nbytes()
        return tensor

    inputs = _torch_inputs()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        _torch_loss(mode, steps)(*inputs)
    return sum(storages.values())


def saved_bytes_jax(mode: str, steps: int) -> int:
    """Bytes of the residuals ``jax.vjp`` keeps (the array leaves of its VJP function)."""
    import jax
    import jax.numpy as jnp

    import companion.jax as cj

    fn = {"adjoint": cj.odeint_vjp, "discrete": cj.odeint_discrete, "custom_jvp": cj.odeint}[mode]
    x0, W, b = (jnp.asarray(a) for a in _problem())
    t = jnp.asarray([0.0, 1.0])
    _, pullback = jax.vjp(lambda x0, W, b: fn(_jax_f, x0, t, W, b, steps_per_interval=steps)[-1].sum(), x0, W, b)
    return int(sum(leaf.nbytes for leaf in jax.tree_util.tree_leaves(pullback) if hasattr(leaf, "nbytes")))


def _interleaved(fns: list[Callable[[], Any]], repeats: int) -> list[float]:
    """Median seconds per call of each function, the functions called in turn ``repeats`` times."""
    for fn in fns:
        fn()  # warm up (and compile)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, times):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return [statistics.median(t) for t in times]


def _torch_timers(steps: int) -> list[Callable[[], Any]]:
    import torch

    def timer(mode: str) -> Callable[[], Any]:
        loss = _torch_loss(mode, steps)
        inputs = _torch_inputs()
        return lambda: torch.autograd.grad(loss(*inputs), inputs)

    return [timer("adjoint"), timer("discrete")]


def _jax_timers(steps: int) -> list[Callable[[], Any]]:
    import jax
    import jax.numpy as jnp

    import companion.jax as cj

    x0, W, b = (jnp.asarray(a) for a in _problem())
    t = jnp.asarray([0.0, 1.0])

    def timer(fn: Callable[..., Any]) -> Callable[[], Any]:
        grad = jax.jit(jax.grad(lambda x0, W, b: fn(_jax_f, x0, t, W, b, steps_per_interval=steps)[-1].sum(),
                                (0, 1, 2)))
        return lambda: jax.block_until_ready(grad(x0, W, b))

    return [timer(cj.odeint_vjp), timer(cj.odeint_discrete)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.ode", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10 and 20 steps, one repeat (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repeats per timing (median kept)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (see benchmarks.results)")
    args = parser.parse_args(argv)

    import jax

    jax.config.update("jax_enable_x64", True)
    repeats = 1 if args.quick else args.repeats
    rows = []
    print(f"dx/dt = tanh(W x + b), state {N}, float64, one interval [0, 1]; loss Σ x(1); "
          f"times: medians of {repeats} interleaved repeats of forward + backward")
    print(f"{'framework':<9} {'steps':>6} {'adjoint bytes':>14} {'backprop bytes':>15} {'ratio':>7} "
          f"{'adjoint s':>10} {'backprop s':>11} {'ratio':>6}")
    for steps in QUICK_STEPS if args.quick else STEPS:
        for framework in ("torch", "jax"):
            if framework == "torch":
                memory = [saved_bytes_torch(m, steps) for m in ("adjoint", "discrete")]
                times = _interleaved(_torch_timers(steps), repeats)
            else:
                memory = [saved_bytes_jax(m, steps) for m in ("adjoint", "discrete")]
                times = _interleaved(_jax_timers(steps), repeats)
            row = {"framework": framework, "steps": steps, "adjoint_bytes": memory[0],
                   "backprop_bytes": memory[1], "adjoint_s": times[0], "backprop_s": times[1]}
            if framework == "jax":
                row["custom_jvp_bytes"] = saved_bytes_jax("custom_jvp", steps)
            rows.append(row)
            print(f"{framework:<9} {steps:>6} {memory[0]:>14} {memory[1]:>15} {memory[1] / memory[0]:>7.1f} "
                  f"{times[0]:>10.4f} {times[1]:>11.4f} {times[0] / times[1]:>6.2f}", flush=True)
    print("ratio of bytes: backprop / adjoint; ratio of times: adjoint / backprop")
    if args.json:
        from benchmarks.results import save

        print(f"figures written to {save(args.json, rows, 'benchmarks.ode', argv)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
