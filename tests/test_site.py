"""The built site as readers get it: offline, downloadable, citable, cross-referenced.

Most tests read the HTML book built once per session (``built_book``, marked
``book``); the tests marked ``pdf`` build the PDF with xelatex and read it with
poppler-utils (skipped, with a message naming the packages, when TeX Live or
poppler-utils is missing). Lists of hosts, the PDF's page count and rendered pages
are written to ``test-artifacts/``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

from conftest import BOOK, NOTEBOOK_FRONT_MATTER, ROOT, executed_pages, source_pages, sphinx_build

ARTIFACTS = ROOT / "test-artifacts"

sys.path.insert(0, str(BOOK / "_ext"))
from api_reference import public_modules  # noqa: E402


# -- The sources -------------------------------------------------------------------

def expected_label_prefix(page: Path) -> str:
    rel = page.relative_to(BOOK)
    if rel.parts[0] == "appendices":
        return "app-"
    if rel.parts[0] == "projects":  # (projects)= and (project-logcosh)=
        return "project"
    if rel.name == "index.md":
        return "part-"
    return "ch-"


def body_lines(text: str) -> list[tuple[int, str]]:
    """Numbered lines outside front matter and fenced code (``` or ~~~, any length)."""
    lines = text.split("\n")
    out, fence, start = [], None, 0
    if lines and lines[0] == "---":
        start = lines.index("---", 1) + 1
    for number, line in enumerate(lines[start:], start=start + 1):
        stripped = line.strip()
        if fence:
            if stripped.startswith(fence) and set(stripped) <= set(fence[0]):
                fence = None
            continue
        opening = re.match(r"(`{3,}|~{3,})", stripped)
        if opening:
            fence = opening.group(1)
            continue
        out.append((number, line))
    return out


#: Every page but the landing page (book/index.md, the root: nothing links to it by label).
LABELLED_PAGES = [p for p in source_pages() if p != BOOK / "index.md"]


@pytest.mark.parametrize("page", LABELLED_PAGES, ids=lambda p: str(p.relative_to(BOOK)))
def test_every_page_starts_with_a_stable_label(page: Path) -> None:
    prefix = expected_label_prefix(page)
    label = None
    for _number, line in body_lines(page.read_text()):
        if re.match(r"#{1,6} ", line):
            break
        match = re.match(r"\(([\w.:-]+)\)=\s*$", line)
        if match:
            label = match.group(1)
            break
    assert label, f"{page.relative_to(BOOK)}: no label before the title; start with ({prefix}...)="
    assert label.startswith(prefix), f"{page.relative_to(BOOK)}: label {label!r} should start with {prefix!r}"


NUMBERED_ENVIRONMENTS = re.compile(r"\\begin\{(equation|align|alignat|gather|multline|flalign|eqnarray)\}")


def equation_problems(page: Path, root: Path = BOOK) -> list[str]:
    """Numbered equations without an ``eq-`` label, and numbering MathJax would not match."""
    problems, in_dollars = [], False
    rel = page.relative_to(root)
    text = page.read_text()
    for number, line in body_lines(text):
        stripped = line.strip()
        if stripped.startswith("$$"):
            rest = stripped[2:]
            if in_dollars or "$$" in rest:
                tail = rest if in_dollars else rest.split("$$", 1)[1]
                label = re.fullmatch(r"\s*\(([^)]*)\)\s*", tail)
                if label and not label.group(1).startswith("eq-"):
                    problems.append(f"{rel}:{number}: equation label {label.group(1)!r} must start with eq-")
                in_dollars = False
            else:
                in_dollars = True
            continue
        if not in_dollars and NUMBERED_ENVIRONMENTS.match(stripped):
            problems.append(f"{rel}:{number}: a top-level numbered amsmath environment is numbered by "
                            "LaTeX but not in HTML; use $$ ... $$ (eq-...) (with aligned inside) "
                            "or the starred environment")
    # ```{math} directives: a :label: makes them numbered.
    for label in re.findall(r"^[`:]{3,}\{math\}[^\n]*\n(?::\w+:[^\n]*\n)*?:label:\s*(\S+)", text, re.M):
        if not label.startswith("eq-"):
            problems.append(f"{rel}: equation label {label!r} must start with eq-")
    return problems


