"""``python -m benchmarks``: forward+backward time of each custom op against the built-in, as ratios.

For every op of the registry at the sizes its entry lists (``Op.benchmark_cases``),
in float64 (complex128 for complex arguments):

* PyTorch: ``companion.torch.<op>`` against the built-in (``y * torch.sin(x)``,
  ``A @ x``, ``torch.linalg.solve``, ``torch.sin``): forward, then
  ``torch.autograd.grad`` with respect to every input for a random cotangent
  (one per output for an op with several outputs).
* JAX: ``companion.jax.<op>`` (custom_jvp) and ``<op>_vjp`` (custom_vjp)
  against the ``jax.numpy`` built-in: ``jax.jit(jax.value_and_grad(...))`` of
  ``Re⟨w, f(args)⟩`` for a random ``w`` passed as an argument.

Samples of the custom op and of the built-in alternate (so load from other
processes hits both alike); each time is a median, each ratio the median of
the per-round ratios custom / built-in. A ratio above 1 means the custom op
is slower. The custom ``solve`` must stay within 10 % of the
built-in (ratio ≤ 1.10) in both frameworks; the last lines say whether it does.

Options: ``--quick`` (small sizes only, a smoke run), ``--repeats N``, ``--json PATH``
(also write the figures, with the date, the command and the machine, to ``PATH``;
``benchmarks/results/ops.json`` is the committed run the book shows).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from companion.registry import OPS, OPS_BY_NAME

SOLVE_BUDGET = 1.10


@dataclass(frozen=True)
class Case:
    """One op at one size: a NumPy argument maker."""

    op: str
    size: str
    make: Callable[[np.random.Generator], tuple[np.ndarray, ...]]


def _cases(quick: bool) -> list[Case]:
    """The registry's benchmark cases (only the first size of each op with ``quick``)."""
    cases = []
    for op in OPS:
        for size, make in list(op.benchmark_cases.items())[: 1 if quick else None]:
            cases.append(Case(op.name, size, make))
    return cases


def _interleaved(fns: list[Callable[[], Any]], repeats: int, min_sample: float = 0.02) -> list[list[float]]:
    """Seconds per call of each function, ``repeats`` samples each, the functions interleaved.

    Interleaving puts the samples of the custom op and of the built-in close in
    time, so a burst of load from other processes hits both alike.
    """
    for fn in fns:  # warm up (and compile)
        fn()
    start = time.perf_counter()
    fns[-1]()
    once = max(time.perf_counter() - start, 1e-7)
    loops = max(1, int(min_sample / once))
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, out in zip(fns, samples):
            start = time.perf_counter()
            for _ in range(loops):
                fn()
            out.append((time.perf_counter() - start) / loops)
    return samples


def _ratio(custom: list[float], builtin: list[float]) -> float:
    """The median over interleaved rounds of custom time / built-in time."""
    return statistics.median(c / b for c, b in zip(custom, builtin))


def _torch_pair(case: Case, args: tuple[np.ndarray, ...]) -> list[Callable[[], Any]]:
    import torch

    op = OPS_BY_NAME[case.op]
    inputs = tuple(torch.tensor(a, requires_grad=True) for a in args)  # float64 or complex128, as made
    out = op.reference(torch, *(a.detach() for a in inputs))
    out_bar = tuple(map(torch.randn_like, out)) if isinstance(out, tuple) else torch.randn_like(out)

    def forward_backward(f: Callable[..., Any]) -> Callable[[], Any]:
        return lambda: torch.autograd.grad(f(*inputs), inputs, grad_outputs=out_bar)

    return [forward_backward(op.torch()), forward_backward(lambda *a: op.reference(torch, *a))]


