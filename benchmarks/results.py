"""Committed benchmark results: ``benchmarks/results/<name>.json``, with when, how and where.

Each file holds ``{"date", "command", "machine", "figures"}``; the book's pages plot the
figures from these files at build time instead of timing anything themselves, and
say on which machine and on which day they were measured.

>>> sorted(machine())
['cpu_count', 'jax', 'platform', 'python', 'torch', 'torch_threads']
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

__all__ = ["RESULTS", "machine", "save", "load"]

RESULTS = Path(__file__).resolve().parent / "results"
"""The folder of the committed results."""


def machine(torch_threads: int | None = None) -> dict[str, Any]:
    """The platform, CPU count and framework versions the figures were measured with.

    ``torch_threads``: the number of PyTorch threads the benchmark ran with, where it
    set one (default: the current setting).
    """
    import jax
    import torch

    return {
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads() if torch_threads is None else torch_threads,
        "jax": jax.__version__,
    }


def save(path: str | Path, figures: Any, module: str, argv: list[str] | None = None,
         torch_threads: int | None = None) -> Path:
    """Write ``figures`` to ``path`` with today's date, the command (``python -m <module> <argv>``) and the machine."""
    argv = sys.argv[1:] if argv is None else argv
    record = {
        "date": datetime.date.today().isoformat(),
        "command": " ".join(["python -m", module, *argv]),
        "machine": machine(torch_threads),
        "figures": figures,
    }
    path = Path(path)
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def load(name: str) -> dict[str, Any]:
    """The committed results ``benchmarks/results/<name>.json``."""
    return json.loads((RESULTS / f"{name}.json").read_text())
