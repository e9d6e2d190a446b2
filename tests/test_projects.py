"""The capstone projects' graders: they accept the reference solutions and reject realistic mistakes.

Each wrong submission is the reference solution (``tests/projects/<project>/correct.py``)
with one textual replacement: the mistake. The test asserts exactly which checks
fail and that the report names them. The reference solutions live here, not in
the companion package that students install.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from companion.projects import PROJECTS, get, starter_path
from companion.projects.grade import Result, checks, grade, write_starter

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "tests" / "projects"

# (project, mistake, old text, new text, the checks that must fail: substrings of their names)
MISTAKES = [
    ("logcosh", "sign error in the VJP",
     "return y_bar * torch.tanh(x)", "return -y_bar * torch.tanh(x)",
     {"torch: reverse mode", "stability"}),
    ("logcosh", "no jvp: forward mode missing",
     "    @staticmethod\n    def jvp(ctx, x_dot):\n        (x,) = ctx.saved_tensors\n"
     "        return torch.tanh(x) * x_dot\n", "",
     {"torch: forward mode", "stability"}),
    ("logcosh", "the naive primal log(cosh(x)) overflows",
     "        a = x.abs()\n        return a + torch.log1p(torch.exp(-2 * a)) - LOG2",
     "        return torch.log(torch.cosh(x))",
     {"torch: torch_logcosh matches", "stability"}),
    ("logcosh", "backward detaches its input: not differentiable twice",
     "return y_bar * torch.tanh(x)", "return y_bar * torch.tanh(x.detach())",
     {"torch: double backward", "stability"}),
    ("logcosh", "no input validation",
     '    _check("torch_logcosh", x, lambda d: d.is_floating_point and not d.is_complex)\n', "",
     {"torch: bad input"}),
    ("logcosh", "custom_vjp bwd returns an array, not a tuple",
     "return (y_bar * jnp.tanh(x),)", "return y_bar * jnp.tanh(x)",
     {"jax: jax_logcosh_vjp (custom_vjp)", "jax: jit and vmap", "stability"}),
    ("logcosh", "the naive derivative sinh/cosh gives nan for large x",
     "return _logcosh(x), jnp.tanh(x) * x_dot", "return _logcosh(x), jnp.sinh(x) / jnp.cosh(x) * x_dot",
     {"stability"}),
    ("ridge", "sign error in A_bar",
     "A_bar = torch.outer(r, g) - torch.outer(A @ g, x)", "A_bar = torch.outer(r, g) + torch.outer(A @ g, x)",
     {"torch: reverse mode"}),
    ("ridge", "missing transpose: A_bar has shape (n, m)",
     "A_bar = torch.outer(r, g) - torch.outer(A @ g, x)", "A_bar = torch.outer(g, r) - torch.outer(x, A @ g)",
     {"torch: reverse mode", "torch: torch.func.vmap", "torch: the rules reuse"}),
    ("ridge", "lam_bar not summed to a scalar in the JAX bwd (PyTorch would sum it silently)",
     "A @ g, -(g @ x)", "A @ g, -(g * x)",
     {"jax: jax_ridge_vjp (custom_vjp)", "jax: jit and vmap", "jax: the backward passes reuse"}),
    ("ridge", "backward returns two gradients for three inputs",
     "return A_bar, b_bar, lam_bar", "return A_bar, b_bar",
     {"torch: reverse mode", "torch: torch.func.vmap", "torch: the rules reuse"}),
    ("ridge", "jvp forgets the lam_dot term",
     "rhs = A_dot.mT @ r - A.mT @ (A_dot @ x) + A.mT @ b_dot - lam_dot * x",
     "rhs = A_dot.mT @ r - A.mT @ (A_dot @ x) + A.mT @ b_dot",
     {"torch: forward mode"}),
    ("ridge", "no input validation",
     '    _check("torch_ridge", A, b, lam)\n', "",
     {"torch: bad input"}),
    ("ridge", "wrong residual: b instead of b - A x in the JAX bwd",
     "    r = b - A @ x\n    return jnp.outer", "    r = b\n    return jnp.outer",
     {"jax: jax_ridge_vjp (custom_vjp)"}),
    ("ridge", "backward factorises again",
     "g = torch.cholesky_solve(x_bar.unsqueeze(-1), L).squeeze(-1)", "g = torch.linalg.solve(L @ L.mT, x_bar)",
     {"torch: the rules reuse"}),
    ("ridge", "backward factorises again, through an imported name",
     "g = torch.cholesky_solve(x_bar.unsqueeze(-1), L).squeeze(-1)",
     "from torch.linalg import solve as _solve\n        g = _solve(L @ L.mT, x_bar)",
     {"torch: the rules reuse"}),
    ("ridge", "the JAX JVP rule factorises again",
     "    return x, jsl.cho_solve((L, True), rhs)",
     "    return x, jnp.linalg.solve(A.T @ A + lam * jnp.eye(A.shape[-1]), rhs)",
     {"jax: the backward passes reuse"}),
]


def failed_as_expected(result: Result, expected: set[str]) -> list[str]:
    """The failed checks that no expected substring names, and the expected substrings no failure has."""
    failed = result.failed()
    extra = [f for f in failed if not any(e in f for e in expected)]
    missing = [e for e in expected if not any(e in f for f in failed)]
    return extra + [f"(expected to fail) {m}" for m in missing]


@pytest.fixture(scope="module")
def solutions() -> dict[str, str]:
    return {p: (SOLUTIONS / p / "correct.py").read_text() for p in PROJECTS}


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_the_grader_accepts_the_reference_solution(project: str) -> None:
    out = io.StringIO()
    result = grade(project, SOLUTIONS / project / "correct.py", out=out)
    assert result.ok, out.getvalue()
    assert result.total == len(checks(project)) + 2
    assert out.getvalue().splitlines()[-1].startswith(f"score: {result.total}/{result.total} checks passed")


@pytest.mark.parametrize(("project", "mistake", "old", "new", "expected"), MISTAKES,
                         ids=[f"{m[0]}: {m[1]}" for m in MISTAKES])
def test_the_grader_rejects_a_mistake(project: str, mistake: str, old: str, new: str, expected: set[str],
                                      solutions: dict[str, str], tmp_path: Path) -> None:
    source = solutions[project]
    assert source.count(old) == 1, f"the mistake {mistake!r} must change one place of correct.py"
    path = tmp_path / f"{project}.py"
    path.write_text(source.replace(old, new))
    out = io.StringIO()
    result = grade(project, path, out=out)
    report = out.getvalue()
    assert not result.ok
    assert not failed_as_expected(result, expected), report
    for name in result.failed():
        assert f"✗ {name}: " in report  # each failure says what is wrong
    assert "Traceback" not in report


def test_every_project_has_at_least_four_mistakes() -> None:
    for project in PROJECTS:
        assert sum(m[0] == project for m in MISTAKES) >= 4, project


@pytest.mark.parametrize("project", sorted(PROJECTS))
def test_the_starter_is_rejected_with_a_helpful_message(project: str, tmp_path: Path) -> None:
    path = write_starter(project, tmp_path / "starter.py")
    assert path.read_text() == starter_path(project).read_text()
    out = io.StringIO()
    result = grade(project, path, out=out)
    report = out.getvalue()
    assert result.passed == 2 and not result.ok, report  # it runs and defines every name
    assert "Traceback" not in report
    for name in result.failed():
        line = next(ln for ln in report.splitlines() if ln.startswith(f"✗ {name}: "))
        assert "not implemented yet" in line, line
    assert report.splitlines()[-1].startswith(f"score: 2/{result.total} checks passed")


def test_a_notebook_submission_is_graded_like_its_code(tmp_path: Path) -> None:
    pytest.importorskip("nbformat")
    path = write_starter("ridge", tmp_path / "ridge.ipynb")
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    assert [c.cell_type for c in nb.cells][:2] == ["markdown", "code"]
    nb.cells.append(nbformat.v4.new_code_cell("%matplotlib inline\n"))  # magics are ignored
    nbformat.write(nb, str(path))
    from companion.projects.grade import load_submission

    ns = load_submission(path)
    assert {"torch_ridge", "jax_ridge", "jax_ridge_vjp"} <= set(ns)
    assert ns["__name__"] == "submission"


def test_a_submission_that_does_not_run_fails_two_checks_then_skips(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_text("import torch\n\ndef torch_logcosh(x):\n    return x +\n")
    out = io.StringIO()
    result = grade("logcosh", path, out=out)
    report = out.getvalue()
    assert result.passed == 0
    assert "✗ the submission runs: SyntaxError" in report
    assert "skipped: define torch_logcosh, jax_logcosh, jax_logcosh_vjp first" in report


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "companion", "grade", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_the_cli_lists_writes_starters_and_sets_the_exit_status(tmp_path: Path) -> None:
    listing = run_cli("--list")
    assert listing.returncode == 0 and listing.stdout.split()[0] == "logcosh" and "ridge" in listing.stdout
    starter = tmp_path / "mine.py"
    written = run_cli("ridge", "--starter", str(starter))
    assert written.returncode == 0 and starter.read_text() == starter_path("ridge").read_text()
    graded = run_cli("ridge", str(starter))
    assert graded.returncode == 1 and "✗ torch: torch_ridge matches the reference primal" in graded.stdout
    good = run_cli("logcosh", str(SOLUTIONS / "logcosh" / "correct.py"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert run_cli("nosuch", str(starter)).returncode == 2
    assert run_cli("ridge", str(tmp_path / "missing.py")).returncode == 2
    assert "unknown project" in str(pytest.raises(ValueError, get, "nosuch").value)


def test_importing_the_projects_imports_no_framework() -> None:
    code = ("import sys, companion, companion.projects, companion.projects.grade, companion.projects.ridge, "
            "companion.projects.logcosh; print('torch' in sys.modules, 'jax' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_verify_still_runs() -> None:
    out = subprocess.run([sys.executable, "-m", "companion", "verify", "--op", "sin", "--check", "jit"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
