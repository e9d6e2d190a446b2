"""The Markdown cells of a downloaded notebook, readable in Jupyter.

A page is MyST Markdown; Jupyter renders plain (CommonMark + math) Markdown, so
the MyST constructs of a page would reach a student's notebook as raw text, and
the rule code shown with ``literalinclude`` would be missing altogether.
:func:`to_jupyter_markdown` rewrites one Markdown cell:

- ``literalinclude`` becomes a Python code block with the included source,
  read by Sphinx's own reader (so it is the listing the book shows);
- ``list-table`` becomes a pipe table under its numbered title;
  ``tab-set``/``tab-item`` and ``admonition`` become bold headings over their
  content, ``dropdown`` a collapsed ``<details>`` block; a definition list
  becomes a bulleted list;
- ``{eq}``, ``{numref}``, ``{ref}`` and ``{cite:p}``/``{cite:t}`` become the
  numbers, titles and author-year citations of the book; ``{py:...}`` becomes
  code; numbered display equations keep their number as ``\\tag``;
  ``{{ name }}`` substitutions are filled in;
- label targets ``(name)=``, LaTeX-only blocks and the book's generated
  blocks are dropped.

Fenced code is left exactly as it is, and so is anything else unknown. The
book's references are supplied by a :class:`Resolver`, so the rewriting itself
is a pure function of the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*)$")
CODE_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?!\{)")
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
ROLE = re.compile(r"\{(?P<role>eq|numref|ref|term|index|cite:p|cite:t|py:\w+)\}`(?P<target>[^`]+)`")
EQUATION_LABEL = re.compile(r"^(?P<indent>[ \t]*)\$\$[ \t]*\((?P<label>[\w-]+)\)[ \t]*$")
TARGET = re.compile(r"^\([\w-]+\)=[ \t]*$")
SUBSTITUTION = re.compile(r"\{\{\s*(?P<name>\w+)\s*\}\}")
MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
HEADED = {"admonition", "tab-item"}
# LaTeX-only blocks, and blocks the book generates (the API reference, the citation).
DROPPED = {"raw", "bibliography", "toctree", "book-citation", "index"}
GENERATED = {
    "companion-api": "*The reference itself is generated from the docstrings: read it in the book, "
                     "or call `help()` on any function of the companion, e.g. `help(companion.torch.solve)`.*",
}


@dataclass
class Resolver:
    """What the book knows: included sources, numbers, titles, citations, substitutions."""

    include: Callable[[str, dict[str, str]], str]
    equation: dict[str, str] = field(default_factory=dict)  # label -> "2.2"
    numbered: dict[str, str] = field(default_factory=dict)  # label -> "Fig. 3.1", "Table 4.1"
    section: dict[str, str] = field(default_factory=dict)  # label -> title
    citation: dict[str, tuple[str, str]] = field(default_factory=dict)  # key -> (authors, year)
    substitution: dict[str, str] = field(default_factory=dict)  # name -> text


def to_jupyter_markdown(text: str, resolver: Resolver) -> str:
    r"""Rewrite the MyST of one Markdown cell as Markdown that Jupyter renders.

    >>> r = Resolver(include=lambda path, options: "def f(): ...", equation={"eq-a": "2.1"},
    ...              citation={"gw08": ("Griewank and Walther", "2008")})
    >>> print(to_jupyter_markdown("(sec-x)=\nSee {eq}`eq-a` {cite:p}`gw08`.\n"
    ...                           "```{literalinclude} ../f.py\n:pyobject: f\n```", r))
    See (2.1) (Griewank and Walther, 2008).
    <BLANKLINE>
    ```python
    def f(): ...
    ```
    """
    segments: list[str] = []  # rewritten prose, code blocks and directives, in order
    prose: list[str] = []

    def flush() -> None:
        if prose:
            segments.append(_prose("\n".join(prose), resolver))
            prose.clear()

    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        opening, code = OPEN.match(line), CODE_FENCE.match(line)
        if opening or code:
            fence = (opening or code).group("fence")  # type: ignore[union-attr]
            end = _closing(lines, i + 1, fence.strip())
            flush()
            if code:
                segments.append("\n".join(lines[i:end + 1]))
            else:
                options, body_start = {}, i + 1
                while body_start < end and (option := OPTION.match(lines[body_start])):
                    options[option.group("key")] = option.group("value")
                    body_start += 1
                body = "\n".join(lines[body_start:end]).strip("\n")
                segments.append(_directive(opening.group("name"), opening.group("arg").strip(),  # type: ignore[union-attr]
                                           options, body, "\n".join(lines[i:end + 1]), resolver))
            i = end + 1
            continue
        label = EQUATION_LABEL.match(line)
        if label:
            number = resolver.equation.get(label.group("label"))
            indent = label.group("indent")
            prose.append(f"{indent}\\tag{{{number}}}\n{indent}$$" if number else f"{indent}$$")
        elif not TARGET.match(line):
            prose.append(line)
        i += 1
    flush()
    return "\n\n".join(text for text in segments if text).strip("\n")


def _prose(text: str, resolver: Resolver) -> str:
    """Roles, substitutions and definition lists of plain Markdown; blank lines folded."""
    text = ROLE.sub(lambda m: _role(m.group("role"), m.group("target"), resolver), text)
    text = SUBSTITUTION.sub(lambda m: resolver.substitution.get(m.group("name"), m.group()), text)
    text = re.sub(r"^(?P<term>\S.*)\n: (?P<definition>.*)$", r"- **\g<term>**: \g<definition>", text, flags=re.M)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def _closing(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes a block opened with ``fence``."""
    for j in range(start, len(lines)):
        if lines[j].strip() == fence:
            return j
    return len(lines)


