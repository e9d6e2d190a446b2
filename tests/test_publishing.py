"""Publishing the book: launch buttons, the wheel the site ships, the notebooks' set-up
cell, and the recipes that build the online edition (Read the Docs, GitHub Pages).

The launch buttons and the set-up cell are checked on a small book (one executed
page, built with the real conf.py, twice: with the repository URL and the canonical URL
set, and with neither); the whole book's notebooks are checked on the built book
(marked ``book``). The test that runs the set-up cell in a fresh environment is in
``test_release.py``.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from conftest import BOOK, NOTEBOOK_FRONT_MATTER, ROOT, build_failure, executed_pages, sphinx_build

sys.path.insert(0, str(BOOK / "_ext"))
from companion_wheel import also_used, frameworks_used  # noqa: E402

import companion  # noqa: E402

WHEEL = f"jvp_vjp_companion-{companion.__version__}-py3-none-any.whl"
#: Obviously an example: the tests' repository and site, never a real one.
EXAMPLE_REPOSITORY = "https://github.com/example-org/example-book"
EXAMPLE_SITE = "https://example.org/book/"

SMALL_PAGE = NOTEBOOK_FRONT_MATTER + '''
(ch-small)=
# Small

```{code-cell} python3
import jax.numpy as jnp
import matplotlib

float(jnp.sin(0.5))
```
'''


@pytest.fixture(scope="module")
def small_books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The small book built with the repository and canonical URLs set ("on") and without ("off")."""
    tmp = tmp_path_factory.mktemp("small")
    (tmp / "src").mkdir()
    (tmp / "src" / "index.md").write_text(SMALL_PAGE)
    books = {}
    for name, env in [("on", {"BOOK_REPOSITORY_URL": EXAMPLE_REPOSITORY, "BOOK_BASE_URL": EXAMPLE_SITE}),
                      ("off", {"BOOK_REPOSITORY_URL": "", "BOOK_BASE_URL": ""})]:
        # Each build in its own parent folder (myst-nb's jupyter_execute/ goes next to it).
        out = tmp / name / "html"
        result = sphinx_build("html", tmp / "src", out,
                              env={"BOOK_JUPYTER_CACHE": str(tmp / "cache"),
                                   "READTHEDOCS_CANONICAL_URL": "", **env})
        if result.returncode != 0:
            pytest.fail(build_failure(f"the small book ({name})", result), pytrace=False)
        books[name] = out
    return books


def links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def test_the_repository_url_turns_on_the_repository_binder_and_colab_buttons(
        small_books: dict[str, Path]) -> None:
    found = links((small_books["on"] / "index.html").read_text())
    assert EXAMPLE_REPOSITORY in found
    assert "https://mybinder.org/v2/gh/example-org/example-book/main?urlpath=lab/tree/book/index.md" in found
    assert "https://colab.research.google.com/github/example-org/example-book/blob/main/book/index.md" in found
    html = (small_books["on"] / "index.html").read_text()
    assert f'<link rel="canonical" href="{EXAMPLE_SITE}index.html"' in html


def test_without_it_no_button_links_elsewhere(small_books: dict[str, Path]) -> None:
    html = (small_books["off"] / "index.html").read_text()
    for text in ("mybinder", "colab", "example-org", "launch-buttons", 'rel="canonical"'):
        assert text not in html, text
    assert "index.ipynb" in html  # the download button still offers the notebook


