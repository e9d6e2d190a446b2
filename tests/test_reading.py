"""What readers see: code that fits its column, a PDF whose bibliography is one chapter
and whose running feet name the right section, and landing and part pages that
describe the chapters the book has (no promises of chapters to come)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import BOOK, require_programs, source_pages

#: Code in the book's pages (cells and listings, also the API reference's examples)
#: fits in 88 columns: wider lines scroll sideways in HTML and wrap with ↪ in the PDF.
WIDTH = 88


def wide_code_lines(html: Path) -> list[str]:
    """Lines of input cells and listings (not outputs) wider than WIDTH, by page."""
    from bs4 import BeautifulSoup

    found = []
    for page in sorted(html.rglob("*.html")):
        rel = page.relative_to(html)
        if {"_static", "_sources", "_modules"} & set(rel.parts) or rel.name in (
                "genindex.html", "search.html"):
            continue
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for pre in soup.select("div.highlight pre"):
            if pre.find_parent(class_="cell_output") or pre.find_parent(class_="output"):
                continue
            found += [f"{rel}: {len(line)} columns: {line[:60]}..."
                      for line in pre.get_text().splitlines() if len(line) > WIDTH]
    return found


@pytest.mark.book
def test_code_in_cells_and_listings_fits_88_columns(built_book: Path) -> None:
    wide = wide_code_lines(built_book)
    assert not wide, f"{len(wide)} code lines wider than {WIDTH} columns:\n" + "\n".join(wide[:40])


def test_the_width_check_sees_listings_and_cells_but_not_outputs(tmp_path: Path) -> None:
    long = "x = " + "1 + " * 30 + "1"
    (tmp_path / "page.html").write_text(
        f'<div class="cell_input"><div class="highlight"><pre>{long}</pre></div></div>'
        f'<div class="cell_output"><div class="highlight"><pre>{long}</pre></div></div>'
        f'<div class="highlight-python"><div class="highlight"><pre>short\n{long}</pre></div></div>')
    assert len(wide_code_lines(tmp_path)) == 2


# -- The PDF ---------------------------------------------------------------------------

def toc_sections(pdf: Path) -> list[tuple[str, str, str]]:
    """(level, number, title as printed) of every entry of the PDF's table of contents."""
    toc = pdf.with_suffix(".toc").read_text(encoding="utf-8", errors="replace")
    entries = []
    for line in toc.splitlines():
        m = re.match(r"\\contentsline \{(\w+)\}\{(?:\\numberline \{([^}]*)\})?(.*)\}\{[^{}]*\}"
                     r"\{[^{}]*\}%?$", line)
        if m:
            printed = re.sub(r"\\[a-zA-Z]+ ?|[{}]", "", m.group(3)).replace("\\", "")
            entries.append((m.group(1), m.group(2) or "", " ".join(printed.split())))
    return entries


@pytest.mark.book
@pytest.mark.pdf
def test_the_bibliography_is_one_chapter_of_the_pdf(built_pdf: Path) -> None:
    entries = [e for e in toc_sections(built_pdf) if "Bibliography" in e[2]]
    assert len(entries) == 1, f"the contents list the bibliography {len(entries)} times: {entries}"


def pages_text(pdf: Path) -> list[str]:
    require_programs("pdftotext")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return text.split("\f")


def misnamed_feet(pages: list[str], sections: dict[str, str]) -> list[str]:
    """Pages whose running foot names a section ("7.7. Summary   75") other than the last
    section that begins on the page."""
    problems = []
    for index, page in enumerate(pages, start=1):
        lines = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
        if not lines:
            continue
        foot = re.match(r"^(\d+\.\d+)\. .*? \d+$", lines[-1])
        # A heading line: the number, then the title's start (a long title wraps).
        begun = [m.group(1) for line in lines[:-1]
                 if (m := re.match(r"^(\d+\.\d+) (.+)$", line)) and m.group(1) in sections
                 and sections[m.group(1)].startswith(m.group(2)[:12])]
        if foot and begun and foot.group(1) != begun[-1]:
            problems.append(f"page {index}: the foot names {foot.group(1)} "
                            f"{sections.get(foot.group(1))}, the page ends in {begun[-1]} "
                            f"{sections[begun[-1]]}")
    return problems


