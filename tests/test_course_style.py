"""One style for what a course uses: objectives, prerequisites, exercises, solutions,
figures, the concept index and the glossary (how they are written: book/README of the
conventions is this module's docstring of each test).

Every chapter opens with::

    :::{admonition} Learning objectives
    :class: objectives
    ...
    :::{admonition} Prerequisites
    :class: prerequisites

Every exercise and its solution read::

    :::{admonition} Exercise 8.2 · ★★ · implement
    :class: exercise
    ...
    :::{dropdown} Solution to Exercise 8.2
    :class-container: solution
    ... worked reasoning ... **Usual mistake.** ...
    :::

and a coding exercise (implement, debug) is followed by the hidden cell that runs
every ``python`` block of its solution, verbatim, and confirms the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BOOK, source_pages

BLOCK = re.compile(r"^(?P<fence>:{3,}|`{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<title>[^\n]*)\n"
                   r"(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S)
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
EXERCISE_TITLE = re.compile(r"Exercise (?P<number>\d+\.\d+) · (?P<stars>★{1,3}) · "
                            r"(?P<kind>derive|implement|debug)")
SOLUTION_TITLE = re.compile(r"Solution to Exercise (?P<number>\d+\.\d+)")
PYTHON = re.compile(r"^[ \t]*```python[ \t]*\n(?P<code>.*?)^[ \t]*```[ \t]*$", re.M | re.S)
CHECK = re.compile(r"^# Checks? of the solutions? to Exercises? (?P<numbers>[\d., and]+)", re.M)
CONFIRM = re.compile(r"\bconfirm(?:_close|_equal|_differs)?\(")
#: Box titles that belong to the course style, in any spelling.
COURSE_TITLE = re.compile(r"(?i)objective|prerequisite|x\w*cise|^solution|you will learn")
#: Chapters that must teach with at least one figure generated at build (issue 16).
FIGURE_CHAPTERS = ["foundations/engines", "foundations/adjoints", "foundations/forward-rules",
                   "foundations/reverse-rules", "frameworks/autograd-function",
                   "frameworks/torch-func", "frameworks/double-backward",
                   "frameworks/jax-custom-jvp", "frameworks/jax-custom-vjp"]


@dataclass
class Block:
    name: str
    title: str
    options: dict[str, str]
    body: str
    line: int
    end: int  # offset just after the closing fence


def blocks(text: str) -> list[Block]:
    """The top-level directive blocks of a page, with their options."""
    found = []
    for m in BLOCK.finditer(text):
        options, body = {}, m.group("body").split("\n")
        while body and (option := OPTION.match(body[0])):
            options[option.group("key")] = option.group("value").strip()
            body = body[1:]
        found.append(Block(m.group("name"), m.group("title").strip(), options, "\n".join(body),
                           text.count("\n", 0, m.start()) + 1, m.end()))
    return found


def is_chapter(page: Path) -> bool:
    return bool(re.search(r"^\(ch-[\w-]+\)=", page.read_text(), re.M))


def style_problems(page: Path) -> list[str]:
    text, where = page.read_text(), f"{page.name}"
    problems: list[str] = []
    found = blocks(text)
    titles = [b.title for b in found]
    if is_chapter(page):
        for title, cls in (("Learning objectives", "objectives"), ("Prerequisites", "prerequisites")):
            boxes = [b for b in found if b.title == title]
            if len(boxes) != 1 or boxes[0].name != "admonition":
                problems.append(f"{where}: needs one {{admonition}} {title!r}, found {len(boxes)}")
            elif boxes[0].options.get("class") != cls:
                problems.append(f"{where}:{boxes[0].line}: {title!r} needs ':class: {cls}'")
        if {"Learning objectives", "Prerequisites"} <= set(titles) and (
                titles.index("Learning objectives") > titles.index("Prerequisites")):
            problems.append(f"{where}: learning objectives come before prerequisites")
    for k, b in enumerate(found):
        at = f"{where}:{b.line}"
        if not COURSE_TITLE.search(b.title) or b.title in ("Learning objectives", "Prerequisites"):
            continue
        if b.name == "admonition":
            m = EXERCISE_TITLE.fullmatch(b.title)
            if not m:
                problems.append(f"{at}: {b.title!r} is not 'Exercise N.M · ★…★ · derive|implement|debug'")
                continue
            if b.options.get("class") != "exercise":
                problems.append(f"{at}: {b.title!r} needs ':class: exercise'")
            solution = next((s for s in found[k + 1:] if SOLUTION_TITLE.fullmatch(s.title)), None)
            if solution is None or SOLUTION_TITLE.fullmatch(solution.title).group("number") != m.group("number"):
                problems.append(f"{at}: {b.title!r} is not followed by its solution")
                continue
            if m.group("kind") in ("implement", "debug"):
                problems += coding_problems(text, solution, m.group("number"), at)
        elif b.name == "dropdown":
            if not SOLUTION_TITLE.fullmatch(b.title):
                problems.append(f"{at}: dropdown {b.title!r} is not 'Solution to Exercise N.M'")
                continue
            if b.options.get("class-container") != "solution":
                problems.append(f"{at}: {b.title!r} needs ':class-container: solution'")
            if "**Usual mistake.**" not in b.body:
                problems.append(f"{at}: {b.title!r} has no '**Usual mistake.**' paragraph")
        else:
            problems.append(f"{at}: {{{b.name}}} {b.title!r}: exercises are admonitions, "
                            "solutions dropdowns")
    return problems


def coding_problems(text: str, solution: Block, number: str, at: str) -> list[str]:
    """A coding exercise: its solution's code is run, verbatim, by the next hidden cell."""
    code = [m.group("code").rstrip() for m in PYTHON.finditer(solution.body)]
    if not code:
        return [f"{at}: Exercise {number} is a coding exercise, but its solution has no ```python code"]
    cell = next((b for b in blocks(text[solution.end:]) if b.name == "code-cell"), None)
    check = CHECK.search(cell.body) if cell else None
    if cell is None or not check or number not in re.findall(r"\d+\.\d+", check.group("numbers")):
        return [f"{at}: the solution of Exercise {number} is not followed by its check cell "
                f"('# Check of the solution to Exercise {number}')"]
    problems = []
    if "remove-cell" not in cell.options.get("tags", "") and "remove-cell" not in cell.body[:200]:
        problems.append(f"{at}: the check cell of Exercise {number} is not hidden (remove-cell)")
    for block in code:
        if block not in cell.body:
            problems.append(f"{at}: the check cell of Exercise {number} does not run this code "
                            f"of its solution verbatim: {block.splitlines()[0]!r}...")
    if not CONFIRM.search(cell.body):
        problems.append(f"{at}: the check cell of Exercise {number} confirms nothing")
    return problems