def _jax_fns(case: Case, args: tuple[np.ndarray, ...]) -> list[Callable[[], Any]]:
    import jax
    import jax.numpy as jnp

    op = OPS_BY_NAME[case.op]
    inputs = tuple(jnp.asarray(a) for a in args)
    argnums = tuple(range(len(inputs)))
    # A random cotangent passed as an argument, so XLA cannot fold a constant one into the backward.
    rng = np.random.default_rng(1)
    out_bar = jax.tree.map(lambda o: jnp.asarray(rng.standard_normal(np.shape(o))), op.reference(np, *args))

    def pairing(w: Any, out: Any) -> Any:
        """Re⟨w, out⟩, summed over the outputs."""
        return sum(jnp.real(jnp.vdot(a, b)) for a, b in zip(jax.tree.leaves(w), jax.tree.leaves(out)))

    def forward_backward(f: Callable[..., Any]) -> Callable[[], Any]:
        step = jax.jit(jax.value_and_grad(lambda *a: pairing(a[-1], f(*a[:-1])), argnums))
        return lambda: jax.block_until_ready(step(*inputs, out_bar))

    return [
        forward_backward(op.jax()),
        forward_backward(op.jax(vjp=True)),
        forward_backward(lambda *a: op.reference(jnp, *a)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--repeats", type=int, default=7, help="samples per function (median)")
    parser.add_argument("--op", action="append", help="only this op (repeatable)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (see benchmarks.results)")
    args = parser.parse_args(argv)

    import jax
    import torch

    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), jax {jax.__version__}, float64; "
          f"median of {args.repeats} interleaved samples; ratio = median of custom / built-in per round")
    header = (f"{'op':<10} {'size':<13} {'torch built-in':>15} {'torch custom':>13} {'ratio':>6}   "
              f"{'jax built-in':>13} {'custom_jvp':>11} {'ratio':>6} {'custom_vjp':>11} {'ratio':>6}")
    print(header)
    print("-" * len(header), flush=True)
    worst = {"torch": 0.0, "jax custom_jvp": 0.0, "jax custom_vjp": 0.0}
    rows = []
    start = time.perf_counter()
    with jax.enable_x64(True):
        for case in (c for c in _cases(args.quick) if not args.op or c.op in args.op):
            arrays = case.make(np.random.default_rng(0))
            t_custom, t_builtin = _interleaved(_torch_pair(case, arrays), args.repeats)
            j_jvp, j_vjp, j_builtin = _interleaved(_jax_fns(case, arrays), args.repeats)
            r_t, r_jvp, r_vjp = _ratio(t_custom, t_builtin), _ratio(j_jvp, j_builtin), _ratio(j_vjp, j_builtin)
            t_custom, t_builtin, j_jvp, j_vjp, j_builtin = map(
                statistics.median, (t_custom, t_builtin, j_jvp, j_vjp, j_builtin)
            )
            ms = lambda s: f"{s * 1e3:10.3f} ms"  # noqa: E731
            print(f"{case.op:<10} {case.size:<13} {ms(t_builtin):>15} {ms(t_custom):>13} {r_t:6.2f}   "
                  f"{ms(j_builtin):>13} {ms(j_jvp):>11} {r_jvp:6.2f} {ms(j_vjp):>11} {r_vjp:6.2f}", flush=True)
            rows.append({"op": case.op, "size": case.size, "torch_builtin_s": t_builtin, "torch_custom_s": t_custom,
                         "torch_ratio": r_t, "jax_builtin_s": j_builtin, "jax_custom_jvp_s": j_jvp,
                         "jax_custom_jvp_ratio": r_jvp, "jax_custom_vjp_s": j_vjp, "jax_custom_vjp_ratio": r_vjp})
            if case.op == "solve" and not case.size.startswith("n=256"):
                worst["torch"] = max(worst["torch"], r_t)
                worst["jax custom_jvp"] = max(worst["jax custom_jvp"], r_jvp)
                worst["jax custom_vjp"] = max(worst["jax custom_vjp"], r_vjp)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if args.json:
        from benchmarks.results import save

        print(f"figures written to {save(args.json, rows, 'benchmarks', argv)}")
    if not args.quick and (not args.op or "solve" in args.op):
        for name, ratio in worst.items():
            verdict = "within" if ratio <= SOLVE_BUDGET else "OVER"
            print(f"solve, {name}: worst ratio for n ≥ 1024 is {ratio:.2f}: {verdict} the 10 % budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
