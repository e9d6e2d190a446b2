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


def jupyter_newcommands(macros: dict[str, tuple[str, int]]) -> str:
    r"""One inline-math span of ``\newcommand``\ s: a Markdown cell that teaches Jupyter's MathJax the macros.

    >>> jupyter_newcommands({"R": (r"\mathbb{R}", 0), "inner": (r"\langle #1, #2 \rangle", 2)})
    '$\\newcommand{\\R}{\\mathbb{R}} \\newcommand{\\inner}[2]{\\langle #1, #2 \\rangle}$'
    """
    return "$" + " ".join(
        f"\\newcommand{{\\{name}}}{f'[{nargs}]' if nargs else ''}{{{body}}}"
        for name, (body, nargs) in macros.items()) + "$"