PAGES = source_pages()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(BOOK).with_suffix("")))
def test_objectives_exercises_and_solutions_have_one_style(page: Path) -> None:
    problems = style_problems(page)
    assert not problems, "\n".join(problems)


def test_the_style_check_catches_each_stray_form(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "(ch-x)=\n# X\n\n:::{admonition} Learning objectives\n:class: tip\n- a\n:::\n\n"
        ":::{admonition} Exercise 3.1\n:class: tip\nQ\n:::\n\n"
        ":::{dropdown} Solution to Exercise 3.1\nA\n:::\n\n"
        ":::{admonition} Exercise 3.2 · ★★ · implement\n:class: exercise\nQ\n:::\n\n"
        ":::{dropdown} Solution to Exercise 3.2\n:class-container: solution\n\n"
        "```python\nx = 1\n```\n\n**Usual mistake.** None.\n:::\n\n"
        "```{code-cell} python3\n:tags: [remove-cell]\n# Check of the solution to Exercise 3.2\n"
        "x = 2\nconfirm(\"x\", x == 2)\n```\n\n"
        ":::{note} Exercise 3.3 · ★ · derive\nQ\n:::\n")
    problems = [p.split(": ", 1)[1] for p in style_problems(page)]
    assert problems == [
        "'Learning objectives' needs ':class: objectives'",
        "needs one {admonition} 'Prerequisites', found 0",
        "'Exercise 3.1' is not 'Exercise N.M · ★…★ · derive|implement|debug'",
        "'Solution to Exercise 3.1' needs ':class-container: solution'",
        "'Solution to Exercise 3.1' has no '**Usual mistake.**' paragraph",
        "the check cell of Exercise 3.2 does not run this code of its solution verbatim: 'x = 1'...",
        "{note} 'Exercise 3.3 · ★ · derive': exercises are admonitions, solutions dropdowns",
    ], problems


def figures(page: Path) -> list[str]:
    return re.findall(r"^\s+name: (fig-[\w-]+)", page.read_text(), re.M)


@pytest.mark.parametrize("docname", FIGURE_CHAPTERS)
def test_the_chapter_teaches_with_a_figure_made_at_build(docname: str) -> None:
    page = BOOK / f"{docname}.md"
    names = figures(page)
    assert names, f"{docname}: no numbered figure (a code cell with mystnb: figure: name: fig-...)"
    for name in names:
        assert f"{{numref}}`{name}`" in page.read_text(), f"{docname}: {name} is never referenced"


GLOSSARY = BOOK / "appendices" / "glossary.md"


def glossary_terms() -> list[str]:
    body = re.search(r"```\{glossary\}\n(.*?)^```", GLOSSARY.read_text(), re.M | re.S).group(1)
    return [line.strip() for line in body.splitlines() if line and not line[0].isspace()
            and not line.startswith(":")]


def test_the_glossary_is_sorted_and_every_term_is_used() -> None:
    terms = glossary_terms()
    assert len(terms) >= 35
    used = {m.group(2) or m.group(1) for page in PAGES
            for m in re.finditer(r"\{term\}`([^`<]+?)(?:\s*<([^>]+)>)?`", page.read_text())}
    unused = [t for t in terms if t not in used]
    assert not unused, f"glossary terms no page links to: {unused}"


@pytest.mark.parametrize("page", [p for p in PAGES if is_chapter(p) and "Exercise" in p.read_text()],
                         ids=lambda p: str(p.relative_to(BOOK).with_suffix("")))
def test_the_chapter_marks_its_defining_passages_for_the_index(page: Path) -> None:
    entries = re.findall(r"\{index\}(?:`|[ \t]+\S)", page.read_text())  # the role or the directive
    assert len(entries) >= 3, f"{page.name}: {len(entries)} concept index entries, want at least 3"
