"""The book builds with zero warnings, every cell runs, and a broken page fails the build."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import ROOT, sphinx_build

pytestmark = pytest.mark.book


def test_book_builds_and_shows_executed_outputs(built_book: Path) -> None:
    index = built_book / "index.html"
    assert index.is_file()
    page = (built_book / "foundations" / "first-rule.html").read_text()
    # An output that only exists if the page's cells ran: the sympy confirmation.
    assert "cell_output" in page
    assert "confirmed" in page


def test_every_part_is_in_the_table_of_contents(built_book: Path) -> None:
    html = (built_book / "index.html").read_text()
    for title in ("Foundations", "In the frameworks", "A catalogue of rules",
                  "Implicit functions and adjoints"):
        assert title in html, title


def test_chapters_are_numbered_continuously_across_parts(built_book: Path) -> None:
    html = (built_book / "foundations" / "first-rule.html").read_text()
    # The demonstration page is chapter 2 of the book (not "1.2").
    # The article's heading (the theme also prints an unnumbered <h1> for print).
    heading = next((h for h in re.findall(r"<h1>(.*?)</h1>", html, re.S) if "headerlink" in h), "")
    assert re.search(r'section-number">2\. </span>', heading), (
        "chapter number missing or part-prefixed")


def _mini_book(tmp_path: Path, body: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n"
        "kernelspec:\n  name: python3\n  display_name: Python 3\n---\n\n"
        "# A page\n\n" + body + "\n"
    )
    return src


@pytest.mark.parametrize("body, message", [
    ("```{code-cell} python3\nraise RuntimeError('boom')\n```", "boom"),  # a failing cell
    ("See {ref}`no-such-label`.", "no-such-label"),  # a broken cross-reference
], ids=["failing-cell", "broken-reference"])
def test_a_broken_page_fails_the_build(tmp_path: Path, body: str, message: str) -> None:
    src = _mini_book(tmp_path, body)
    result = sphinx_build("html", src, tmp_path / "out",
                          env={"BOOK_JUPYTER_CACHE": str(tmp_path / "cache")})
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