@pytest.mark.parametrize("build", ["on", "off"])
def test_the_site_ships_the_wheel_and_the_notebook_starts_by_installing_it(
        small_books: dict[str, Path], build: str) -> None:
    html = small_books[build]
    assert (html / "_static" / "wheels" / WHEEL).is_file()
    assert [w.name for w in (html / "_static" / "wheels").iterdir()] == [WHEEL]
    nb = nbformat.read(html / "_sources" / "index.ipynb", as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "code" and "companion-setup" in first.metadata.get("tags", [])
    # With launch buttons on, the theme copies the raw notebook to the same place first:
    # the download is still the book's notebook (set-up cell, macros).
    assert nb.cells[1].cell_type == "markdown" and "\\def\\" in nb.cells[1].source
    wanted = (f'"jvp-vjp-companion[jax] @ {EXAMPLE_SITE}_static/wheels/{WHEEL}"' if build == "on"
              else f'"jvp-vjp-companion[jax]=={companion.__version__}"')
    assert f"COMPANION = {wanted}" in first.source
    assert 'NEEDS = [("companion", COMPANION), ("matplotlib", "matplotlib")]' in first.source
    assert "download.pytorch.org" not in first.source  # a JAX page installs no PyTorch


# -- The whole book ------------------------------------------------------------------

@pytest.mark.book
def test_every_downloaded_notebook_starts_with_the_set_up_cell(built_book: Path) -> None:
    assert (built_book / "_static" / "wheels" / WHEEL).is_file()
    pages = executed_pages()
    assert len(pages) >= 10
    for page in pages:
        path = built_book / "_sources" / f"{page}.ipynb"
        nb = nbformat.read(path, as_version=4)
        first = nb.cells[0]
        assert first.cell_type == "code" and "companion-setup" in first.metadata.get("tags", []), page
        code = [c.source for c in nb.cells[1:] if c.cell_type == "code"]
        extras = frameworks_used(code)
        spec = re.search(r'COMPANION = "([^"]+)"', first.source).group(1)
        assert spec.startswith(f"jvp-vjp-companion[{','.join(extras)}]" if extras
                               else "jvp-vjp-companion"), (page, spec)
        assert ('("matplotlib", "matplotlib")' in first.source) == bool(also_used(code)), page
        assert not [c for c in nb.cells[1:] if "companion-setup" in c.metadata.get("tags", [])]


# -- The publishing recipes ------------------------------------------------------------

def makefile_recipe(target: str) -> list[str]:
    """The commands of a Makefile target."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", text, re.M)
    assert match, f"no target {target} in the Makefile"
    return [line.strip() for line in match.group(1).splitlines()]


def test_make_book_installs_the_constraints_and_builds_into_build_html() -> None:
    """What the recipes rely on: `make book` = pinned install + sphinx-build -n -W into _build/html."""
    text = (ROOT / "Makefile").read_text()
    assert re.search(r"^book: \$\(STAMP\)$", text, re.M)
    install = makefile_recipe("$(STAMP)")
    assert "$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'" in install
    assert "$(SPHINX) -b html -n -W --keep-going _build/html" in makefile_recipe("book")
    assert re.search(r"^SPHINX\s*:= \$\(BIN\)/sphinx-build -c \. book$", text, re.M)


def python_version() -> str:
    """The Python both recipes use: the oldest the companion supports (pyproject.toml)."""
    import tomllib

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    return re.fullmatch(r">=\s*(\d+\.\d+)", requires).group(1)


def test_read_the_docs_builds_what_make_book_builds() -> None:
    config = yaml.safe_load((ROOT / ".readthedocs.yaml").read_text())
    assert config["version"] == 2
    build = config["build"]
    assert build["os"].startswith("ubuntu-")
    assert build["tools"]["python"] == python_version()
    commands = [shlex.split(c) for c in build["commands"]]
    makes = [c for c in commands if "make" in c]
    assert len(makes) == 1 and makes[0][makes[0].index("make"):] == ["make", "book", "PYTHON=python"]
    assert ["cp", "-r", "_build/html", "$READTHEDOCS_OUTPUT/html"] in commands
    assert "sphinx-build" not in " ".join(build["commands"])  # no second, diverging recipe
    assert "PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu" in makes[0]


def test_the_pages_workflow_builds_what_make_book_builds() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert triggers["push"]["branches"] == ["main"]
    steps = workflow["jobs"]["build"]["steps"]
    python = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
    assert python and python[0]["with"]["python-version"] == python_version()
    (build,) = [s for s in steps if "run" in s]
    assert build["run"].strip() == "make book PYTHON=python"
    assert build["env"]["PIP_EXTRA_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert set(build["env"]) == {"PIP_EXTRA_INDEX_URL", "BOOK_BASE_URL", "BOOK_REPOSITORY_URL"}
    assert build["env"]["BOOK_REPOSITORY_URL"] == "${{ vars.BOOK_REPOSITORY_URL }}"  # empty by default
    (upload,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload["with"]["path"] == "_build/html"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in deploy["steps"])


def test_conf_reads_the_two_publishing_settings_from_the_environment() -> None:
    """One setting each, empty by default: the canonical URL and the repository URL."""
    conf = (ROOT / "conf.py").read_text()
    assert 'os.environ.get("BOOK_BASE_URL")' in conf
    assert 'os.environ.get("BOOK_REPOSITORY_URL", "")' in conf
    # No repository or site URL is written into the configuration.
    assert not re.search(r"https?://(?!mybinder\.org|colab\.research\.google\.com)", conf)
    readme = (ROOT / "README.md").read_text()
    for name in ("BOOK_BASE_URL", "BOOK_REPOSITORY_URL", "companion_from_index", "## The online edition"):
        assert name in readme, name