def _directive(name: str, arg: str, options: dict[str, str], body: str, raw: str,
               resolver: Resolver) -> str:
    title = _prose(arg, resolver)
    if name == "literalinclude":
        code = resolver.include(arg, options).rstrip("\n")
        return f"```{options.get('language', 'python')}\n{code}\n```"
    if name == "list-table":
        number = resolver.numbered.get(options.get("name", ""))
        heading = f"{number}: {title}" if number and title else number or title
        table = _pipe_table(body, int(options.get("header-rows", "0")), resolver)
        return (f"**{heading}**\n\n" if heading else "") + table
    if name in DROPPED:
        return ""
    if name in GENERATED:
        return GENERATED[name]
    if name not in HEADED | {"tab-set", "dropdown"}:
        return raw
    inner = to_jupyter_markdown(body, resolver)
    if name == "dropdown":
        return f"<details>\n<summary>{title}</summary>\n\n{inner}\n\n</details>"
    if name in HEADED and title:
        return f"**{title}**\n\n{inner}"
    return inner


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
    cells = [[_cell(c, resolver) for c in row] + [""] * (width - len(row)) for row in rows]
    header = cells[0] if header_rows else [""] * width
    body_rows = cells[1:] if header_rows else cells
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * width]
    lines += ["| " + " | ".join(row) + " |" for row in body_rows]
    return "\n".join(lines)


def _cell(text: str, resolver: Resolver) -> str:
    """A table cell: ``|`` escaped outside math (Jupyter takes math out before tables)."""
    text, pieces, last = _prose(text, resolver), [], 0
    for m in MATH.finditer(text):
        pieces += [text[last:m.start()].replace("|", "\\|"), m.group()]
        last = m.end()
    return "".join(pieces) + text[last:].replace("|", "\\|")


def _role(role: str, target: str, resolver: Resolver) -> str:
    explicit = re.match(r"^(?P<text>.*?)\s*<(?P<label>[^>]+)>$", target, re.S)
    text, label = (explicit.group("text"), explicit.group("label")) if explicit else (None, target)
    if role == "eq":
        return f"({resolver.equation.get(label, label)})"
    if role == "numref":
        return resolver.numbered.get(label, text or label)
    if role == "ref":
        return text or resolver.section.get(label, label)
    if role in ("term", "index"):  # a glossary link or an index entry: the word itself
        return text or label
    if role.startswith("cite"):
        keys = [k.strip() for k in label.split(",")]
        found = [resolver.citation.get(k, (k, "")) for k in keys]
        if role == "cite:t":
            return "; ".join(f"{a} ({y})" if y else a for a, y in found)
        return "(" + "; ".join(f"{a}, {y}" if y else a for a, y in found) + ")"
    return f"`{label.lstrip('~')}`"  # py:func, py:mod, py:class, ...
