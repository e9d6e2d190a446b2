"""The book builds with zero warnings, every cell runs, and a broken page fails the build.

Executed pages show their confirmations (``companion.confirm``) as cell outputs, no
page shows a failed one, and every cell tagged ``raises-exception`` (a deliberate
failure shown to readers) really raised.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from conftest import BOOK, executed_pages, source_pages, sphinx_build

pytestmark = pytest.mark.book

#: Executed pages that confirm nothing, and why.
PAGES_WITHOUT_CONFIRMATIONS = {
    "foundations/notation": "its one cell prints the companion's version",
    "appendices/api": "its one cell shows the error message of a bad call",
}
#: The one-line display of a companion.confirm result: "confirmed: claim (detail)", or
#: for a deliberately wrong rule "shown wrong, as intended: claim (detail)".
CONFIRMATION = re.compile(r"^\s*(confirmed|shown wrong, as intended): \S", re.M)
FAILED_CONFIRMATION = "NOT confirmed"


class CellOutputs(HTMLParser):
    """The text of every cell output (``<div class="cell_output ...">``) of a page."""

    BLOCKS = {"p", "div", "pre", "br", "li", "tr", "table"}

    def __init__(self) -> None:
        super().__init__()
        self.outputs: list[str] = []
        self._depth = 0  # of <div> elements
        self._inside: int | None = None  # depth of the cell_output div we are in

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "div":
            self._depth += 1
            classes = (dict(attrs).get("class") or "").split()
            if self._inside is None and "cell_output" in classes:
                self._inside = self._depth
                self.outputs.append("")
        if self._inside is not None and tag in self.BLOCKS:
            self.outputs[-1] += "\n"

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            if self._inside == self._depth:
                self._inside = None
            self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._inside is not None:
            self.outputs[-1] += data


def cell_outputs(page: Path) -> list[str]:
    parser = CellOutputs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.outputs


def confirmation_problems(html_dir: Path, docnames: list[str]) -> list[str]:
    """Pages among ``docnames`` whose cell outputs show no confirmation, and any page
    whose cell outputs show a failed one."""
    problems = []
    for docname in docnames:
        outputs = cell_outputs(html_dir / f"{docname}.html")
        if not any(CONFIRMATION.search(text) for text in outputs):
            problems.append(f"{docname}: no cell output shows a confirmation "
                            f"('confirmed: ...'); {len(outputs)} cell outputs")
    for page in sorted(html_dir.rglob("*.html")):
        if {"_static", "_sources"} & set(page.relative_to(html_dir).parts):
            continue
        for text in cell_outputs(page):
            if FAILED_CONFIRMATION in text:
                line = [l for l in text.splitlines() if FAILED_CONFIRMATION in l][-1]
                problems.append(f"{page.relative_to(html_dir)}: a cell output shows "
                                f"{line.strip()[:200]!r}")
    return problems


def raises_exception_problems(html_dir: Path) -> list[str]:
    """Code cells tagged raises-exception that did not raise, in the executed notebooks
    the book offers for download (``_sources/<page>.ipynb``), by page, line and cell."""
    sources = html_dir / "_sources"
    notebooks = sorted(sources.rglob("*.ipynb"))
    if not notebooks:
        return [f"no executed notebook in {sources}"]
    problems = []
    for path in notebooks:
        docname = str(path.relative_to(sources).with_suffix(""))
        # The page's code cells (not the download's first cell, which installs the companion).
        code = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"
                and "companion-setup" not in c.metadata.get("tags", [])]
        source = sources / f"{docname}.md"
        text = source.read_text(encoding="utf-8") if source.is_file() else ""
        lines = [text.count("\n", 0, m.start()) + 1
                 for m in re.finditer(r"^[ \t]*(?:`{3,}|:{3,})\{code-cell\}", text, re.M)]
        for k, cell in enumerate(code):
            if "raises-exception" not in cell.metadata.get("tags", []):
                continue
            if any(o.output_type == "error" for o in cell.outputs):
                continue
            where = f"{docname}.md:{lines[k]}" if len(lines) == len(code) else f"{docname}.md"
            last = next((l for l in reversed(cell.source.splitlines()) if l.strip()), "")
            problems.append(f"{where}: code cell {k + 1} is tagged raises-exception but raised "
                            f"nothing: {last.strip()!r}")
    return problems


def test_the_book_builds_with_every_executed_page(built_book: Path) -> None:
    assert (built_book / "index.html").is_file()
    for docname in executed_pages():
        assert (built_book / f"{docname}.html").is_file(), docname


@pytest.mark.parametrize("docname", [d for d in executed_pages() if d not in PAGES_WITHOUT_CONFIRMATIONS])
def test_every_executed_page_shows_a_confirmation_in_a_cell_output(built_book: Path, docname: str) -> None:
    problems = confirmation_problems(built_book, [docname])
    assert not problems, "\n".join(problems)


def test_no_page_shows_a_failed_confirmation(built_book: Path) -> None:
    problems = [p for p in confirmation_problems(built_book, []) if FAILED_CONFIRMATION in p]
    assert not problems, "\n".join(problems)


def test_every_cell_tagged_raises_exception_raised(built_book: Path) -> None:
    problems = raises_exception_problems(built_book)
    assert not problems, "\n".join(problems)


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
    src.mkdir(exist_ok=True)
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


MINI_OUTPUTS = """
The word confirmed in the prose is no confirmation.

