"""The benchmarks run, and their committed results say when, how and where they were measured."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from benchmarks.__main__ import main as run_op_benchmarks
from benchmarks.results import RESULTS, save

FILES = sorted(RESULTS.glob("*.json"))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_a_committed_result_has_its_date_command_and_machine(path: Path) -> None:
    record = json.loads(path.read_text())
    assert set(record) == {"date", "command", "machine", "figures"}, sorted(record)
    datetime.date.fromisoformat(record["date"])
    assert record["command"].startswith("python -m benchmarks"), record["command"]
    assert {"platform", "cpu_count", "torch", "jax"} <= set(record["machine"]), record["machine"]
    assert record["figures"], "no figures"


def test_the_op_benchmarks_write_their_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A smoke run of ``python -m benchmarks`` on one op writes one row of ratios."""
    out = tmp_path / "ops.json"
    assert run_op_benchmarks(["--quick", "--op", "sin_mul", "--repeats", "1", "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    (row,) = record["figures"]
    assert row["op"] == "sin_mul" and row["torch_ratio"] > 0 and row["jax_custom_vjp_ratio"] > 0
    assert record["command"] == f"python -m benchmarks --quick --op sin_mul --repeats 1 --json {out}"
    assert "sin_mul" in capsys.readouterr().out


def test_save_records_the_command_that_made_the_figures(tmp_path: Path) -> None:
    path = save(tmp_path / "x.json", [1.0], "benchmarks.example", ["--quick"])
    assert json.loads(path.read_text())["command"] == "python -m benchmarks.example --quick"


def test_the_reuse_benchmark_times_both_backward_passes(tmp_path: Path) -> None:
    from benchmarks.reuse import main as run_reuse

    out = tmp_path / "reuse.json"
    assert run_reuse(["--quick", "--repeats", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["figures"]
    assert [r["op"] for r in rows] == ["solve", "logdet"]
    assert all(r["reusing_s"] > 0 and r["refactorising_s"] > 0 for r in rows)


def test_make_results_rewrites_every_committed_result() -> None:
    """``make results`` reruns exactly the benchmarks whose files are committed."""
    import re

    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    names = re.search(r"^RESULTS := (.*)$", makefile, re.M).group(1).split()
    assert sorted(names) == sorted(p.stem for p in FILES)
