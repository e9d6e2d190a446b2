"""``python -m benchmarks.overhead``: where the time of a small custom PyTorch op goes.

For each op of the registry at a small size (float64, forward + backward with
respect to every input), the median over interleaved rounds of:

* ``built-in``: the op from torch's own functions (``op.reference(torch, ...)``);
* ``custom``: ``companion.torch.<op>``, input checks included;
* ``apply``: ``<Function>.apply`` alone, without the input checks;
* ``checks``: the input checks alone;
* ``floor``: an empty ``torch.autograd.Function`` with as many inputs as the
  op (forward returns a view of the first input and saves every input,
  backward returns the saved inputs as their cotangents: no arithmetic),
  forward + backward, minus the same built-in view: what any Python-level
  Function with that many inputs costs, whatever it computes.

The last column, ``custom − built-in − floor``, is what the companion's own
code adds beyond that unavoidable floor.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from typing import Any, Callable

import numpy as np

from benchmarks.__main__ import _interleaved
from companion.registry import OPS


def _floor(inputs: tuple[Any, ...], repeats: int) -> float:
    """Seconds per forward+backward of an empty Function of ``inputs``, minus the built-in view."""
    import torch

    class Empty(torch.autograd.Function):
        @staticmethod
        def forward(*args: Any) -> Any:
            return args[0].view_as(args[0])

        @staticmethod
        def setup_context(ctx: Any, inputs: Any, output: Any) -> None:
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return ctx.saved_tensors

    g = torch.ones_like(inputs[0])
    empty, view = _interleaved(
        [lambda: torch.autograd.grad(Empty.apply(*inputs), inputs, g),
         lambda: torch.autograd.grad(inputs[0].view_as(inputs[0]), inputs[0], g)],
        repeats,
    )
    return statistics.median(empty) - statistics.median(view)


def _function_of(op_name: str) -> Any:
    import companion.torch as ct

    return {"sin_mul": ct.SinMul, "matvec": ct.MatVec, "solve": ct.Solve, "sin": ct.Sin}.get(op_name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.overhead", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15, help="samples per function (median)")
    parser.add_argument("--n", type=int, default=256, help="size (n×n arrays, n-vectors)")
    args = parser.parse_args(argv)

    import torch

    n = args.n
    sizes: dict[str, Callable[[np.random.Generator], tuple[np.ndarray, ...]]] = {
        "sin_mul": lambda r: (r.standard_normal((n, n)), r.standard_normal((n, n))),
        "matvec": lambda r: (r.standard_normal((n, n)), r.standard_normal(n)),
        "solve": lambda r: (r.standard_normal((n, n)) + n**0.5 * np.eye(n), r.standard_normal(n)),
        "sin": lambda r: (r.standard_normal((n, n)),),
    }
    us = lambda s: f"{s * 1e6:9.1f} µs"  # noqa: E731
    print(f"torch {torch.__version__} ({torch.get_num_threads()} threads), float64, n = {n}; "
          f"median of {args.repeats} interleaved samples; forward + backward")
    header = (f"{'op':<8} {'built-in':>12} {'custom':>12} {'apply':>12} {'checks':>12} {'floor':>12} "
              f"{'ratio':>6} {'(built-in + floor) / built-in':>30} {'custom − built-in − floor':>26}")
    print(header)
    print("-" * len(header))
    for op in OPS:
        if op.name not in sizes or _function_of(op.name) is None:
            continue
        inputs = tuple(torch.tensor(a, requires_grad=True) for a in sizes[op.name](np.random.default_rng(0)))
        out = op.reference(torch, *(a.detach() for a in inputs))
        out_bar = torch.randn_like(out)
        fn, cls = op.torch(), _function_of(op.name)

        def first(out: Any) -> Any:
            return out[0] if isinstance(out, tuple) else out

        runs = [  # the built-in last: _interleaved sizes its loops by the last function
            lambda: torch.autograd.grad(fn(*inputs), inputs, out_bar),
            lambda: torch.autograd.grad(first(cls.apply(*inputs)), inputs, out_bar),
            lambda: op.validate(*inputs, "a torch.Tensor"),
            lambda: torch.autograd.grad(op.reference(torch, *inputs), inputs, out_bar),
        ]
        custom, apply, checks, builtin = map(statistics.median, _interleaved(runs, args.repeats))
        floor = _floor(inputs, args.repeats)
        print(f"{op.name:<8} {us(builtin)} {us(custom)} {us(apply)} {us(checks)} {us(floor)} "
              f"{custom / builtin:6.2f} {(builtin + floor) / builtin:30.2f} {us(custom - builtin - floor):>26}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
