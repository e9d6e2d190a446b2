"""Sphinx configuration of the book *Custom Derivative Rules* (source directory: book/)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import companion  # noqa: E402  (version only; imports neither torch nor jax)
from macros import MACROS, latex_newcommands, mathjax_macros  # noqa: E402

# -- Project -----------------------------------------------------------------
project = "Custom Derivative Rules"
subtitle = "JVPs and VJPs in PyTorch and JAX"
author = "The Custom Derivative Rules authors"
copyright = f"2026, {author}"
version = release = companion.__version__

extensions = [
    "myst_nb",  # brings myst_parser with it: do not list both
    "sphinx_book_theme",  # as an extension too, or {margin} breaks LaTeX
    "sphinx_design",
    "sphinx_copybutton",
    "sphinxcontrib.bibtex",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "continuous_numbering",
]

root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "_ext"]
templates_path = ["book/_templates"]
nitpicky = True

# -- MyST and notebooks ------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
myst_dmath_double_inline = True

nb_execution_mode = os.environ.get("BOOK_EXECUTION_MODE", "cache")
nb_execution_cache_path = os.environ.get(
    "BOOK_JUPYTER_CACHE", str(ROOT / "_build" / ".jupyter_cache")
)
# BOOK_EXECUTE_ONLY="foundations/first-rule,frameworks/*": execute only these pages
# (a quicker loop while writing; `make book` and the tests execute every page).
if os.environ.get("BOOK_EXECUTE_ONLY"):
    _only = [p.strip() for p in os.environ["BOOK_EXECUTE_ONLY"].split(",") if p.strip()]
    nb_execution_excludepatterns = [
        str(page.relative_to(ROOT / "book"))
        for page in (ROOT / "book").rglob("*.md")
        if not any(page.relative_to(ROOT / "book").with_suffix("").match(p) for p in _only)
    ]
nb_execution_timeout = 900  # the heaviest page times jacfwd/jacrev sweeps
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_show_tb = True
nb_kernel_rgx_aliases = {".*": "python3"}
nb_merge_streams = True
# sympy's LaTeX output reaches the PDF as math, not as plain text or an image.
nb_mime_priority_overrides = [
    ("latex", "text/latex", 5),
    ("latex", "image/svg+xml", None),
]

# -- Numbering: chapters, equations and figures, the same in HTML and PDF -----
numfig = True
math_numfig = True
numfig_secnum_depth = 1
math_eqref_format = "({number})"

# -- Bibliography --------------------------------------------------------------
bibtex_bibfiles = ["book/references.bib"]
bibtex_default_style = "plain"
bibtex_reference_style = "author_year"

# -- API reference -------------------------------------------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_mock_imports: list[str] = []
napoleon_numpy_docstring = True

# -- HTML ----------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = f"{project}: {subtitle}"
html_static_path = ["book/_static"]
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "use_source_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "launch_buttons": {},
    "home_page_in_toc": True,
}
mathjax3_config = {"tex": {"macros": mathjax_macros(MACROS)}}
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# -- LaTeX / PDF ---------------------------------------------------------------
latex_engine = "xelatex"
latex_toplevel_sectioning = "part"
latex_documents = [
    (root_doc, "custom-derivative-rules.tex", f"{project}: {subtitle}", author, "manual", False)
]
latex_appendices: list[str] = []
latex_elements = {
    "papersize": "a4paper",
    "pointsize": "10pt",
    # Sphinx counts parts as a level when it numbers; the book numbers chapters
    # continuously, so equations, figures and listings are numbered per chapter.
    # (after Sphinx's own numbering set-up, which also runs at \begin{document}).
    "preamble": "\\usepackage{amsmath,amssymb}\n"
    "\\AtBeginDocument{\\counterwithin{equation}{chapter}\\counterwithin{figure}{chapter}"
    "\\counterwithin{table}{chapter}\\counterwithin{literalblock}{chapter}}\n"
    + latex_newcommands(MACROS),
    "sphinxsetup": "verbatimwrapslines=true, verbatimforcewraps=true",
}
latex_show_urls = "footnote"
