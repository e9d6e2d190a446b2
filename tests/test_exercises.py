"""Exercise numbers are typed by hand ("Exercise 7.3"): they must be the chapter's real
number and run 1, 2, 3... within the chapter, every exercise has one worked solution
titled after it, and every "Exercise N.M" the text mentions exists.

How exercises are written (book/*.md)::

    :::{admonition} Exercise 7.1 · ★★ · derive
    ...
    :::

    :::{dropdown} Solution to Exercise 7.1
    ...
    :::

The source checks are fast; the chapter numbers come from the built book (as readers
see them in HTML, and the PDF's are checked equal to them in test_site.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import BOOK, source_pages

#: A directive's opening fence and its argument (the title of admonitions and dropdowns).
DIRECTIVE = re.compile(r"^[ \t]*(?::{3,}|`{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<title>.*?)[ \t]*$", re.M)
#: "Exercise 7.1 · ★★ · derive" (stars and kind: tests/test_course_style.py), "Solution to Exercise 7.1".
TITLE = re.compile(r"(?P<solution>Solution to )?Exercise (?P<chapter>\d+)\.(?P<number>\d+)"
                   r"(?(solution)| · ★{1,3} · (?:derive|implement|debug))")
#: "Exercise 5.2" in prose or code comments; with "{ref}`ch-adjoints`, " before it, the
#: chapter it names.
MENTION = re.compile(r"(?:\{ref\}`(?:[^`<]*<)?(?P<label>[\w:.-]+?)>?`,?\s+)?"
                     r"\bExercises?\s+(?P<chapter>\d+)\.(?P<number>\d+)")
LABEL = re.compile(r"^[ \t]*\((?P<label>[\w:.-]+)\)=[ \t]*$", re.M)


@dataclass(frozen=True)
class Title:
    page: str  # docname
    line: int
    text: str
    solution: bool
    chapter: int
    number: int


def docname(page: Path) -> str:
    """``foundations/reverse-rules`` for book/foundations/reverse-rules.md (a file
    outside the book, such as a test's sample page: its name)."""
    return str(page.relative_to(BOOK).with_suffix("")) if page.is_relative_to(BOOK) else page.stem


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def exercise_titles(page: Path) -> tuple[list[Title], list[str]]:
    """The exercise and solution titles of a page, and titles that mention an exercise
    but do not read "Exercise N.M" or "Solution to Exercise N.M"."""
    text = page.read_text()
    titles, problems = [], []
    for match in DIRECTIVE.finditer(text):
        title = match.group("title")
        if not re.search(r"(?i)x\w*cise|^solution", title):  # also typos: "Excercise"
            continue
        line = line_of(text, match.start())
        parsed = TITLE.fullmatch(title)
        if not parsed:
            problems.append(f"{docname(page)}.md:{line}: {{{match.group('name')}}} {title!r} is not "
                            "titled 'Exercise N.M · ★… · kind' or 'Solution to Exercise N.M'")
            continue
        titles.append(Title(docname(page), line, title, bool(parsed.group("solution")),
                            int(parsed.group("chapter")), int(parsed.group("number"))))
    return titles, problems


def numbering_problems(page: Path, chapter: str | None = None) -> list[str]:
    """Exercises numbered 1, 2, 3... (each followed by its one solution); with the
    page's chapter number, the "N." of every title."""
    titles, problems = exercise_titles(page)
    exercises = [t for t in titles if not t.solution]
    where = f"{docname(page)}.md"
    for k, t in enumerate(exercises, start=1):
        if t.number != k:
            problems.append(f"{where}:{t.line}: {t.text!r} is exercise {k} of the page")
    numbers = [(t.chapter, t.number) for t in exercises]
    for t in titles:
        if chapter is not None and str(t.chapter) != chapter:
            problems.append(f"{where}:{t.line}: {t.text!r} is in chapter {chapter}")
        if exercises and t.chapter != exercises[0].chapter:
            problems.append(f"{where}:{t.line}: {t.text!r}: the page's exercises are "
                            f"{exercises[0].chapter}.x")
    solved = [(t.chapter, t.number) for t in titles if t.solution]
    for key in sorted(set(numbers) - set(solved)):
        problems.append(f"{where}: Exercise {key[0]}.{key[1]} has no 'Solution to Exercise "
                        f"{key[0]}.{key[1]}'")
    for key in sorted(set(solved) - set(numbers)):
        problems.append(f"{where}: 'Solution to Exercise {key[0]}.{key[1]}' solves no exercise "
                        "of the page")
    for key in sorted({k for k in solved if solved.count(k) > 1}):
        problems.append(f"{where}: Exercise {key[0]}.{key[1]} has {solved.count(key)} solutions")
    if chapter is None and not exercises and re.search(r"^## Exercises\s*$", page.read_text(), re.M):
        problems.append(f"{where}: a section 'Exercises' without any 'Exercise N.M'")
    return problems


PAGES = source_pages()


@pytest.mark.parametrize("page", PAGES, ids=docname)
def test_exercises_are_numbered_1_2_3_with_one_solution_each(page: Path) -> None:
    problems = numbering_problems(page)
    assert not problems, "\n".join(problems)


def all_exercises() -> dict[tuple[int, int], str]:
    """Every exercise of the book, (chapter, number) -> docname."""
    return {(t.chapter, t.number): t.page for page in PAGES
            for t in exercise_titles(page)[0] if not t.solution}


def mention_problems(page: Path, exercises: dict[tuple[int, int], str],
                     chapters: dict[str, str] | None = None,
                     labels: dict[str, str] | None = None) -> list[str]:
    """Mentions of "Exercise N.M" (outside exercise titles) that name no exercise, or
    whose ``{ref}`` names a chapter with another number."""
    text = page.read_text()
    titles = {t.line for t in exercise_titles(page)[0]}
    problems = []
    for match in MENTION.finditer(text):
        line = line_of(text, match.start("chapter"))
        if line in titles:
            continue
        key = (int(match.group("chapter")), int(match.group("number")))
        where = f"{docname(page)}.md:{line}"
        if key not in exercises:
            problems.append(f"{where}: mentions Exercise {key[0]}.{key[1]}, which does not exist")
        label = match.group("label")
        if label and chapters is not None and labels is not None:
            target = labels.get(label)
            if target is None:
                problems.append(f"{where}: {{ref}}`{label}` names no label of the book")
            elif chapters.get(target) != str(key[0]):
                problems.append(f"{where}: {{ref}}`{label}` is chapter {chapters.get(target)}, "
                                f"but the text says Exercise {key[0]}.{key[1]}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=docname)
def test_every_exercise_the_text_mentions_exists(page: Path) -> None:
    problems = mention_problems(page, all_exercises())
    assert not problems, "\n".join(problems)


def book_labels() -> dict[str, str]:
    """Every ``(label)=`` target of the sources -> its page's docname."""
    return {m.group("label"): docname(page) for page in PAGES
            for m in LABEL.finditer(page.read_text())}


def chapter_numbers(built_book: Path) -> dict[str, str]:
    """Chapter numbers by docname, from the built pages' <h1> ("7" for "7. Reverse rules")."""
    chapters = {}
    for page in built_book.rglob("*.html"):
        if {"_static", "_sources"} & set(page.relative_to(built_book).parts):
            continue
        found = re.search(r'<h1><span class="section-number">(\d+)\. </span>', page.read_text())
        if found:
            chapters[str(page.relative_to(built_book).with_suffix(""))] = found.group(1)
    return chapters


@pytest.mark.book
def test_exercise_numbers_are_the_chapter_numbers_of_the_built_book(built_book: Path) -> None:
    chapters = chapter_numbers(built_book)
    assert len(chapters) >= 10, f"chapter numbers not found in the built pages: {chapters}"
    exercises, labels = all_exercises(), book_labels()
    problems, checked = [], 0
    for page in PAGES:
        titles = exercise_titles(page)[0]
        chapter = chapters.get(docname(page))
        if titles and chapter is None:
            problems.append(f"{docname(page)}.md has exercises but no chapter number")
        problems += numbering_problems(page, chapter)
        problems += mention_problems(page, exercises, chapters, labels)
        checked += len(titles)
    assert checked, "no exercise found"
    assert not problems, "\n".join(problems)


def test_the_exercise_checks_catch_mistakes(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "(ch-x)=\n# X\n\nAs in {ref}`ch-x`, Exercise 3.2, and Exercise 9.9.\n\n## Exercises\n\n"
        ":::{admonition} Exercise 3.1 · ★ · derive\nA.\n:::\n\n"
        ":::{dropdown} Solution to Exercise 3.1\nA.\n:::\n\n"
        ":::{admonition} Exercise 3.3 · ★★ · implement\nB.\n:::\n\n"
        ":::{dropdown} Solution to Exercise 3.2\nB.\n:::\n\n"
        "::::{admonition} Excercise 3.4 · ★ · derive\nC.\n::::\n\n"
        ":::{admonition} Exercise 4.4 · ★★★ · debug\nD.\n:::\n")

    def check(chapter: str | None) -> list[str]:
        return [p.split(": ", 1)[1] for p in numbering_problems(page, chapter)]

    fast, with_chapter = check(None), check("2")
    exercises = {(t.chapter, t.number): "page" for t in exercise_titles(page)[0] if not t.solution}
    mentions = mention_problems(page, exercises, {"page": "2"}, {"ch-x": "page"})
    assert fast == [
        "{admonition} 'Excercise 3.4 · ★ · derive' is not titled 'Exercise N.M · ★… · kind' or 'Solution to Exercise N.M'",
        "'Exercise 3.3 · ★★ · implement' is exercise 2 of the page",
        "'Exercise 4.4 · ★★★ · debug' is exercise 3 of the page",
        "'Exercise 4.4 · ★★★ · debug': the page's exercises are 3.x",
        "Exercise 3.3 has no 'Solution to Exercise 3.3'",
        "Exercise 4.4 has no 'Solution to Exercise 4.4'",
        "'Solution to Exercise 3.2' solves no exercise of the page",
    ], fast
    assert "'Exercise 3.1 · ★ · derive' is in chapter 2" in with_chapter
    assert [m.split(": ", 1)[1] for m in mentions] == [
        "mentions Exercise 3.2, which does not exist",
        "{ref}`ch-x` is chapter 2, but the text says Exercise 3.2",
        "mentions Exercise 9.9, which does not exist",
    ], mentions
