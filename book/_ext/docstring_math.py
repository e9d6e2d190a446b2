"""Formulas in the companion's docstrings, typeset as math in the API reference.

The companion writes formulas in its docstrings as inline literals in Unicode,
``ẋ = A⁻¹ (ḃ − Ȧ x)``, so that ``help()`` in a terminal shows them legibly. For
the book, this extension turns every inline literal that contains a mathematical
symbol into a ``:math:`` role with the equivalent LaTeX, so the API reference
renders them with MathJax in HTML and as mathematics in the PDF:

>>> to_latex("ẋ = A⁻¹ (ḃ − Ȧ x)")
'\\\\dot{x} = A^{-1} (\\\\dot{b} - \\\\dot{A} x)'

Literals without such a symbol (argument names such as ``A``, shapes such as
``(n, n)``, code such as ``solve(A, b)``) stay code. A symbol the translation
does not know raises :class:`UnknownSymbol` naming it, so a new symbol in a
docstring fails the build instead of reaching the page half-translated.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

DOT, BAR = "\u0307", "\u0304"  # combining dot above, combining macron (after NFD)

# A literal is a formula when it contains one of these.
GREEK = {"θ": r"\theta", "λ": r"\lambda", "σ": r"\sigma", "φ": r"\varphi", "μ": r"\mu",
         "π": r"\pi", "δ": r"\delta", "Δ": r"\Delta", "Φ": r"\Phi", "Λ": r"\Lambda",
         "α": r"\alpha", "β": r"\beta", "γ": r"\gamma", "ω": r"\omega", "Ω": r"\Omega",
         "ψ": r"\psi", "Ψ": r"\Psi", "τ": r"\tau", "ρ": r"\rho", "η": r"\eta",
         "ν": r"\nu", "κ": r"\kappa", "ξ": r"\xi", "ζ": r"\zeta", "χ": r"\chi"}
MARKERS = set("⊙−⁻ᵀᴴΣ‖⟨⟩↦≤≥≠≈×→←∂²³⁴ⁿᵏ⁺·ε∞½±∘⊗√∈ⱼᵢₖₙₘₜ₀₁₂₃₄₅₆₇₈₉₊₋") | set(GREEK) | {DOT, BAR, "\u0338"}

SYMBOLS = {
    "⊙": r"\odot ", "−": "-", "Σ": r"\sum ", "⟨": r"\langle ", "⟩": r"\rangle ",
    "↦": r"\mapsto ", "←": r"\leftarrow ", "≤": r"\le ", "≈": r"\approx ", "×": r"\times ", "→": r"\to ",
    "∂": r"\partial ", "·": r"\cdot ", "ε": r"\varepsilon ", "…": r"\dots ",
    "≥": r"\ge ", "≠": r"\ne ", "∞": r"\infty ", "½": r"\tfrac{1}{2}", "±": r"\pm ",
    "∘": r"\circ ", "⊗": r"\otimes ", "√": r"\surd ", "∈": r"\in ",
    **{g: latex + " " for g, latex in GREEK.items()},
}
# \T: the book's transpose macro.
SUPERSCRIPTS = {"⁻": "-", "⁺": "+", "ᵀ": r"\T ", "ᴴ": r"\mathsf{H}", "¹": "1", "²": "2", "³": "3", "⁴": "4",
                "ˣ": "x", "ⁿ": "n", "ᵏ": "k"}
SUBSCRIPTS = {"ⱼ": "j", "ᵢ": "i", "ₖ": "k", "ₙ": "n", "ₘ": "m", "ₜ": "t", "₊": "+", "₋": "-",
              **{chr(0x2080 + d): str(d) for d in range(10)}}
# Longer names that docstrings use as variables inside formulas.
VARIABLES = {"rhs", "atol", "rtol", "out_dot", "out_bar"}
# ``name = ...`` or ``name(args) = ...`` with a longer name: code (a variable, a call, a dict key).
ASSIGNMENT = re.compile(r"^[A-Za-z_]\w+(\([^)]*\))?\s*=\s")
FUNCTIONS = {"sin": r"\sin ", "cos": r"\cos ", "exp": r"\exp ", "log": r"\log ",
             "det": r"\det ", "adj": r"\operatorname{adj}", "vec": r"\operatorname{vec}"}

TOKEN = re.compile(
    rf"(?P<accent>[A-Za-z{''.join(GREEK)}][{DOT}{BAR}])"
    r"|(?P<sub>_[A-Za-z0-9]+)"
    r"|(?P<word>[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*)"
    rf"|(?P<sup>[{''.join(SUPERSCRIPTS)}]+)"
    rf"|(?P<subs>[{''.join(SUBSCRIPTS)}]+)"
    r"|(?P<norm>‖)"
    r"|(?P<other>.)",
    re.DOTALL,
)
LITERAL = re.compile(r"``(?P<body>[^`]+?)``")
_SUBSCRIPTED = re.compile(r"[A-Za-z]_[A-Za-z0-9]+")  # J_n: a letter with a subscript


class UnknownSymbol(ValueError):
    """A character in a docstring formula that :func:`to_latex` cannot translate."""


def _name(text: str) -> str:
    """One letter stays a variable; a longer name is upright text."""
    return text if len(text) == 1 else r"\mathrm{" + text.replace("_", r"\_") + "}"


def to_latex(formula: str) -> str:
    r"""LaTeX for a Unicode formula: accents, superscripts, operators, names.

    >>> to_latex("x̄ = Σ(ō ⊙ y ⊙ cos x)")
    '\\bar{x} = \\sum (\\bar{o} \\odot y \\odot \\cos x)'
    >>> to_latex("‖ẏ − ẏ_fd‖ ≤ atol")
    '\\lVert \\dot{y} - \\dot{y}_{\\mathrm{fd}}\\rVert \\le \\mathrm{atol}'
    >>> to_latex("b̄ = A⁻ᵀ x̄")
    '\\bar{b} = A^{-\\T} \\bar{x}'
    """
    out, norms_open = [], False
    for m in TOKEN.finditer(unicodedata.normalize("NFD", formula).replace("=\u0338", "≠")):
        kind, text = m.lastgroup, m.group()
        if kind == "accent":
            out.append((r"\dot{" if text[1] == DOT else r"\bar{") + GREEK.get(text[0], text[0]) + "}")
        elif kind == "sub":
            out.append("_{" + _name(text[1:]) + "}")
        elif kind == "word":
            if text in FUNCTIONS:
                out.append(FUNCTIONS[text])
            elif "_" in text and len(text.split("_")[0]) == 1:
                base, sub = text.split("_", 1)
                out.append(base + "_{" + _name(sub) + "}")
            else:
                out.append(_name(text))
        elif kind == "sup":
            out.append("^{" + "".join(SUPERSCRIPTS[c] for c in text) + "}")
        elif kind == "subs":
            out.append("_{" + "".join(SUBSCRIPTS[c] for c in text) + "}")
        elif kind == "norm":
            out.append(r"\rVert " if norms_open else r"\lVert ")
            norms_open = not norms_open
        elif text in SYMBOLS:
            out.append(SYMBOLS[text])
        elif text.isascii():
            out.append(text)
        else:
            raise UnknownSymbol(
                f"docstring formula {formula!r}: no LaTeX for {text!r} "
                f"(U+{ord(text):04X} {unicodedata.name(text, '?')}); add it to {__name__}"
            )
    return re.sub(r"(?<=\S) {2,}", " ", "".join(out)).replace(" }", "}").strip()


def is_formula(literal: str) -> bool:
    """Whether an inline literal is a formula rather than code.

    It is when it contains a mathematical symbol, or when it is a product of
    one-letter variables and functions such as ``A x``, ``y = sin x`` or
    ``adj(A) b / det A`` (spaces, no commas or Python operators), or a
    subscripted letter such as ``e_k``; but never when a longer name is
    assigned or called on the left of ``=`` (``jvp = J v``, ``f(x) = y``).

    >>> [is_formula(s) for s in ["A x", "sin x", "x̄", "e_k", "(n, k)", "A", "A @ x", "vjp = Jᵀ w"]]
    [True, True, True, True, False, False, False, False]
    """
    if ASSIGNMENT.match(literal) and literal.split("=")[0].strip() not in VARIABLES:
        return False
    if any(c in MARKERS for c in unicodedata.normalize("NFD", literal)):
        return True
    if re.fullmatch(r"[A-Za-z]_[A-Za-z0-9]", literal):
        return True
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", literal)
    return (" " in literal and not re.search(r"[,@*.\[\]'\"]", literal) and bool(words)
            and all(len(w) == 1 or w in FUNCTIONS or w in VARIABLES or _SUBSCRIPTED.fullmatch(w)
                    for w in words))


def typeset_literals(text: str) -> str:
    """Replace each formula literal ````…```` in reST ``text`` with ``:math:`…```."""
    def replace(m: re.Match[str]) -> str:
        body = m.group("body")
        return f":math:`{to_latex(body)}`" if is_formula(body) else m.group()
    return LITERAL.sub(replace, text)


def _process_docstring(app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]) -> None:
    lines[:] = typeset_literals("\n".join(lines)).split("\n")


def setup(app: Any) -> dict[str, Any]:
    app.connect("autodoc-process-docstring", _process_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
