"""The translation of the companion's Unicode docstring formulas into LaTeX (API appendix)."""

from __future__ import annotations

import html as html_lib
import re
import sys
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
import docstring_math  # noqa: E402
from docstring_math import UnknownSymbol, is_formula, to_latex, typeset_literals  # noqa: E402


@pytest.mark.parametrize(("formula", "latex"), [
    ("ẋ = A⁻¹ (ḃ − Ȧ x)", r"\dot{x} = A^{-1} (\dot{b} - \dot{A} x)"),
    ("b̄ = A⁻ᵀ x̄", r"\bar{b} = A^{-\T} \bar{x}"),
    ("Ā = −b̄ xᵀ", r"\bar{A} = -\bar{b} x^{\T}"),
    ("ȳ = Σ(ō ⊙ sin x)", r"\bar{y} = \sum (\bar{o} \odot \sin x)"),
    ("‖f(x + h v) − f(x) − h J v‖ = O(h²)", r"\lVert f(x + h v) - f(x) - h J v\rVert = O(h^{2})"),
    ("‖w‖‖J v‖", r"\lVert w\rVert \lVert J v\rVert"),
    ("(J v)_k = ⟨x̄(e_k), v⟩", r"(J v)_{k} = \langle \bar{x}(e_{k}), v\rangle"),
    ("ẏ ≈ (f(x + εv) − f(x − εv)) / 2ε", r"\dot{y} \approx (f(x + \varepsilon v) - f(x - \varepsilon v)) / 2\varepsilon"),
    ("out_dot = y ⊙ ẋ", r"\mathrm{out\_dot} = y \odot \dot{x}"),
    ("‖ẏ − ẏ_fd‖ ≤ rtol·‖ẏ_fd‖", r"\lVert \dot{y} - \dot{y}_{\mathrm{fd}}\rVert \le \mathrm{rtol}\cdot \lVert \dot{y}_{\mathrm{fd}}\rVert"),
    ("adj(A) b / det A", r"\operatorname{adj}(A) b / \det A"),
    ("θ̄ = Re(conj(i e^{iθ} z) ⊙ ō)", r"\bar{\theta} = \mathrm{Re}(\mathrm{conj}(i e^{i\theta} z) \odot \bar{o})"),
    ("r = √(Σⱼ xⱼ²)", r"r = \surd (\sum _{j} x_{j}^{2})"),
    ("(∂f/∂z̄)ᴴ w̄ ≥ ½ λ₁", r"(\partial f/\partial \bar{z})^{\mathsf{H}} \bar{w} \ge \tfrac{1}{2} \lambda _{1}"),
])
def test_known_formulas_translate(formula: str, latex: str) -> None:
    assert to_latex(formula) == latex


@pytest.mark.parametrize(("literal", "formula"), [
    ("A x", True), ("y = sin x", True), ("x̄", True), ("n × n", True), ("e_k", True),
    ("A z = rhs", True), ("Aᵀ z = rhs", True), ("y = J_n(x)", True), ("out_dot = y ⊙ ẋ", True),
    ("A", False), ("(n, k)", False), ("x, y, A, b", False), ("cos_x = cos x", False),
    ("python -m companion verify", False), ("jvp = J v", False), ("vjp = Jᵀ w", False),
    ("solve(A, b) = A⁻¹ b", False), ("A @ x", False), ("a * b", False), ("x_dot", False),
])
def test_formulas_are_told_from_code(literal: str, formula: bool) -> None:
    assert is_formula(literal) is formula


def test_only_formula_literals_become_math() -> None:
    text = "``A`` of shape ``(n, n)``; JVP ``ẋ = A⁻¹ ḃ`` and\n``y = sin x``."
    assert typeset_literals(text) == (
        r"``A`` of shape ``(n, n)``; JVP :math:`\dot{x} = A^{-1} \dot{b}` and" "\n"
        r":math:`y = \sin x`.")


def test_a_literal_over_two_lines_keeps_the_indent_of_the_second() -> None:
    assert typeset_literals("* VJP: ``‖w‖ ≤ atol +\n  rtol``") == "* VJP: :math:`\\lVert w\\rVert \\le \\mathrm{atol} +\n  \\mathrm{rtol}`"


def test_an_unknown_symbol_is_an_error_naming_it() -> None:
    with pytest.raises(UnknownSymbol, match=r"'∇'.*NABLA"):
        to_latex("∇ f ⊙ x")


def companion_formulas() -> list[str]:
    found = set()
    for path in sorted((ROOT / "companion").rglob("*.py")):
        found.update(m.group("body") for m in docstring_math.LITERAL.finditer(path.read_text())
                     if is_formula(m.group("body")))
    return sorted(found)


def test_every_companion_formula_becomes_balanced_ascii_latex() -> None:
    formulas = companion_formulas()
    assert len(formulas) > 30
    for formula in formulas:
        latex = to_latex(formula)
        assert latex.isascii(), (formula, latex)
        assert latex.count("{") == latex.count("}"), (formula, latex)
        assert latex.count(r"\lVert") == latex.count(r"\rVert"), (formula, latex)


@pytest.mark.book
def test_the_api_reference_typesets_the_formulas(built_book: Path) -> None:
    html = (built_book / "appendices" / "api.html").read_text()
    entry = html[html.index('id="companion.torch.solve"'):]
    entry = entry[:entry.index('<dl class="py')]
    assert r'<span class="math notranslate nohighlight">\(\dot{x} = A^{-1} (\dot{b} - \dot{A} x)\)</span>' in entry
    code = re.findall(r'<code class="docutils literal[^"]*"><span class="pre">(.*?)</code>', html, re.S)
    texts = [html_lib.unescape(re.sub(r"<[^>]+>", "", c)) for c in code]
    untypeset = [t for t in texts if is_formula(t)]
    assert not untypeset, f"formulas left as code in the API reference: {untypeset[:5]}"
