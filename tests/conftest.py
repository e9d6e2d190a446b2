"""Shared fixtures and rules of the test suite.

* The book is built once per test session (``built_book``) and reused. A test that
  uses it, even through another fixture, must be marked ``book``, and a test that
  uses the PDF must be marked ``pdf`` (and ``book``: the PDF needs the HTML book's
  numbers): ``pytest -m "not book"`` then builds nothing. A test that forgets its
  marker fails with a message saying which marker to add.
* External programs (TeX Live, Chromium, poppler-utils) are listed once, in
  ``PROGRAMS``, with the Debian packages that provide them; ``.ci/run`` installs
  those packages and the README names them (``test_environment.py`` checks both).
  A test declares what it runs with ``@pytest.mark.needs("pdftotext", ...)``, or
  calls :func:`require_programs`; when a program is missing the test is skipped
  with a message naming the packages to install.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
# BOOK_HTML_DIR and BOOK_LATEX_DIR let parallel work build elsewhere; `make test` uses
# _build/html and _build/latex. myst-nb writes the executed notebooks to
# jupyter_execute/ next to them (in the parent folder): give each build its own parent.
HTML = Path(os.environ.get("BOOK_HTML_DIR", ROOT / "_build" / "html"))
LATEX = Path(os.environ.get("BOOK_LATEX_DIR", ROOT / "_build" / "latex"))

# -- External programs -----------------------------------------------------------

#: TeX Live as `make pdf` needs it: xelatex, latexmk and xindy (Sphinx's index with
#: xelatex), the LaTeX packages Sphinx loads, and the fonts the book sets.
TEX_LIVE = ("latexmk", "texlive-xetex", "texlive-latex-extra", "texlive-fonts-recommended",
            "texlive-plain-generic", "fonts-freefont-otf", "fonts-dejavu-core", "tex-gyre",
            "xindy")
#: Every program a test runs, with the Debian packages to install for it.
PROGRAMS: dict[str, tuple[str, ...]] = {
    "make": ("make",),  # runs latexmk in the LaTeX build folder
    "xelatex": TEX_LIVE,
    "latexmk": TEX_LIVE,
    "xindy": TEX_LIVE,
    "chromium": ("chromium",),  # driven by Playwright (no chromedriver needed)
    "pdfinfo": ("poppler-utils",),  # page count of the PDF
    "pdftoppm": ("poppler-utils",),  # rendered pages in test-artifacts/
    "pdftotext": ("poppler-utils",),  # the title page's text
}


def missing_programs_message(*programs: str) -> str | None:
    """Why the programs cannot run (naming the Debian packages to install), or None."""
    unknown = [p for p in programs if p not in PROGRAMS]
    if unknown:
        raise KeyError(f"add {unknown} to PROGRAMS in tests/conftest.py, with their Debian "
                       "packages, and install those in .ci/run and name them in the README")
    missing = [p for p in programs if not shutil.which(p)]
    if not missing:
        return None
    packages = list(dict.fromkeys(pkg for p in missing for pkg in PROGRAMS[p]))
    return (f"{', '.join(missing)} not installed; on Debian or Ubuntu: "
            f"apt-get install {' '.join(packages)} (.ci/run installs them)")


def require_programs(*programs: str) -> None:
    """Skip the calling test, with a message naming the packages, unless all programs exist."""
    if message := missing_programs_message(*programs):
        pytest.skip(message)


# -- Markers that keep fast runs fast ------------------------------------------------

#: Fixtures that build something big, and the marker a test using them must carry.
HEAVY_FIXTURES = {"built_book": "book", "built_pdf": "pdf"}
#: Programs a fixture runs: checked before the test's fixtures are set up, so a test
#: that would be skipped for want of TeX Live does not build the HTML book first.
FIXTURE_PROGRAMS = {"built_pdf": ("make", "xelatex", "latexmk", "xindy")}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Check markers and programs before any fixture is set up (so nothing is built).

    A hook, not a check inside the fixtures: ``built_book`` is session-scoped, so it
    runs once, for the first test that needs it (its ``request.node`` is the session),
    and module-scoped fixtures such as the browser tests' ``site`` reach it indirectly.
    ``item.fixturenames`` is the closure: every fixture the test needs, at any depth.
    """
    used = set(getattr(item, "fixturenames", ()))
    for fixture, marker in HEAVY_FIXTURES.items():
        if fixture in used and item.get_closest_marker(marker) is None:
            pytest.fail(f"{item.nodeid} uses {fixture} (directly or through another fixture) "
                        f"but is not marked {marker!r}: add @pytest.mark.{marker} (or a module "
                        f"pytestmark), so that `pytest -m \"not {marker}\"` does not build it",
                        pytrace=False)
    for fixture, programs in FIXTURE_PROGRAMS.items():
        if fixture in used:
            require_programs(*programs)
    for mark in item.iter_markers("needs"):
        require_programs(*mark.args)


