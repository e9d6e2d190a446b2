"""Two editions of the book from one source.

* The **instructor edition** (the default; ``make book``, ``make pdf``, ``make
  instructor``) shows every worked solution: closed dropdowns in HTML, framed boxes
  in the PDF.
* The **student edition** (``BOOK_EDITION=student``; ``make student``) leaves the
  solutions out of everything a reader receives: the HTML pages, the PDF, the
  search index, the downloadable notebooks and the page sources. The exercises stay,
  with their numbers.

A solution is a ``{dropdown}`` titled "Solution to Exercise N.M" (with the class
``solution``); the hidden cell that checks it at build starts with the comment
"# Check of the solution to Exercise N.M". Both forms are tested
(tests/test_exercises.py), so nothing else needs marking.

>>> is_solution_title("Solution to Exercise 7.2")
True
>>> is_solution_title("Exercise 7.2 · ★ · derive")
False
>>> is_check_cell("# Check of the solution to Exercise 7.2 (hidden from the page).\\nx = 1")
True
>>> is_check_cell("# Checks of the solutions to Exercises 11.2 and 11.3 (hidden).")
True
>>> strip_solutions(":::{admonition} Exercise 1.1 · ★ · derive\\nQ\\n:::\\n\\n"
...                 ":::{dropdown} Solution to Exercise 1.1\\nA\\n:::\\n\\n"
...                 "```{code-cell} python3\\n:tags: [remove-cell]\\n"
...                 "# Check of the solution to Exercise 1.1\\n```\\n\\nAfter.")
':::{admonition} Exercise 1.1 · ★ · derive\\nQ\\n:::\\n\\nAfter.'
>>> cells = "```{code-cell} python3\\nx = 1\\n```\\n\\nText.\\n\\n```{code-cell} python3\\n"
>>> strip_solutions(cells + ":tags: [remove-cell]\\n# Check of the solution to Exercise 1.1\\n```")
'```{code-cell} python3\\nx = 1\\n```\\n\\nText.\\n\\n'
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

EDITIONS = ("instructor", "student")
SOLUTION_TITLE = re.compile(r"^Solution to Exercise \d+\.\d+")
CHECK_CELL = re.compile(r"^# Checks? of the solutions? to Exercises? \d+\.\d+")
#: A solution dropdown, or a hidden check cell, in a page's MyST source (and the blank
#: lines after it). The fence of the block closes it: ``:::`` (3 or more) or backticks.
SOURCE_BLOCK = re.compile(
    r"^(?P<fence>:{3,}|`{3,})\{dropdown\}[ \t]+Solution to Exercise .*?^(?P=fence)[ \t]*(?:\n+|\Z)"
    r"|^(?P<ticks>`{3,})\{code-cell\}[^\n]*\n(?:(?!`{3})[^\n]*\n){0,8}?# Checks? of the solutions? to "
    r"Exercises? .*?^(?P=ticks)[ \t]*(?:\n+|\Z)", re.M | re.S)


def edition() -> str:
    """The edition to build, from the environment variable ``BOOK_EDITION``."""
    value = os.environ.get("BOOK_EDITION", "instructor").strip().lower() or "instructor"
    if value not in EDITIONS:
        raise ValueError(f"BOOK_EDITION must be one of {EDITIONS}, got {value!r}")
    return value


def is_solution_title(title: str) -> bool:
    return bool(SOLUTION_TITLE.match(title.strip()))


def is_check_cell(source: str) -> bool:
    return bool(CHECK_CELL.match(source.lstrip()))


def strip_solutions(source: str) -> str:
    """A page's MyST source without its solution dropdowns and their check cells."""
    return SOURCE_BLOCK.sub("", source)


def solutions_wanted(app: Sphinx) -> bool:
    return app.config.book_edition != "student"


def _title(container: nodes.Element) -> str:
    first = container.children[0] if container.children else None
    return first.astext() if isinstance(first, nodes.rubric) else ""


def leave_out_solutions(app: Sphinx, doctree: nodes.document) -> None:
    """Student edition: remove every solution dropdown from the page as it is read."""
    if solutions_wanted(app):
        return
    for container in list(doctree.findall(nodes.container)):
        if container.get("design_component") != "dropdown":
            continue
        if "solution" in container["classes"] or is_solution_title(_title(container)):
            container.parent.remove(container)


def leave_out_solution_sources(app: Sphinx, exception: Exception | None) -> None:
    """Student edition: the page sources offered for download lose their solutions too."""
    if exception is not None or solutions_wanted(app) or app.builder.format != "html":
        return
    for source in (Path(app.outdir) / "_sources").rglob("*.md*"):
        text = source.read_text(encoding="utf-8")
        stripped = strip_solutions(text)
        if stripped != text:
            source.write_text(stripped, encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("book_edition", "instructor", "env", types=[str])
    app.connect("doctree-read", leave_out_solutions)
    app.connect("build-finished", leave_out_solution_sources)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
