"""The suite's own rules: every external program a test runs is declared, installed by
CI, named in the README, and skipped with a message when missing; a test that uses
the built book or PDF without its marker fails before anything is built.

These read the test files and .ci/run; they build nothing.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest

import conftest
from conftest import PROGRAMS, ROOT

TESTS = ROOT / "tests"
SUBPROCESS_CALLS = {"run", "Popen", "call", "check_call", "check_output"}


def _literal_strings(nodes: list[ast.expr]) -> list[str]:
    return [n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _needs_marks(decorators: list[ast.expr]) -> set[str]:
    """Programs named by ``pytest.mark.needs(...)`` in decorators or a pytestmark list."""
    found: set[str] = set()
    for node in decorators:
        for call in ast.walk(node):
            if (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "needs"):
                found.update(_literal_strings(call.args))
    return found


def programs_run_without_a_check(path: Path) -> list[str]:
    """Programs a function runs (subprocess, shutil.which) that it does not require first.

    A program counts as required when the function is marked ``needs(...)`` (or the
    module's ``pytestmark`` is), calls ``require_programs(...)``, or is a fixture
    whose programs ``conftest.FIXTURE_PROGRAMS`` lists.
    """
    tree = ast.parse(path.read_text(), str(path))
    module_needs: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            module_needs |= _needs_marks([node.value])
    problems = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef):
            continue
        required = module_needs | _needs_marks(func.decorator_list)
        required |= set(conftest.FIXTURE_PROGRAMS.get(func.name, ()))
        run: list[tuple[str, int]] = []
        for call in ast.walk(func):
            if not isinstance(call, ast.Call):
                continue
            name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
            owner = getattr(call.func, "value", None)
            owner = getattr(owner, "id", "")
            if name == "require_programs":
                required |= set(_literal_strings(call.args))
            elif owner == "subprocess" and name in SUBPROCESS_CALLS and call.args:
                first = call.args[0]
                if isinstance(first, (ast.List, ast.Tuple)) and first.elts:
                    run += [(p, call.lineno) for p in _literal_strings(first.elts[:1])]
            elif owner == "shutil" and name == "which":
                run += [(p, call.lineno) for p in _literal_strings(call.args[:1])]
        for program, line in run:
            if program not in PROGRAMS:
                problems.append(f"{path.name}:{line}: {func.name} runs {program!r}, which is not "
                                "in PROGRAMS (tests/conftest.py)")
            elif program not in required:
                problems.append(f"{path.name}:{line}: {func.name} runs {program!r} without "
                                f"@pytest.mark.needs({program!r}) or require_programs({program!r})")
    return problems


@pytest.mark.parametrize("path", sorted(TESTS.glob("*.py")), ids=lambda p: p.name)
def test_every_program_a_test_runs_is_declared_and_checked(path: Path) -> None:
    problems = programs_run_without_a_check(path)
    assert not problems, "\n".join(problems)


def test_the_program_scanner_catches_an_unchecked_program(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # An undeclared program: a declared one, taken out of PROGRAMS for this test only
    # (a made-up name would be a program that no machine, CI included, has).
    monkeypatch.delitem(PROGRAMS, "xindy")
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "import shutil, subprocess, pytest\n"
        "def test_unchecked():\n"
        "    subprocess.run(['pdftotext', 'x.pdf', '-'])\n"
        "@pytest.mark.needs('pdfinfo')\n"
        "def test_checked():\n"
        "    subprocess.run(['pdfinfo', 'x.pdf'], check=True)\n"
        "def test_unknown():\n"
        "    shutil.which('xindy')\n")
    problems = programs_run_without_a_check(sample)
    assert len(problems) == 2, problems
    assert "'pdftotext' without" in problems[0] and "'xindy', which is not in PROGRAMS" in problems[1]


def ci_programs() -> dict[str, tuple[str, ...]]:
    """The ``need PROGRAM PACKAGE...`` lines of .ci/run, with its shell variables expanded."""
    script = (ROOT / ".ci" / "run").read_text()
    variables = dict(re.findall(r'^(\w+)="([^"]*)"$', script, re.M))
    found = {}
    for line in re.findall(r"^need (.+)$", script, re.M):
        words = shlex.split(re.sub(r"\$(\w+)", lambda m: variables[m.group(1)], line))
        found[words[0]] = tuple(words[1:])
    return found


def test_ci_installs_the_packages_of_every_program() -> None:
    assert ci_programs() == PROGRAMS, (
        ".ci/run's `need PROGRAM PACKAGE...` lines and PROGRAMS in tests/conftest.py differ")


def test_the_readme_names_every_package() -> None:
    readme = (ROOT / "README.md").read_text()
    packages = sorted({pkg for pkgs in PROGRAMS.values() for pkg in pkgs})
    missing = [p for p in packages if not re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", readme)]
    assert not missing, f"README.md does not name the Debian packages {missing}"


def test_a_missing_program_skips_with_the_package_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest.shutil, "which", lambda name: None if name == "pdftotext" else name)
    assert conftest.missing_programs_message("pdfinfo") is None
    message = conftest.missing_programs_message("pdfinfo", "pdftotext")
    assert message == ("pdftotext not installed; on Debian or Ubuntu: apt-get install "
                       "poppler-utils (.ci/run installs them)")
    with pytest.raises(pytest.skip.Exception, match="apt-get install poppler-utils"):
        conftest.require_programs("pdftotext")
    monkeypatch.delitem(conftest.PROGRAMS, "pdftotext")  # declared nowhere, for this test only
    with pytest.raises(KeyError, match="add \\['pdftotext'\\] to PROGRAMS"):
        conftest.require_programs("pdftotext")


def test_a_test_using_the_book_or_pdf_without_its_marker_fails_before_building(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest((TESTS / "conftest.py").read_text())
    pytester.makeini("[pytest]\nmarkers =\n    book\n    pdf\n    needs\n")
    pytester.makepyfile(test_sample="""
        import pytest

        @pytest.fixture(scope="module")
        def site(built_book):
            return built_book

        def test_direct(built_book):
            pass

        def test_through_a_fixture(site):
            pass

        @pytest.mark.book
        def test_pdf_unmarked(built_pdf):
            pass

        @pytest.mark.pdf
        def test_pdf_without_book(built_pdf):
            pass
        """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=4)
    result.stdout.fnmatch_lines([
        "*test_direct uses built_book * not marked 'book': add @pytest.mark.book*",
        "*test_through_a_fixture uses built_book * not marked 'book'*",
        "*test_pdf_unmarked uses built_pdf * not marked 'pdf': add @pytest.mark.pdf*",
        "*test_pdf_without_book uses built_book * not marked 'book'*",
    ])
    assert "sphinx" not in result.stdout.str().lower(), "something was built"
