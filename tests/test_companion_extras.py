"""A reader with one framework: verify runs what is installed, and imports name the extra.

Each test blocks the import of one framework in a fresh interpreter, as if it
were not installed, by a finder that raises ``ModuleNotFoundError`` for it.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCK = textwrap.dedent(
    """
    import sys

    class Block:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in {blocked!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, Block())
    """
)


def _run(blocked: set[str], code: str) -> subprocess.CompletedProcess[str]:
    program = BLOCK.format(blocked=blocked) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("framework, other", [("jax", "torch"), ("torch", "jax")])
def test_importing_an_adapter_without_its_framework_names_the_extra(framework: str, other: str) -> None:
    result = _run({framework}, f"import companion.{framework}")
    assert result.returncode != 0
    assert (f"companion.{framework} needs {framework}, which is not installed; "
            f"install it with: pip install 'jvp-vjp-companion[{framework}]'") in result.stderr
    assert "ModuleNotFoundError" in result.stderr
    # the other adapter still imports
    assert _run({framework}, f"import companion.{other}").returncode == 0


@pytest.mark.parametrize("framework, kept", [("jax", "torch"), ("torch", "jax")])
def test_verify_runs_the_installed_framework_and_says_what_it_skipped(framework: str, kept: str) -> None:
    result = _run({framework}, """
        import sys
        from companion.__main__ import main
        sys.exit(main(["verify", "--op", "matvec"]))
    """)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert f"skipped: " in out and f"{framework} is not installed" in out
    assert f"pip install 'jvp-vjp-companion[{framework}]'" in out
    assert "ModuleNotFoundError" not in out
    ran = [line for line in out.splitlines() if line.startswith("matvec ")]
    assert ran and all(" ok " in line for line in ran), out
    assert any("symbolic" in line for line in ran)
    assert any(kept in line for line in ran) and not any(framework in line for line in ran)


def test_verify_fails_when_an_installed_check_fails() -> None:
    result = _run({"jax"}, """
        import sys
        from companion.ops.linalg import rules
        rules.matvec_cotangents = lambda A, x, y_bar, xp, needs=(True, True): (None, 2 * (y_bar @ A))
        from companion.__main__ import main
        sys.exit(main(["verify", "--op", "matvec", "--check", "gradcheck"]))
    """)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED matvec / gradcheck" in result.stdout


def test_verify_fails_under_python_O() -> None:
    """The batteries raise explicitly: ``python -O`` (which drops asserts) still reports a failure."""
    code = """
        import sys
        from companion.ops.linalg import rules
        rules.matvec_tangent = lambda A, x, A_dot, x_dot, xp: A @ x_dot
        from companion.__main__ import main
        sys.exit(main(["verify", "--op", "matvec", "--check", "symbolic"]))
    """
    result = subprocess.run([sys.executable, "-O", "-c", textwrap.dedent(code)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED matvec / symbolic" in result.stdout
