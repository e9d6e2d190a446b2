"""The Markdown cells of a downloaded notebook, readable in Jupyter.

A page is MyST Markdown; Jupyter renders plain (CommonMark + math) Markdown, so
the MyST constructs of a page would reach a student's notebook as raw text, and
the rule code shown with ``literalinclude`` would be missing altogether.
:func:`to_jupyter_markdown` rewrites one Markdown cell:

- ``literalinclude`` becomes a Python code block with the included source,
  read by Sphinx's own reader (so it is the listing the book shows);
- ``list-table`` becomes a pipe table; ``tab-set``/``tab-item``, ``admonition``
  and ``dropdown`` become bold headings over their content;
- ``{eq}``, ``{numref}``, ``{ref}`` and ``{cite:p}``/``{cite:t}`` become the
  numbers, titles and author-year citations of the book; ``{py:...}`` becomes
  code; numbered display equations keep their number as ``\\tag``;
- label targets ``(name)=``, LaTeX-only blocks and the book's generated
  blocks (the API reference, the citation) are dropped.

Anything else is left as it is. The book's references are supplied by a
:class:`Resolver`, so the rewriting itself is a pure function of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*)$")
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
ROLE = re.compile(r"\{(?P<role>eq|numref|ref|cite:p|cite:t|py:\w+)\}`(?P<target>[^`]+)`")
EQUATION_LABEL = re.compile(r"^\$\$[ \t]*\((?P<label>[\w-]+)\)[ \t]*$")
TARGET = re.compile(r"^\([\w-]+\)=[ \t]*$")
HEADED = {"admonition", "dropdown", "tab-item"}
# LaTeX-only blocks, and content the book generates (read it in the book, or help()).
DROPPED = {"raw", "bibliography", "toctree", "companion-api", "book-citation"}


@dataclass
class Resolver:
    """What the book knows: included sources, numbers, titles and citations."""

    include: Callable[[str, dict[str, str]], str]
    equation: dict[str, str] = field(default_factory=dict)  # label -> "2.2"
    figure: dict[str, str] = field(default_factory=dict)  # label -> "3.1"
    section: dict[str, str] = field(default_factory=dict)  # label -> title
    citation: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (authors, year)


def to_jupyter_markdown(text: str, resolver: Resolver) -> str:
    r"""Rewrite the MyST of one Markdown cell as Markdown that Jupyter renders.

    >>> r = Resolver(include=lambda path, options: "def f(): ...", equation={"eq-a": "2.1"},
    ...              citation={"gw08": ("Griewank and Walther", "2008")})
    >>> print(to_jupyter_markdown("(sec-x)=\nSee {eq}`eq-a` {cite:p}`gw08`.\n"
    ...                           "```{literalinclude} ../f.py\n:pyobject: f\n```", r))
    See (2.1) (Griewank and Walther, 2008).
    ```python
    def f(): ...
    ```
    """
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = OPEN.match(line)
        if opening:
            end = _closing(lines, i + 1, opening.group("fence"))
            options, body_start = {}, i + 1
            while body_start < end and (option := OPTION.match(lines[body_start])):
                options[option.group("key")] = option.group("value")
                body_start += 1
            body = "\n".join(lines[body_start:end]).strip("\n")
            raw = "\n".join(lines[i:end + 1])
            out.append(_directive(opening.group("name"), opening.group("arg").strip(), options, body, raw, resolver))
            i = end + 1
            continue
        label = EQUATION_LABEL.match(line)
        if label:
            number = resolver.equation.get(label.group("label"))
            out.append(f"\\tag{{{number}}}\n$$" if number else "$$")
        elif not TARGET.match(line):
            out.append(_roles(line, resolver))
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes a directive opened with ``fence``."""
    for j in range(start, len(lines)):
        if lines[j].strip() == fence:
            return j
    return len(lines)


def _directive(name: str, arg: str, options: dict[str, str], body: str, raw: str,
               resolver: Resolver) -> str:
    if name == "literalinclude":
        code = resolver.include(arg, options).rstrip("\n")
        return f"```{options.get('language', 'python')}\n{code}\n```"
    if name == "list-table":
        table = _pipe_table(body, int(options.get("header-rows", "0")), resolver)
        return (f"**{_roles(arg, resolver)}**\n\n" if arg else "") + table
    if name in DROPPED:
        return ""
    inner = to_jupyter_markdown(body, resolver)
    if name == "tab-set":
        return inner
    if name in HEADED:
        return f"**{_roles(arg, resolver)}**\n\n{inner}" if arg else inner
    return raw


def _pipe_table(body: str, header_rows: int, resolver: Resolver) -> str:
    """A ``list-table`` body (``* - a`` / ``  - b`` lines) as a pipe table."""
    rows: list[list[str]] = []
    for line in body.split("\n"):
        if line.startswith("* - "):
            rows.append([line[4:].strip()])
        elif line.startswith("  - ") and rows:
            rows[-1].append(line[4:].strip())
        elif line.strip() and rows:  # continuation of the last cell
            rows[-1][-1] += " " + line.strip()
    if not rows:
        return body
    width = max(map(len, rows))
    cells = [[_roles(c, resolver).replace("|", "\\|") for c in row] + [""] * (width - len(row)) for row in rows]
    header = cells[0] if header_rows else [""] * width
    body_rows = cells[1:] if header_rows else cells
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(row) + " |" for row in body_rows]
    return "\n".join(lines)


def _roles(line: str, resolver: Resolver) -> str:
    def replace(m: re.Match[str]) -> str:
        role, target = m.group("role"), m.group("target")
        explicit = re.match(r"^(?P<text>.*?)\s*<(?P<label>[^>]+)>$", target)
        text, label = (explicit.group("text"), explicit.group("label")) if explicit else (None, target)
        if role == "eq":
            return f"({resolver.equation.get(label, label)})"
        if role == "numref":
            return f"Fig. {resolver.figure[label]}" if label in resolver.figure else (text or label)
        if role == "ref":
            return text or resolver.section.get(label, label)
        if role.startswith("cite"):
            keys = [k.strip() for k in label.split(",")]
            found = [resolver.citation.get(k, (k, "")) for k in keys]
            if role == "cite:t":
                return "; ".join(f"{a} ({y})" if y else a for a, y in found)
            return "(" + "; ".join(f"{a}, {y}" if y else a for a, y in found) + ")"
        return f"`{label.lstrip('~')}`"  # py:func, py:mod, py:class, ...
    return ROLE.sub(replace, line)