@pytest.mark.book
@pytest.mark.pdf
@pytest.mark.needs("pdftotext")
def test_the_running_foot_names_the_section_the_page_ends_in(built_pdf: Path) -> None:
    sections = {number: title for level, number, title in toc_sections(built_pdf)
                if level == "section" and number}
    assert len(sections) > 100
    problems = misnamed_feet(pages_text(built_pdf), sections)
    assert not problems, "\n".join(problems[:20])


def test_the_foot_check_catches_a_summary_foot_over_exercises() -> None:
    page = "text\n7.7 Summary\nmore\n7.8 Exercises\nfirst exercise\n7.7. Summary      75\n"
    sections = {"7.7": "Summary", "7.8": "Exercises"}
    assert misnamed_feet([page], sections) == [
        "page 1: the foot names 7.7 Summary, the page ends in 7.8 Exercises"]
    assert misnamed_feet([page.replace("7.7. Summary", "7.8. Exercises")], sections) == []


# -- Landing and part pages --------------------------------------------------------------

def toctree_entries(page: Path) -> list[Path]:
    """The documents a page's toctree lists, in order."""
    entries = []
    for block in re.findall(r"^```\{toctree\}\n(.*?)^```", page.read_text(), re.M | re.S):
        for line in block.splitlines():
            line = line.strip()
            if not line or line.startswith(":"):
                continue
            target = re.sub(r"^.*<(.+)>$", r"\1", line)
            entries.append((page.parent / target).with_suffix(".md"))
    return entries


def title(page: Path) -> str:
    return re.search(r"^# (.+)$", page.read_text(), re.M).group(1).strip()


PART_PAGES = [p for p in source_pages() if p.name == "index.md" and p.parent != BOOK]


@pytest.mark.parametrize("part", PART_PAGES, ids=lambda p: p.parent.name)
def test_a_part_page_lists_exactly_its_chapters(part: Path) -> None:
    listed = re.findall(r"^\d+\. \*\*(.+?)\*\*", part.read_text(), re.M)
    chapters = [title(p) for p in toctree_entries(part)]
    assert chapters, f"{part} has no toctree"
    if listed or part.parent.name not in ("appendices", "projects"):
        normal = lambda s: re.sub(r"[`*]", "", s).lower()  # noqa: E731
        assert [normal(t) for t in listed] == [normal(t) for t in chapters], (
            f"{part.relative_to(BOOK)} lists {listed}, its toctree holds {chapters}")
    assert not re.search(r"(?i)planned|to come|coming soon|will be written|being written",
                         part.read_text()), f"{part} promises what does not exist"


def test_the_landing_page_counts_the_chapters_each_part_has() -> None:
    """"**Part II · In the frameworks** (9 chapters)": the titles of the landing page's
    table of contents, and the number of pages in each part's own toctree."""
    landing = BOOK / "index.md"
    text = landing.read_text()
    captions = dict(re.findall(r"^(.+?) <([\w/-]+)>$", text, re.M))  # caption -> docname
    said = re.findall(r"^- \*\*(.+?)\*\* \((\d+) (?:chapters|projects)\)", text, re.M)
    assert len(said) >= 5, said
    for caption, count in said:
        assert caption in captions, f"the landing page names {caption!r}, not in its toctree"
        pages = toctree_entries(BOOK / f"{captions[caption]}.md")
        assert int(count) == len(pages), f"{caption}: the landing page says {count}, it has {len(pages)}"
    named = {caption for caption, _ in said}
    missing = [c for c in captions if c not in named and c != "Appendices"]
    assert not missing, f"parts of the book the landing page does not describe: {missing}"


def test_the_landing_page_names_every_part_and_promises_nothing_missing() -> None:
    landing = BOOK / "index.md"
    text = landing.read_text()
    parts = toctree_entries(landing)
    assert len(parts) >= 5
    for part in parts:
        assert part.is_file(), f"the landing page's toctree names a missing page {part}"
    assert not re.search(r"(?i)planned|to come|coming soon|will be written|being written", text)
    for page in source_pages():
        assert "This chapter is being written" not in page.read_text(), page
