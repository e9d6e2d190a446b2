"""``python -m benchmarks.circuits``: the gradient of a 10-qubit circuit three ways.

For ``P`` parameters (layers of RY and RZ on every wire, each followed by a
CNOT ladder), the gradient of ``⟨ψ(θ)|H|ψ(θ)⟩`` (``H = Z⊗Z⊗I⋯ + 0.5 X⊗I⋯``) by

* **adjoint**: ``companion.torch.circuit_expectation`` (forward, then one
  backward sweep un-applying the gates to ψ and λ = Hψ);
* **autodiff**: the same simulator (the rules' forward pass on torch tensors)
  differentiated by PyTorch's autograd, which keeps what every gate needs;
* **parameter shift**: ``2P`` evaluations of the circuit under ``torch.no_grad``.

Memory: the bytes held for the backward pass, counted deterministically with
``torch.autograd.graph.saved_tensors_hooks`` (distinct storages saved), and for
JAX the bytes of the residuals of ``jax.vjp`` (the leaves of the returned
function) for ``companion.jax.circuit_expectation_vjp`` (custom_vjp),
``companion.jax.circuit_expectation`` (custom_jvp, reverse mode by transposing
the tangent sweep) and autodiff through the simulator. Time: processor time
(``time.thread_time``) of one gradient on one PyTorch thread, forward included,
the median of ``--repeats`` interleaved runs.

Options: ``--quick`` (P = 12 and 24 on 6 qubits), ``--repeats N``, ``--json PATH``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any, Callable

import numpy as np

N_QUBITS = 10
PARAMS = (20, 40, 100, 200, 400)


def layered_circuit(n: int, n_params: int) -> tuple[tuple[tuple[str, tuple[int, ...]], ...], tuple[tuple[float, str], ...]]:
    """``n_params / (2n)`` layers of RY, RZ on every wire then CNOT(w, w+1) for every w; the observable
    ``Z₀Z₁ + 0.5 X₀``."""
    if n_params % (2 * n):
        raise ValueError(f"n_params must be a multiple of 2n = {2 * n}; got {n_params}")
    gates: list[tuple[str, tuple[int, ...]]] = []
    for _ in range(n_params // (2 * n)):
        gates += [("RY", (w,)) for w in range(n)] + [("RZ", (w,)) for w in range(n)]
        gates += [("CNOT", (w, w + 1)) for w in range(n - 1)]
    observable = ((1.0, "ZZ" + "I" * (n - 2)), (0.5, "X" + "I" * (n - 1)))
    return tuple(gates), observable


def saved_bytes(f: Callable[[Any], Any], theta: Any) -> int:
    """Bytes of the distinct storages autograd saves for the backward pass of ``f(theta)``."""
    import torch

    storages: dict[int, int] = {}

    def pack(x: torch.Tensor) -> torch.Tensor:
        storages[x.untyped_storage().data_ptr()] = x.untyped_storage().nbytes()
        return x

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda x: x):
        f(theta)
    return sum(storages.values())


def jax_residual_bytes(f: Callable[[Any], Any], theta: np.ndarray) -> int:
    """Bytes of the residuals ``jax.vjp(f, theta)`` keeps (the array leaves of its VJP function)."""
    import jax

    with jax.enable_x64(True):
        _, vjp = jax.vjp(f, jax.numpy.asarray(theta))
        leaves = jax.tree_util.tree_leaves(vjp)
        return sum(int(a.nbytes) for a in {id(a): a for a in leaves if hasattr(a, "nbytes")}.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.circuits", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="P = 12, 24 on 6 qubits (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs per method (median kept)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to PATH (see benchmarks.results)")
    args = parser.parse_args(argv)

    import torch

    import companion.jax as cj
    import companion.torch as ct
    from companion.ops.circuits import rules
    from companion.xp.jax import jax_ops
    from companion.xp.torch import torch_ops

    n = 6 if args.quick else N_QUBITS
    params = (2 * n, 4 * n) if args.quick else PARAMS
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    print(f"n = {n} qubits, float64, one PyTorch thread; processor time of one gradient (forward included), "
          f"median of {args.repeats}; bytes saved for the backward pass")
    print(f"{'P':>4} {'adjoint':>10} {'autodiff':>10} {'shift':>10} {'saved adj':>10} {'saved AD':>10} "
          f"{'AD/adj':>7} {'shift/adj':>9}")
    try:
        for P in params:
            gates, obs = layered_circuit(n, P)
            theta = np.random.default_rng(P).uniform(-np.pi, np.pi, P)

            def adjoint() -> Any:
                t = torch.tensor(theta, requires_grad=True)
                return torch.autograd.grad(ct.circuit_expectation(t, gates, obs, n), t)[0]

            def autodiff() -> Any:
                t = torch.tensor(theta, requires_grad=True)
                return torch.autograd.grad(rules.circuit_expectation(t, gates, obs, n, torch_ops), t)[0]

            def shift() -> Any:
                with torch.no_grad():
                    return rules.circuit_parameter_shift(torch.tensor(theta), gates, obs, n, torch_ops)

            grads = [f().numpy() for f in (adjoint, autodiff, shift)]
            agree = max(float(np.max(np.abs(g - grads[0]))) for g in grads[1:])
            times: dict[str, list[float]] = {"adjoint": [], "autodiff": [], "shift": []}
            for _ in range(args.repeats):
                for name, f in (("adjoint", adjoint), ("autodiff", autodiff), ("shift", shift)):
                    start = time.thread_time()
                    f()
                    times[name].append(time.thread_time() - start)
            med = {k: statistics.median(v) for k, v in times.items()}
            t = torch.tensor(theta, requires_grad=True)
            mem_adj = saved_bytes(lambda a: ct.circuit_expectation(a, gates, obs, n), t)
            mem_ad = saved_bytes(lambda a: rules.circuit_expectation(a, gates, obs, n, torch_ops), t)
            jax_mem = {
                "custom_vjp": jax_residual_bytes(lambda a: cj.circuit_expectation_vjp(a, gates, obs, n), theta),
                "custom_jvp": jax_residual_bytes(lambda a: cj.circuit_expectation(a, gates, obs, n), theta),
                "autodiff": jax_residual_bytes(lambda a: rules.circuit_expectation(a, gates, obs, n, jax_ops), theta),
            }
            row = {
                "P": P, "n_qubits": n, "gates": len(gates),
                "adjoint_s": med["adjoint"], "autodiff_s": med["autodiff"], "parameter_shift_s": med["shift"],
                "adjoint_saved_bytes": mem_adj, "autodiff_saved_bytes": mem_ad,
                "state_bytes": 2**n * 16,
                "jax_custom_vjp_residual_bytes": jax_mem["custom_vjp"],
                "jax_custom_jvp_residual_bytes": jax_mem["custom_jvp"],
                "jax_autodiff_residual_bytes": jax_mem["autodiff"],
                "max_gradient_difference": agree,
            }
            rows.append(row)
            print(f"{P:>4} {med['adjoint'] * 1e3:7.1f} ms {med['autodiff'] * 1e3:7.1f} ms "
                  f"{med['shift'] * 1e3:7.0f} ms {mem_adj:>10,} {mem_ad:>10,} {mem_ad / mem_adj:7.0f} "
                  f"{med['shift'] / med['adjoint']:9.1f}", flush=True)
    finally:
        torch.set_num_threads(threads)
    print("JAX residual bytes (custom_vjp / custom_jvp / autodiff): "
          + "; ".join(f"P={r['P']}: {r['jax_custom_vjp_residual_bytes']:,} / {r['jax_custom_jvp_residual_bytes']:,}"
                      f" / {r['jax_autodiff_residual_bytes']:,}" for r in rows))
    if args.json:
        from benchmarks.results import save

        print(f"figures written to {save(args.json, rows, 'benchmarks.circuits', argv, torch_threads=1)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
