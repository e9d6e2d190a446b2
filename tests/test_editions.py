"""The student edition (``make student``) has every exercise and no worked solution, in
HTML, the search index, the downloadable notebooks, the page sources and the PDF; the
instructor edition (the default, ``make book``/``make pdf``) has every solution."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import BOOK, HTML, ROOT, build_failure, require_programs, source_pages, sphinx_build

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from editions import edition, is_check_cell, strip_solutions  # noqa: E402

EXERCISE = re.compile(r"^(?::{3,}|`{3,})\{admonition\}[ \t]+Exercise (\d+\.\d+)", re.M)
SOLUTION = re.compile(r"^(?::{3,}|`{3,})\{dropdown\}[ \t]+Solution to Exercise (\d+\.\d+)", re.M)
CHECK = re.compile(r"^# Checks? of the solutions? to Exercises? ", re.M)
#: Titles as the built HTML shows them.
HTML_EXERCISE = re.compile(r'class="admonition-title">Exercise (\d+\.\d+)')
HTML_SOLUTION = re.compile(r">Solution to Exercise (\d+\.\d+)")


def exercises_of_the_sources() -> Counter[str]:
    return Counter(n for page in source_pages() for n in EXERCISE.findall(page.read_text()))


def test_the_edition_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOK_EDITION", raising=False)
    assert edition() == "instructor"
    monkeypatch.setenv("BOOK_EDITION", "Student")
    assert edition() == "student"
    monkeypatch.setenv("BOOK_EDITION", "teacher")
    with pytest.raises(ValueError, match="BOOK_EDITION must be one of .* got 'teacher'"):
        edition()


@pytest.mark.parametrize("page", [p for p in source_pages() if SOLUTION.search(p.read_text())],
                         ids=lambda p: str(p.relative_to(BOOK).with_suffix("")))
def test_a_stripped_source_keeps_every_exercise_and_loses_every_solution(page: Path) -> None:
    text = page.read_text()
    stripped = strip_solutions(text)
    assert EXERCISE.findall(stripped) == EXERCISE.findall(text)
    assert not SOLUTION.search(stripped), "a solution is left"
    assert not CHECK.search(stripped), "a check cell of a solution is left"
    # Nothing else goes: every other code cell stays.
    cells = lambda t: [c for c in re.findall(r"^```\{code-cell\}.*?^```", t, re.M | re.S)  # noqa: E731
                       if not CHECK.search(c)]
    assert cells(stripped) == cells(text)


def html_titles(html: Path) -> tuple[Counter[str], Counter[str]]:
    exercises, solutions = Counter(), Counter()
    for page in html.rglob("*.html"):
        if {"_static", "_sources", "_modules"} & set(page.relative_to(html).parts):
            continue
        text = page.read_text(encoding="utf-8")
        exercises.update(HTML_EXERCISE.findall(text))
        solutions.update(HTML_SOLUTION.findall(text))
    return exercises, solutions


@pytest.fixture(scope="module")
def student_html(built_book: Path) -> Path:
    """The student edition's HTML, next to the instructor edition (same execution cache)."""
    out = HTML.parent / "student" / "html"
    result = sphinx_build("html", BOOK, out, env={"BOOK_EDITION": "student"})
    if result.returncode != 0:
        pytest.fail(build_failure("the student edition", result), pytrace=False)
    return out


@pytest.mark.book
def test_the_instructor_edition_shows_every_solution(built_book: Path) -> None:
    expected = exercises_of_the_sources()
    exercises, solutions = html_titles(built_book)
    assert len(expected) >= 50
    assert exercises == expected
    assert solutions == expected


@pytest.mark.book
def test_the_student_edition_has_every_exercise_and_no_solution(student_html: Path) -> None:
    exercises, solutions = html_titles(student_html)
    assert exercises == exercises_of_the_sources()
    assert not solutions, f"solutions in the student edition: {sorted(solutions)[:10]}"
    index = (student_html / "searchindex.js").read_text(encoding="utf-8")
    assert "Solution to Exercise" not in index
    assert "(student edition)" in (student_html / "index.html").read_text(encoding="utf-8")


@pytest.mark.book
def test_the_student_downloads_have_no_solutions(student_html: Path) -> None:
    notebooks = list((student_html / "_sources").rglob("*.ipynb"))
    sources = list((student_html / "_sources").rglob("*.md*"))
    assert len(notebooks) >= 20 and len(sources) >= 20
    for path in notebooks + sources:
        text = path.read_text(encoding="utf-8")
        assert "Solution to Exercise" not in text, path.relative_to(student_html)
        assert not re.search(r"# Checks? of the solutions? to Exercise", text), path.name
    import nbformat

    checked = 0
    for path in notebooks:
        for cell in nbformat.read(path, as_version=4).cells:
            assert not (cell.cell_type == "code" and is_check_cell(cell.source)), path.name
            checked += 1
    assert checked


@pytest.mark.book
def test_the_instructor_downloads_keep_the_solutions(built_book: Path) -> None:
    found = sum("Solution to Exercise" in p.read_text(encoding="utf-8")
                for p in (built_book / "_sources").rglob("*.ipynb"))
    assert found >= 20


@pytest.mark.book
@pytest.mark.pdf
@pytest.mark.needs("pdftotext")
def test_the_student_pdf_has_exercises_and_no_solutions(student_html: Path, built_pdf: Path) -> None:
    require_programs("make", "xelatex", "latexmk", "xindy")
    latex = student_html.parent / "latex"
    result = sphinx_build("latex", BOOK, latex, env={"BOOK_EDITION": "student"})
    if result.returncode != 0:
        pytest.fail(build_failure("the student edition's LaTeX", result), pytrace=False)
    make = subprocess.run(["make", "-C", str(latex), "all-pdf",
                           "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error"],
                          capture_output=True, text=True, env=os.environ)
    assert make.returncode == 0, "xelatex failed:\n" + make.stdout[-4000:]
    pdf = latex / built_pdf.name

    def text(path: Path) -> str:
        require_programs("pdftotext")
        return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout

    student, instructor = text(pdf), text(built_pdf)
    assert "student edition" in " ".join(student[:3000].split())
    assert "Solution to Exercise" not in student
    assert "Solution to Exercise" in instructor
    count = lambda t: len(set(re.findall(r"Exercise (\d+\.\d+) ·", t)))  # noqa: E731
    assert count(student) == count(instructor) == len(exercises_of_the_sources())