```{code-cell} python3
from companion.confirm import confirm
x = 1
```

```{code-cell} python3
:tags: [raises-exception]
x + "1"
```

```{code-cell} python3
:tags: [raises-exception]
y = x + 1
```

```{code-cell} python3
:tags: [raises-exception]
confirm("one is two", x == 2)
```
"""


def test_the_checks_catch_a_missing_confirmation_and_a_cell_that_did_not_raise(
        tmp_path: Path) -> None:
    src = _mini_book(tmp_path, MINI_OUTPUTS)
    html = tmp_path / "out" / "html"  # myst-nb's jupyter_execute/ goes to out/
    result = sphinx_build("html", src, html, env={"BOOK_JUPYTER_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert raises_exception_problems(html) == [
        "index.md:25: code cell 3 is tagged raises-exception but raised nothing: 'y = x + 1'"]
    assert confirmation_problems(html, ["index"]) == [
        "index: no cell output shows a confirmation ('confirmed: ...'); 2 cell outputs",
        "index.html: a cell output shows 'ConfirmationError: NOT confirmed: one is two'",
    ]


def test_confirmations_count_only_inside_cell_outputs(tmp_path: Path) -> None:
    """The markup myst-nb writes for a confirmation (Markdown) and a printed one (stream)."""
    page = tmp_path / "page.html"
    prose = '<p><strong>confirmed:</strong> in the prose</p><div class="cell docutils container">'
    markdown = ('<div class="cell_output docutils container">\n<p><strong>confirmed:</strong> '
                'one is one</p>\n</div>')
    stream = ('<div class="cell_output docutils container"><div class="output stream highlight-myst-ansi '
              'notranslate"><div class="highlight"><pre><span></span>x = 2\nconfirmed: printed\n'
              '</pre></div></div></div>')
    wrong = ('<div class="cell_output docutils container"><p><strong>shown wrong, as intended:'
             '</strong> sign flip (relative difference 2.0e+00)</p></div>')
    for body, expected in ((prose + "</div>", 0), (prose + markdown + "</div>", 1),
                           (prose + stream + "</div>", 1), (prose + wrong + "</div>", 1)):
        page.write_text(body)
        assert len(confirmation_problems(tmp_path, ["page"])) == 1 - expected, body
    assert cell_outputs(page) == ["\n\nshown wrong, as intended: sign flip (relative difference 2.0e+00)"]


def test_labels_are_lower_case() -> None:
    """Sphinx lower-cases a label in HTML ids but LaTeX keeps its case, so the PDF's
    equation numbers (test_site.py) can be matched to the HTML only for lower-case labels."""
    label = re.compile(r"^\$\$ \((?P<eq>[^)]+)\)$|^\((?P<target>[^)]+)\)=$", re.M)
    bad = [f"{page.relative_to(BOOK)}: {m.group('eq') or m.group('target')}"
           for page in source_pages() for m in label.finditer(page.read_text())
           if (m.group("eq") or m.group("target")) != (m.group("eq") or m.group("target")).lower()]
    assert not bad, f"labels with capitals: {bad}"