@pytest.mark.parametrize("page", source_pages(), ids=lambda p: str(p.relative_to(BOOK)))
def test_every_numbered_equation_has_an_eq_label(page: Path) -> None:
    problems = equation_problems(page)
    assert not problems, "\n".join(problems)


def test_the_equation_scanner_catches_mistakes(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("(ch-x)=\n# X\n\n$$\na = b\n$$ (first)\n\n\\begin{align}\na &= b\n\\end{align}\n\n"
                    "$$ c = d $$ (eq-good)\n\n```python\n\\begin{equation}\n```\n\n"
                    "```{math}\n:label: second\nx\n```\n")
    problems = equation_problems(page, tmp_path)
    assert len(problems) == 3, problems
    assert "'first'" in problems[0] and "amsmath" in problems[1] and "'second'" in problems[2]


# -- Offline: no request to another host ------------------------------------------

class ResourceParser(HTMLParser):
    """URLs a browser fetches on its own (not plain hyperlinks), and the hyperlinks."""

    FETCHED = {("script", "src"), ("img", "src"), ("iframe", "src"), ("embed", "src"),
               ("source", "src"), ("video", "src"), ("video", "poster"), ("audio", "src"),
               ("track", "src"), ("object", "data"), ("input", "src"), ("image", "href")}
    NOT_FETCHED_LINKS = {"canonical", "alternate", "index", "search", "next", "prev",
                         "author", "license", "help", "copyright", "top", "up"}

    def __init__(self) -> None:
        super().__init__()
        self.resources: list[str] = []
        self.links: list[str] = []
        self._style = False
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for (t, attr) in self.FETCHED:
            if tag == t and a.get(attr):
                self.resources.append(a[attr])
        if a.get("srcset"):
            self.resources += [part.split()[0] for part in a["srcset"].split(",") if part.strip()]
        if tag == "link" and a.get("href"):
            rels = set(a.get("rel", "").lower().split())
            (self.links if rels and rels <= self.NOT_FETCHED_LINKS else self.resources).append(a["href"])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("style"):
            self.styles.append(a["style"])
        self._style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._style:
            self.styles.append(data)

    def handle_endtag(self, tag: str) -> None:
        self._style = False


def css_urls(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    urls = re.findall(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)", css)
    urls += re.findall(r"@import\s+['\"]([^'\"]+)['\"]", css)
    return [u for u in urls if not u.startswith("data:")]


def host(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("", "file") and not url.startswith("//"):
        return None
    if parts.scheme in ("data", "blob", "javascript", "mailto", "about"):
        return None
    return parts.hostname or url


def site_hosts(html_dir: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Hosts of fetched resources and of plain hyperlinks, each with where they occur."""
    resources: dict[str, set[str]] = {}
    links: dict[str, set[str]] = {}
    for page in html_dir.rglob("*.html"):
        parser = ResourceParser()
        parser.feed(page.read_text(encoding="utf-8"))
        rel = str(page.relative_to(html_dir))
        found = parser.resources + [u for s in parser.styles for u in css_urls(s)]
        for url in found:
            if (h := host(url)):
                resources.setdefault(h, set()).add(rel)
        for url in parser.links:
            if (h := host(url)):
                links.setdefault(h, set()).add(rel)
    for css in html_dir.rglob("*.css"):
        for url in css_urls(css.read_text(encoding="utf-8", errors="replace")):
            if (h := host(url)):
                resources.setdefault(h, set()).add(str(css.relative_to(html_dir)))
    return resources, links


@pytest.mark.book
def test_the_site_fetches_nothing_from_other_hosts(built_book: Path) -> None:
    resources, links = site_hosts(built_book)
    ARTIFACTS.mkdir(exist_ok=True)
    report = {"resource_hosts": {h: sorted(p)[:5] for h, p in sorted(resources.items())},
              "hyperlink_hosts": {h: sorted(p)[:5] for h, p in sorted(links.items())}}
    (ARTIFACTS / "external-hosts.json").write_text(json.dumps(report, indent=2) + "\n")
    assert not resources, f"resources loaded from other hosts: {report['resource_hosts']}"


@pytest.mark.book
def test_mathjax_is_served_from_the_site(built_book: Path) -> None:
    page = (built_book / "foundations" / "notation.html").read_text()
    assert 'src="../_static/mathjax/tex-mml-chtml.js' in page
    assert "cdn.jsdelivr" not in page
    mathjax = built_book / "_static" / "mathjax"
    # Files MathJax loads lazily, relative to its own URL.
    for lazy in ("input/tex/extensions/cancel.js", "input/tex/extensions/physics.js",
                 "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
                 "output/chtml/fonts/woff-v2/MathJax_Math-Italic.woff", "ui/menu.js",
                 "a11y/explorer.js", "sre/mathmaps/en.json"):
        assert (mathjax / lazy).is_file(), lazy
    assert not (mathjax / "latest.js").exists(), "latest.js fetches MathJax from a CDN"
    # The book's macros reach MathJax.
    assert '"inner": ["\\\\langle #1' in page


@pytest.mark.book
def test_no_launch_buttons_or_run_time_code(built_book: Path) -> None:
    """No Binder/Colab/JupyterHub/JupyterLite launch buttons, no Thebe live code."""
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        rel = page.relative_to(built_book)
        assert not re.search(r'class="[^"]*(launch-buttons|btn-launch|thebe)', html), rel
        assert not re.search(r'<script[^>]*src="[^"]*thebe', html), rel
        assert not re.search(r'href="[^"]*(mybinder\.org|colab\.research\.google\.com|jupyterlite)', html), rel


# -- Downloads ---------------------------------------------------------------------

@pytest.mark.book
@pytest.mark.parametrize("docname", executed_pages())
def test_executed_pages_offer_their_notebook_and_source(built_book: Path, docname: str) -> None:
    notebook = built_book / "_sources" / f"{docname}.ipynb"
    source = built_book / "_sources" / f"{docname}.md"
    assert notebook.is_file(), f"no notebook download for {docname}"
    assert source.is_file(), f"no source download for {docname}"
    nb = nbformat.read(notebook, as_version=4)
    nbformat.validate(nb)
    # Every code cell executed, but the first, which installs the companion where it is
    # missing (tests/test_publishing.py).
    assert "companion-setup" in nb.cells[0].metadata.get("tags", [])
    code = [c for c in nb.cells[1:] if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "the notebook is not executed"
    html = (built_book / f"{docname}.html").read_text()
    depth = "../" * docname.count("/")
    assert f'href="{depth}_sources/{docname}.ipynb"' in html
    assert f'href="{depth}_sources/{docname}.md"' in html


def notebooks_to_run() -> list[str]:
    pages = executed_pages()
    chosen = [p for p in ("foundations/first-rule", "appendices/api") if p in pages]
    return pages if os.environ.get("BOOK_RUN_ALL_NOTEBOOKS") else chosen


@pytest.mark.book
@pytest.mark.parametrize("docname", notebooks_to_run())
def test_a_downloaded_notebook_runs_top_to_bottom_in_a_clean_kernel(
        built_book: Path, docname: str, tmp_path: Path) -> None:
    from nbclient import NotebookClient

    nb = nbformat.read(built_book / "_sources" / f"{docname}.ipynb", as_version=4)
    for cell in nb.cells:  # as a student gets it after "clear outputs"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    # A fresh kernel in an empty folder, as on a student's laptop; cells tagged
    # raises-exception may raise, any other error fails.
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [c for c in nb.cells if c.cell_type == "code"
              and any(o.output_type == "error" for o in c.outputs)]
    assert all("raises-exception" in c.metadata.get("tags", []) for c in errors)


# -- API reference -----------------------------------------------------------------

@pytest.mark.book
def test_the_api_reference_lists_every_public_name(built_book: Path) -> None:
    html = (built_book / "appendices" / "api.html").read_text()
    missing = []
    for module_name in public_modules("companion"):
        assert f'id="module-{module_name}"' in html, f"module {module_name} is not documented"
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", []):
            if not (name.startswith("__") and name.endswith("__")) and f'id="{module_name}.{name}"' not in html:
                missing.append(f"{module_name}.{name}")
    assert not missing, f"public names missing from the API reference: {missing}"


@pytest.mark.book
def test_chapters_link_to_the_api_reference(built_book: Path) -> None:
    linking = [p.relative_to(built_book) for p in built_book.rglob("*.html")
               if "appendices" not in p.parts and re.search(r'href="[./]*appendices/api\.html#companion\.',
                                                           p.read_text())]
    assert linking, "no chapter links to the API reference"


# -- How to cite -------------------------------------------------------------------

def test_citation_cff_and_package_versions_agree() -> None:
    import companion

    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert str(cff["version"]) == companion.__version__
    assert importlib.metadata.version("jvp-vjp-companion") == companion.__version__
    readme = (ROOT / "README.md").read_text()
    for version in re.findall(r"version\s*=\s*\{([^}]*)\}", readme):
        assert version == companion.__version__, "README's BibTeX names another version"


@pytest.mark.book
def test_the_cite_page_carries_the_version(built_book: Path) -> None:
    import companion

    from html import unescape

    html = (built_book / "appendices" / "cite.html").read_text()
    text = unescape(re.sub(r"<[^>]+>", "", html))
    bibtex = re.search(r"@book\{custom_derivative_rules,.*?\n\}", text, re.S)
    assert bibtex, "no BibTeX entry on the cite page"
    assert re.search(r"version\s*=\s*\{" + re.escape(companion.__version__) + r"\}", bibtex.group(0))
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert re.search(r"year\s*=\s*\{" + str(cff["date-released"])[:4] + r"\}", bibtex.group(0))
    assert f"version {companion.__version__}" in text


# -- Numbering ---------------------------------------------------------------------

def html_numbers(built_book: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Chapter numbers by docname and equation numbers by docname:label, as the HTML shows them."""
    chapters, equations = {}, {}
    for page in built_book.rglob("*.html"):
        docname = str(page.relative_to(built_book).with_suffix(""))
        html = page.read_text(encoding="utf-8")
        number = re.search(r'<h1><span class="section-number">([\d.]+)\. </span>', html)
        if number:
            chapters[docname] = number.group(1)
        for label, eqno in re.findall(
                r'id="equation-([^"]+)">\s*<span class="eqno">\(([^)]*)\)', html):
            equations[f"{docname}:{label}"] = eqno
    return chapters, equations


def html_figure_numbers(built_book: Path) -> dict[str, str]:
    """Figure numbers by docname:label, as the HTML shows them ("Fig. 3.1")."""
    figures = {}
    for page in built_book.rglob("*.html"):
        docname = str(page.relative_to(built_book).with_suffix(""))
        for block in re.findall(r'<figure[^>]*id="([^"]+)"(.*?)</figure>', page.read_text(), re.S):
            number = re.search(r'class="caption-number">Fig\. ([\d.]+) </span>', block[1])
            if number:
                figures[f"{docname}:{block[0]}"] = number.group(1)
    return figures


@pytest.mark.book
def test_equations_are_numbered_within_their_chapter(built_book: Path) -> None:
    chapters, equations = html_numbers(built_book)
    by_page: dict[str, list[str]] = {}
    for key, eqno in equations.items():
        by_page.setdefault(key.split(":")[0], []).append(eqno)
    assert by_page, "no numbered equation in the book"
    for docname, numbers in by_page.items():
        chapter = chapters.get(docname)
        assert chapter, f"{docname} has numbered equations but no chapter number"
        expected = {f"{chapter}.{k}" for k in range(1, len(numbers) + 1)}
        assert set(numbers) == expected, f"{docname}: {sorted(numbers)}"


# -- PDF -----------------------------------------------------------------------------

@pytest.mark.book
@pytest.mark.pdf
@pytest.mark.needs("pdfinfo", "pdftoppm")
def test_the_pdf_builds_without_latex_errors_or_unresolved_references(built_pdf: Path) -> None:
    log = built_pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    assert "LaTeX Error" not in log and "\n! " not in log
    assert not re.search(r"Reference .* undefined|Citation .* undefined|undefined references", log)
    missing = sorted(set(re.findall(r"Missing character: There is no (.*?) in font", log)))
    assert not missing, f"glyphs missing from the PDF's fonts: {missing}"
    # Code listings and outputs fit the page: nothing sticks out by more than a hair.
    overfull = [float(pt) for pt in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide\)", log)]
    assert not [pt for pt in overfull if pt > 5], f"lines wider than the page: {sorted(overfull)[-5:]}"
    tex = built_pdf.with_suffix(".tex").read_text(encoding="utf-8")
    assert "\x1b" not in tex, "ANSI escape codes reached the LaTeX source"
    info = subprocess.run(["pdfinfo", str(built_pdf)], capture_output=True, text=True,
                          check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "pdf-info.txt").write_text(info)
    assert pages > 10
    # A look at the result: the title page and the first chapter's opening pages.
    for first, last in ((1, 1), (7, 9)):
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", str(first), "-l", str(last),
                        str(built_pdf), str(ARTIFACTS / "pdf-page")], check=True)


@pytest.mark.book
@pytest.mark.pdf
def test_every_solution_is_printed(built_pdf: Path) -> None:
    tex = built_pdf.with_suffix(".tex").read_text(encoding="utf-8")
    titles = [m.group(2).strip() for page in source_pages()
              for m in re.finditer(r"^(`{3,}|:{3,})\{dropdown\}(.*)$", page.read_text(), re.M)]
    plain = [t for t in titles if re.fullmatch(r"[\w .,:()-]+", t)]
    assert plain, "no solution titles found to look for"
    missing = [t for t in plain if f"\\begin{{sphinxadmonition}}{{note}}{{{t}}}" not in tex]
    assert not missing, f"solutions missing from the PDF: {missing}"


@pytest.mark.book
@pytest.mark.pdf
@pytest.mark.needs("pdftotext")
def test_the_title_page_names_title_authors_version_and_date(built_pdf: Path) -> None:
    import companion

    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", "-layout", str(built_pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
    text = " ".join(first.split())
    cff = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    for expected in ("Custom Derivative Rules", "JVPs and VJPs in PyTorch and JAX",
                     "The Custom Derivative Rules authors", f"Version {companion.__version__}",
                     str(cff["date-released"])[:4]):
        assert expected in text, f"{expected!r} not on the title page: {text!r}"


@pytest.mark.book
@pytest.mark.pdf
def test_chapter_and_equation_numbers_match_between_html_and_pdf(built_book: Path, built_pdf: Path) -> None:
    aux = built_pdf.with_suffix(".aux").read_text(encoding="utf-8", errors="replace")
    labels = dict(re.findall(r"\\newlabel\{([^}]*)\}\{\{([^}]*)\}", aux))
    chapters, equations = html_numbers(built_book)
    checked = 0
    for docname, number in chapters.items():
        pdf = labels.get(f"{docname}::doc")
        assert pdf == number, f"chapter {docname}: HTML {number}, PDF {pdf}"
        checked += 1
    for key, number in equations.items():
        docname, label = key.split(":", 1)
        pdf = labels.get(f"equation:{docname}:{label}")
        assert pdf == number, f"equation {label} in {docname}: HTML ({number}), PDF ({pdf})"
        checked += 1
    for key, number in html_figure_numbers(built_book).items():
        pdf = labels.get(key)
        assert pdf == number, f"figure {key}: HTML Fig. {number}, PDF Fig. {pdf}"
        checked += 1
    assert checked


# -- Printing what HTML hides, and cell outputs LaTeX cannot take --------------------

MINI_PAGE = NOTEBOOK_FRONT_MATTER + '''
(ch-mini)=
# Mini

:::{admonition} Exercise
Compute the derivative of $\\sin x$.
:::

::::{dropdown} Solution
The derivative is $\\cos x$: SOLUTIONTEXT.
::::

```{code-cell} python3
import sys
print("\\x1b[31mred on stdout\\x1b[0m")
print("\\x1b[1;33mwarning on stderr\\x1b[0m", file=sys.stderr)
```

```{code-cell} python3
:tags: [raises-exception]
raise ValueError("\\x1b[31mcoloured message\\x1b[0m")
```

```{code-cell} python3
---
mystnb:
  figure:
    caption: A measured curve, numbered as a figure.
    name: fig-mini-curve
---
import matplotlib.pyplot as plt
plt.plot([0, 1, 2], [0, 1, 4])
plt.show()
```

See {numref}`fig-mini-curve`.

```{code-cell} python3
:tags: [hide-input]
HIDDENSOURCE = "set-up code"
print("VISIBLEOUTPUT")
```

```{code-cell} python3
from IPython.display import Markdown, display
print("progress 10%\\r50%\\r100%\\x07 done\\x08!")
display(Markdown("a \\x1b[1mbold\\x1b[0m word"))
```
'''


@pytest.fixture(scope="module")
def mini_latex(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("mini")
    (tmp / "src").mkdir()
    (tmp / "src" / "index.md").write_text(MINI_PAGE)
    result = sphinx_build("latex", tmp / "src", tmp / "latex",
                          env={"BOOK_JUPYTER_CACHE": str(tmp / "cache")})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return tmp / "latex"


def test_solutions_hidden_in_html_are_printed_in_the_pdf(mini_latex: Path, tmp_path: Path) -> None:
    tex = next(mini_latex.glob("*.tex")).read_text()
    box = re.search(r"\\begin\{sphinxadmonition\}\{note\}\{Solution\}(.*?)\\end\{sphinxadmonition\}", tex, re.S)
    assert box and "SOLUTIONTEXT" in box.group(1)
    html = sphinx_build("html", mini_latex.parent / "src", tmp_path / "html",
                        env={"BOOK_JUPYTER_CACHE": str(mini_latex.parent / "cache")})
    assert html.returncode == 0, html.stderr[-3000:]
    page = (tmp_path / "html" / "index.html").read_text()
    details = re.search(r"<details[^>]*>.*?SOLUTIONTEXT.*?</details>", page, re.S)
    assert details and " open" not in details.group(0).split(">", 1)[0]


def test_hidden_inputs_are_left_out_of_print_but_not_their_outputs(mini_latex: Path) -> None:
    tex = next(mini_latex.glob("*.tex")).read_text()
    assert "VISIBLEOUTPUT" in tex and "HIDDENSOURCE" not in tex


def test_a_plot_with_a_caption_is_a_numbered_figure(mini_latex: Path) -> None:
    """The markup for figures from code: the cell's ``mystnb: figure: {caption, name}``."""
    tex = next(mini_latex.glob("*.tex")).read_text()
    figure = re.search(r"\\begin\{figure\}.*?\\end\{figure\}", tex, re.S)
    assert figure and "\\caption{A measured curve" in figure.group(0)
    assert "\\label{\\detokenize{index:fig-mini-curve}}" in figure.group(0)


def test_ansi_codes_in_outputs_do_not_reach_latex(mini_latex: Path) -> None:
    tex = next(mini_latex.glob("*.tex")).read_text()
    # Without the hook, the progress bar's \r, BEL and backspace and the Markdown
    # output's escape codes reach the .tex, and xelatex stops: "invalid character".
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", tex)
    for text in ("red on stdout", "warning on stderr", "coloured message", "a bold word"):
        assert text in tex, text
    assert "100\\PYGZpc{} done!" in tex or "100\\% done!" in tex


@pytest.mark.pdf
@pytest.mark.needs("make", "xelatex", "latexmk", "xindy")
def test_a_page_with_coloured_outputs_compiles(mini_latex: Path) -> None:
    make = subprocess.run(["make", "-C", str(mini_latex), "all-pdf",
                           "LATEXMKOPTS=-interaction=nonstopmode -halt-on-error"],
                          capture_output=True, text=True)
    assert make.returncode == 0, make.stdout[-4000:]
