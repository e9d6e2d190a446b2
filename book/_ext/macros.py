"""The book's LaTeX macros, written once for MathJax (HTML) and the LaTeX preamble (PDF)."""

from __future__ import annotations

# name -> (body, number of arguments)
MACROS: dict[str, tuple[str, int]] = {
    "R": (r"\mathbb{R}", 0),
    "T": (r"\mathsf{T}", 0),
    "inner": (r"\langle #1,\, #2 \rangle", 2),
    "tr": (r"\operatorname{tr}", 0),
    "diag": (r"\operatorname{diag}", 0),
    "sym": (r"\operatorname{sym}", 0),
    "norm": (r"\lVert #1 \rVert", 1),
}


def mathjax_macros(macros: dict[str, tuple[str, int]]) -> dict[str, object]:
    """MathJax 3 ``tex.macros``: a body, or ``[body, nargs]``."""
    return {name: (body if nargs == 0 else [body, nargs]) for name, (body, nargs) in macros.items()}


def latex_newcommands(macros: dict[str, tuple[str, int]]) -> str:
    r"""``\providecommand`` lines for the LaTeX preamble (``\renewcommand`` where LaTeX has one)."""
    lines = []
    for name, (body, nargs) in macros.items():
        args = f"[{nargs}]" if nargs else ""
        lines.append(f"\\providecommand{{\\{name}}}{{}}\\renewcommand{{\\{name}}}{args}{{{body}}}")
    return "\n".join(lines) + "\n"


def jupyter_definitions(macros: dict[str, tuple[str, int]]) -> str:
    r"""One inline-math span of ``\def``\ s: a Markdown cell that teaches a notebook's math renderer the macros.

    ``\def`` rather than ``\newcommand``: KaTeX (used by some notebook front ends)
    refuses to ``\newcommand`` a name it already has, such as ``\R``; MathJax
    and KaTeX both accept ``\def``.

    >>> jupyter_definitions({"R": (r"\mathbb{R}", 0), "inner": (r"\langle #1, #2 \rangle", 2)})
    '$\\def\\R{\\mathbb{R}} \\def\\inner#1#2{\\langle #1, #2 \\rangle}$'
    """
    return "$" + " ".join(
        f"\\def\\{name}{''.join(f'#{i}' for i in range(1, nargs + 1))}{{{body}}}"
        for name, (body, nargs) in macros.items()) + "$"
