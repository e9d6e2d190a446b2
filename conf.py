"""Sphinx configuration of the book *Custom Derivative Rules* (source directory: book/)."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import companion  # noqa: E402  (version only; imports neither torch nor jax)
from editions import edition  # noqa: E402
from macros import MACROS, latex_newcommands, mathjax_macros  # noqa: E402

# -- Project -----------------------------------------------------------------
project = "Custom Derivative Rules"
subtitle = "JVPs and VJPs in PyTorch and JAX"
author = "The Custom Derivative Rules authors"
copyright = f"2026, {author}"
version = release = companion.__version__
# The date of the release being built, from CITATION.cff: on the PDF's title page,
# in the HTML footer and in the citation (book/_ext/citation.py checks the version).
CITATION = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
RELEASE_DATE = dt.date.fromisoformat(str(CITATION["date-released"]))
today = f"{RELEASE_DATE.day} {RELEASE_DATE:%B %Y}"
# BOOK_EDITION=student (`make student`) builds the book without its worked solutions
# (book/_ext/editions.py); the default is the instructor edition, with them.
book_edition = edition()
EDITION_NAME = f"{book_edition.capitalize()} edition"

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
    "offline_mathjax",  # MathJax served from _static: the site makes no request elsewhere
    "notebook_downloads",  # every executed page offers its .ipynb
    "api_reference",  # {companion-api}: the API appendix, one section per module
    "docstring_math",  # API appendix: Unicode formulas of the docstrings typeset as math
    "rule_table",  # {rule-table}: every op's value, JVP and VJP from the registry and docstrings
    "citation",  # {book-citation}: BibTeX and citation text from CITATION.cff
    "cell_outputs",  # outputs: no build-machine paths; no ANSI codes in the PDF
    "print_layout",  # PDF: solutions (dropdowns in HTML) printed as titled boxes
    "editions",  # BOOK_EDITION=student: no solutions in pages, PDF, notebooks, sources
]

root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints", "_ext"]
templates_path = ["book/_templates"]
nitpicky = True

# -- MyST and notebooks ------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
myst_dmath_double_inline = True
myst_substitutions = {"version": release, "release_date": today}

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
# An object that also offers Markdown (the companion's Derivation: math, then a
# table) is shown from its Markdown in the PDF too, as in HTML.
nb_mime_priority_overrides = [
    ("latex", "text/markdown", 4),
    ("latex", "text/latex", 5),
    ("latex", "image/svg+xml", None),
]
# Markdown outputs are MyST, with the page's extensions ($$ math $$, tables).
nb_render_markdown_format = "myst"

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
# Methods such as forward/backward show the companion's own docstrings, never the
# ones inherited from torch.autograd.Function (they reference torch's own docs).
autodoc_inherit_docstrings = False
# Defaults as written in the source (``ops=OPS``), not the repr of their value.
autodoc_preserve_defaults = True
# Types go into the description only for parameters a docstring documents, so an
# undocumented ``x`` does not add a line "x (Any)".
autodoc_typehints_description_target = "documented"
napoleon_numpy_docstring = True
# The site builds offline, so there is no intersphinx: references to the frameworks'
# and the standard library's types stay plain text instead of failing -n.
nitpick_ignore_regex = [
    (r"py:.*", r"(torch|jax|jaxlib|numpy|np|sympy|sp|typing|collections|types)(\..*)?"),
    (r"py:.*", r"(Tensor|Array|ArrayLike|Needs|Any|Callable|Sequence|Mapping|Iterable|Iterator|NamedTuple|Protocol|Args)"),
]

# -- HTML ----------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_title = f"{project}: {subtitle}" + (" (student edition)" if book_edition == "student" else "")
html_static_path = ["book/_static"]
html_favicon = "book/_static/favicon.svg"
# One search box: the page header's search button (Ctrl+K); the theme's second one, a
# search field at the top of the left sidebar, is left out.
html_sidebars = {"**": ["navbar-logo.html", "icon-links.html", "sbt-sidebar-nav.html"]}
html_css_files = ["course.css"]
# The search page: a result found through a concept-index entry gets a summary too.
html_js_files = ["search-summary.js"]  # one look for objectives, prerequisites, exercises, solutions
# Offline: a pinned MathJax 3 (PyPI package django-static-mathjax) is copied into
# _static/mathjax by book/_ext/offline_mathjax.py; Sphinx's default is a CDN.
mathjax_path = "mathjax/tex-mml-chtml.js"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,
    "use_source_button": False,
    "use_repository_button": False,
    "use_issues_button": False,
    "launch_buttons": {},
    "home_page_in_toc": True,
    "primary_sidebar_end": [],  # no ad placeholder: nothing on the site loads third-party code
}
# -- The online edition (README, "The online edition") --------------------------
# BOOK_BASE_URL: the site's canonical URL (Read the Docs sets READTHEDOCS_CANONICAL_URL).
# With one, the notebooks' set-up cell installs the companion from the wheel the site
# ships (_static/wheels/); without one, by name and version from the package index.
html_baseurl = os.environ.get("BOOK_BASE_URL") or os.environ.get("READTHEDOCS_CANONICAL_URL", "")
# True once jvp-vjp-companion is on a public index: the set-up cell installs it by name.
companion_from_index = False
# BOOK_REPOSITORY_URL, the repository's URL (empty by default), turns on the repository
# button and the Binder and Colab launch buttons: links to other hosts, off by default.
book_repository_url = os.environ.get("BOOK_REPOSITORY_URL", "").rstrip("/")
if book_repository_url:
    html_theme_options.update({
        "repository_url": book_repository_url,
        "repository_branch": "main",
        "path_to_docs": "book",
        "use_repository_button": True,
        "launch_buttons": {"binderhub_url": "https://mybinder.org",
                           "colab_url": "https://colab.research.google.com",
                           "notebook_interface": "jupyterlab"},
    })
# Light or dark as the reader's system prefers; without it the theme logs a console error.
html_context = {"default_mode": "auto"}
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
    + latex_newcommands(MACROS)
    # A heading is never left alone at the foot of a page (e.g. "Exercises" with
    # its first framed box on the next page).
    + "\\usepackage{needspace}\n"
    "\\preto\\section{\\Needspace{8\\baselineskip}}\\preto\\subsection{\\Needspace{6\\baselineskip}}\n"
    # The running foot of a right-hand page names the section in force at the page's
    # end (the last mark), not the first one: a page on which "Summary" ends and
    # "Exercises" begins is a page of exercises.
    "\\makeatletter\\renewcommand{\\rightmark}{\\expandafter\\@rightmark\\botmark\\@empty\\@empty}"
    # The appendix page "Bibliography" is the bibliography's chapter: the list follows
    # its heading, with no second heading, page break or contents line of its own.
    "\\renewenvironment{sphinxthebibliography}[1]{\\let\\book@chapter\\chapter"
    "\\let\\chapter\\@gobbletwo\\begin{thebibliography}{#1}\\let\\chapter\\book@chapter}"
    "{\\end{thebibliography}}\\makeatother\n",
    "sphinxsetup": "verbatimwrapslines=true, verbatimforcewraps=true",
}
latex_show_urls = "footnote"
latex_domain_indices = False  # the API appendix lists the modules; the general index remains


def _tex(text: str) -> str:
    """Escape LaTeX's special characters in a plain string."""
    specials = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}"}
    return "".join(specials.get(c, c) for c in text)


