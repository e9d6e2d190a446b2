"""Downloaded notebooks read well in Jupyter: their MyST is rewritten as plain Markdown."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "book" / "_ext"))
from macros import MACROS  # noqa: E402
from notebook_markdown import Resolver, to_jupyter_markdown  # noqa: E402

RESOLVER = Resolver(
    include=lambda path, options: f"# {path} :: {options.get('pyobject')}",
    equation={"eq-vjp": "7.3"},
    numbered={"fig-plot": "Fig. 3.1", "tab-x": "Table 4.1"},
    section={"ch-testing": "Testing custom rules"},
    citation={"gw08": ("Griewank and Walther", "2008"), "b18": ("Baydin et al.", "2018")},
    substitution={"version": "0.1.0"},
)
#: MyST that must not reach a notebook: roles, directive fences, label targets.
LEFTOVER_MYST = re.compile(r"\{[\w:-]+\}`|^:{3,}|^`{3,}\{|^\([\w-]+\)=", re.M)


def convert(text: str) -> str:
    return to_jupyter_markdown(text, RESOLVER)


def test_literalinclude_becomes_the_included_code() -> None:
    text = "Before.\n\n```{literalinclude} ../../companion/torch.py\n:language: python\n:pyobject: Solve\n```\n\nAfter."
    assert convert(text) == "Before.\n\n```python\n# ../../companion/torch.py :: Solve\n```\n\nAfter."


def test_roles_become_numbers_titles_and_citations() -> None:
    text = ("By {eq}`eq-vjp` and {numref}`fig-plot`, see {ref}`ch-testing` or {ref}`that page <ch-testing>`; "
            "{cite:t}`gw08` and {cite:p}`gw08,b18`; {py:func}`~companion.torch.solve`.")
    assert convert(text) == (
        "By (7.3) and Fig. 3.1, see Testing custom rules or that page; "
        "Griewank and Walther (2008) and (Griewank and Walther, 2008; Baydin et al., 2018); "
        "`companion.torch.solve`.")


def test_a_numbered_equation_keeps_its_number_and_targets_go() -> None:
    text = "(sec-a)=\n## A\n\n$$\n\\bar x = A^\\T \\bar y\n$$ (eq-vjp)\n\n$$\nz\n$$"
    assert convert(text) == "## A\n\n$$\n\\bar x = A^\\T \\bar y\n\\tag{7.3}\n$$\n\n$$\nz\n$$"


def test_tabs_admonitions_and_dropdowns_become_headed_text() -> None:
    text = ("::::{tab-set}\n:sync-group: framework\n\n:::{tab-item} PyTorch\n:sync: torch\n\nT\n:::\n\n"
            ":::{tab-item} JAX\n:sync: jax\n\nJ\n:::\n::::\n\n"
            ":::{admonition} Exercise 7.1\n:class: tip\nDo it.\n:::\n\n:::{dropdown} Solution to Exercise 7.1\nDone.\n:::")
    assert convert(text) == ("**PyTorch**\n\nT\n\n**JAX**\n\nJ\n\n**Exercise 7.1**\n\nDo it.\n\n"
                             "<details>\n<summary>Solution to Exercise 7.1</summary>\n\nDone.\n\n</details>")


def test_a_list_table_becomes_a_pipe_table() -> None:
    text = ("```{list-table} The contract\n:header-rows: 1\n:name: tab-x\n\n"
            "* - piece\n  - meaning\n* - primals\n  - the inputs, see {eq}`eq-vjp`\n```")
    assert convert(text) == ("**Table 4.1: The contract**\n\n| piece | meaning |\n|---|---|\n"
                             "| primals | the inputs, see (7.3) |")


def test_a_bar_in_a_table_cell_is_escaped_outside_math_only() -> None:
    text = "```{list-table}\n:header-rows: 1\n\n* - a\n* - $|x|$ or a|b\n```"
    assert convert(text) == "| a |\n|---|\n| $|x|$ or a\\|b |"


def test_fenced_code_is_left_exactly_as_it_is() -> None:
    code = "```python\n(x)=\n\n\n\nprint({eq}`eq-vjp`)\n```"
    assert convert("Text.\n\n" + code) == "Text.\n\n" + code


def test_roles_over_two_lines_indented_labels_substitutions_and_definition_lists() -> None:
    text = ("See {ref}`the\ntesting chapter <ch-testing>`, version {{ version }}.\n\n"
            "1. An item:\n\n   $$\n   y\n   $$ (eq-vjp)\n\n"
            "`forward(*args)`\n: computes the outputs,\n  in one pass.")
    assert convert(text) == ("See the\ntesting chapter, version 0.1.0.\n\n"
                             "1. An item:\n\n   $$\n   y\n   \\tag{7.3}\n   $$\n\n"
                             "- **`forward(*args)`**: computes the outputs,\n  in one pass.")


def test_latex_only_blocks_are_dropped_and_unknown_directives_kept() -> None:
    assert convert("```{raw} latex\n\\clearpage\n```\nText.") == "Text."
    unknown = "```{mermaid}\ngraph LR\n```"
    assert convert(unknown) == unknown


# -- The built book's notebooks ---------------------------------------------------

def downloaded_notebooks(built_book: Path) -> list[Path]:
    return sorted((built_book / "_sources").rglob("*.ipynb"))


@pytest.mark.book
def test_downloaded_notebooks_carry_no_myst_and_define_the_macros(built_book: Path) -> None:
    notebooks = downloaded_notebooks(built_book)
    assert len(notebooks) >= 10
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        # The first cell installs the companion (tests/test_publishing.py); the second
        # defines the macros.
        assert nb.cells[0].cell_type == "code" and "import companion" in nb.cells[0].source
        first = nb.cells[1]
        assert first.cell_type == "markdown"
        for name in MACROS:
            assert f"\\def\\{name}" in first.source, (path.name, name)
        markdown = "\n\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        leftover = LEFTOVER_MYST.findall(markdown)
        assert not leftover, f"{path.relative_to(built_book)}: MyST left in Markdown cells: {leftover[:5]}"


@pytest.mark.book
def test_the_notebook_shows_the_rule_code_the_book_includes(built_book: Path) -> None:
    nb = nbformat.read(built_book / "_sources" / "frameworks" / "autograd-function.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    source = (ROOT / "companion" / "ops" / "linalg" / "torch.py").read_text()
    start = source.index("class Solve(")
    solve_class = source[start:source.index("\n\n\n", start)]
    assert "```python\n" + solve_class.rstrip() in markdown


@pytest.mark.book
def test_figures_get_their_numbered_caption_and_tables_their_number(built_book: Path) -> None:
    nb = nbformat.read(built_book / "_sources" / "foundations" / "jvp-vjp.ipynb", as_version=4)
    captions = [c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("**Fig. 3.1:**")]
    assert len(captions) == 1 and "jacfwd" in captions[0]
    nb = nbformat.read(built_book / "_sources" / "foundations" / "composition.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "**Table 5.1: The contract of a JVP rule (forward mode)**" in markdown
    assert "(tab-composition" not in markdown


@pytest.mark.book
def test_notebook_equation_numbers_are_the_books(built_book: Path) -> None:
    nb = nbformat.read(built_book / "_sources" / "foundations" / "first-rule.ipynb", as_version=4)
    tags = re.findall(r"\\tag\{([\d.]+)\}", "\n".join(c.source for c in nb.cells))
    html = (built_book / "foundations" / "first-rule.html").read_text()
    in_html = re.findall(r'<span class="eqno">\(([\d.]+)\)', html)
    assert tags and tags == in_html


def test_glossary_links_and_index_entries_become_their_words() -> None:
    text = ("A {term}`tangent`, two {term}`cotangents <cotangent>`, the {index}`residual`s and "
            "{index}`jaxprs <single: jaxpr; definition>`.\n\n```{index} single: tape\n```\n\nEnd.")
    assert convert(text) == "A tangent, two cotangents, the residuals and jaxprs.\n\nEnd."
