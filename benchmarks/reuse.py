"""``python -m benchmarks.reuse``: what reusing the forward factorisation saves a backward pass.

The companion's PyTorch ``solve`` and ``logdet`` keep the LU factors of their
forward pass and only solve with them backward. Against them, rules that
factorise ``A`` again in their backward pass (``torch.linalg.solve`` with ``Aᵀ``;
``torch.linalg.inv``). For each ``n``: the processor time of one backward pass
(``time.thread_time`` on one thread, which load from other processes inflates
less than wall-clock time), the fastest of ``--repeats`` runs, the two rules
in turn, and the ratio refactorising / reusing.

Options: ``--quick`` (n = 128 only), ``--repeats N``, ``--json PATH``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Callable

import numpy as np

SIZES = (256, 512, 1024, 2048)


def _refactorising() -> dict[str, type]:
    """Backward passes that factorise ``A`` again (for comparison only)."""
    import torch

    class SolveAgain(torch.autograd.Function):
        """x = A⁻¹ b; backward: b̄ = A⁻ᵀ x̄ by a second factorisation, Ā = −b̄ xᵀ."""

        @staticmethod
        def forward(A: Any, b: Any) -> Any:
            return torch.linalg.solve(A, b)

        @staticmethod
        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            ctx.save_for_backward(inputs[0], output)

        @staticmethod
        def backward(ctx: Any, x_bar: Any) -> Any:
            A, x = ctx.saved_tensors
            b_bar = torch.linalg.solve(A.mT, x_bar)
            return -torch.outer(b_bar, x), b_bar

    class LogdetAgain(torch.autograd.Function):
        """log |det A|; backward: Ā = ȳ A⁻ᵀ by a second factorisation."""

        @staticmethod
        def forward(A: Any) -> Any:
            return torch.linalg.slogdet(A)[1]

        @staticmethod
        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx: Any, y_bar: Any) -> Any:
            (A,) = ctx.saved_tensors
            return y_bar * torch.linalg.inv(A).mT

    return {"solve": SolveAgain, "logdet": LogdetAgain}


def backward_seconds(fns: list[Callable[..., Any]], args: tuple[np.ndarray, ...], repeats: int) -> list[float]:
    """Processor seconds of one backward pass of each ``fn(*args)``: the fastest of ``repeats``, in turn."""
    import torch

    runs = []
    for fn in fns:
        inputs = [torch.tensor(a, requires_grad=True) for a in args]
        runs.append((fn(*inputs), inputs))
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats + 1):  # the first round warms up
        for (y, inputs), out in zip(runs, times):
            start = time.thread_time()
            torch.autograd.grad(y, inputs, torch.ones_like(y), retain_graph=True)
            out.append(time.thread_time() - start)
    return [min(t[1:]) for t in times]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reuse", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="n = 128 only (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per backward pass (fastest kept)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (see benchmarks.results)")
    args = parser.parse_args(argv)

    import torch

    import companion.torch as ct

    again = _refactorising()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    print(f"torch {torch.__version__}, float64, one thread; processor time of one backward pass, "
          f"fastest of {args.repeats}")
    print(f"{'op':<7} {'n':>5} {'reusing':>11} {'again':>11} {'ratio':>6}")
    try:
        for n in (128,) if args.quick else SIZES:
            rng = np.random.default_rng(0)
            A = rng.standard_normal((n, n)) + n**0.5 * np.eye(n)  # well conditioned
            for name, reusing, inputs in (("solve", ct.solve, (A, rng.standard_normal(n))), ("logdet", ct.logdet, (A,))):
                reuse, refactor = backward_seconds([reusing, again[name].apply], inputs, args.repeats)
                rows.append({"op": name, "n": n, "reusing_s": reuse, "refactorising_s": refactor,
                             "ratio": refactor / reuse})
                print(f"{name:<7} {n:>5} {reuse * 1e3:8.2f} ms {refactor * 1e3:8.2f} ms {refactor / reuse:6.1f}",
                      flush=True)
    finally:
        torch.set_num_threads(threads)
    if args.json:
        from benchmarks.results import save

        print(f"figures written to {save(args.json, rows, 'benchmarks.reuse', argv, torch_threads=1)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