# Title page: title, subtitle, authors, version and release date (CITATION.cff).
# Fonts: the TeX Live/Debian FreeSerif and FreeSans, and DejaVu Sans Mono for code,
# which has the glyphs the companion's docstrings and outputs use (⊙, ᵀ, ⁻¹, ẋ).
latex_elements["fontpkg"] = r"""
\setmainfont{FreeSerif}[Extension=.otf, UprightFont=*, ItalicFont=*Italic,
  BoldFont=*Bold, BoldItalicFont=*BoldItalic]
\setsansfont{FreeSans}[Extension=.otf, UprightFont=*, ItalicFont=*Oblique,
  BoldFont=*Bold, BoldItalicFont=*BoldOblique]
\setmonofont{DejaVu Sans Mono}[Scale=0.88]
"""
latex_elements["releasename"] = "Version"  # page headers: "..., Version 0.1.0"
latex_elements["maketitle"] = rf"""
\hypersetup{{pdftitle={{{_tex(project)}: {_tex(subtitle)}}}, pdfauthor={{{_tex(author)}}},
  pdfsubject={{Version {_tex(release)}, {_tex(today)}}}}}
\begin{{titlepage}}
  \centering
  \vspace*{{0.16\textheight}}
  {{\sffamily\bfseries\fontsize{{30}}{{36}}\selectfont {_tex(project)}\par}}
  \vspace{{1.4em}}
  {{\sffamily\LARGE {_tex(subtitle)}\par}}
  \vspace{{4em}}
  {{\Large {_tex(author)}\par}}
  \vfill
  {{\large Version {_tex(release)}, {_tex(EDITION_NAME.lower())}\par}}
  \vspace{{0.5em}}
  {{\large {_tex(today)}\par}}
  \vspace{{3em}}
  {{\small Text licensed under CC BY 4.0, code under the MIT licence.
   How to cite this version: appendix \emph{{How to cite}}.\par}}
\end{{titlepage}}
"""