# -- Building --------------------------------------------------------------------------

def sphinx_build(builder: str, srcdir: Path, outdir: Path, *extra: str,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run sphinx-build with warnings as errors, as `make book` does."""
    cmd = [sys.executable, "-m", "sphinx", "-b", builder, "-n", "-W", "--keep-going",
           "-c", str(ROOT), str(srcdir), str(outdir), *extra]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


#: Lines of a build's output that are noise (each kernel prints this warning at start).
NOISE = re.compile(r"^\[IPKernelApp\] WARNING \| Kernel is running over TCP")


def build_failure(what: str, result: subprocess.CompletedProcess[str]) -> str:
    """The warnings and errors of a failed build first, then the end of its output."""
    lines = [line for line in (result.stdout + "\n" + result.stderr).splitlines()
             if not NOISE.match(line)]
    problems = list(dict.fromkeys(line for line in lines if re.search(
        r"WARNING|ERROR|Error|Exception|Traceback", line)))
    tail = "\n".join(lines)[-6000:]
    return (f"{what} did not build; its warnings and errors:\n" + "\n".join(problems[:40])
            + "\n\n-- the end of its output --\n" + tail)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The HTML book in _build/html, built with -n -W and every cell executed."""
    result = sphinx_build("html", BOOK, HTML)
    if result.returncode != 0:
        pytest.fail(build_failure("the book", result), pytrace=False)
    return HTML


PDF_NAME = "custom-derivative-rules"


@pytest.fixture(scope="session")
def built_pdf(built_book: Path) -> Path:
    """The PDF, built like `make pdf` (LaTeX with -n -W, then latexmk with xelatex)."""
    require_programs(*FIXTURE_PROGRAMS["built_pdf"])
    result = sphinx_build("latex", BOOK, LATEX)
    if result.returncode != 0:
        pytest.fail(build_failure("the LaTeX source", result), pytrace=False)
    make = subprocess.run(
        ["make", "-C", str(LATEX), "all-pdf",
         "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error"],
        capture_output=True, text=True)
    if make.returncode != 0:
        pytest.fail("xelatex failed:\n" + make.stdout[-6000:])
    return LATEX / f"{PDF_NAME}.pdf"


# -- The sources -------------------------------------------------------------------

#: The front matter of an executed page (a MyST notebook), for the tests' sample books.
NOTEBOOK_FRONT_MATTER = """---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
---
"""

def source_pages() -> list[Path]:
    """Every page of the book (not the files of _ext, _static, _templates)."""
    return sorted(p for p in BOOK.rglob("*.md")
                  if not any(part.startswith("_") for part in p.relative_to(BOOK).parts))


def front_matter(text: str) -> dict:
    match = re.match(r"---\n(.*?)\n---\n", text, re.S)
    return yaml.safe_load(match.group(1)) if match else {}


def executed_pages() -> list[str]:
    """Docnames of the pages myst-nb executes (MyST notebooks: a kernelspec)."""
    return [str(p.relative_to(BOOK).with_suffix(""))
            for p in source_pages() if front_matter(p.read_text()).get("kernelspec")]
