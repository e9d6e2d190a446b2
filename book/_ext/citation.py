"""How to cite the book, generated from CITATION.cff and the companion's version.

``{book-citation}`` writes the citation of the version being built, as BibTeX
(``:format: bibtex``, the default) or as a sentence (``:format: text``). Title,
authors and release date come from ``CITATION.cff`` (next to ``conf.py``); the
version is Sphinx's ``release``, which ``conf.py`` takes from
``companion.__version__``. If ``CITATION.cff`` names another version, the
build warns (and ``-W`` makes that an error), so the two cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)

CFF_NAME = "CITATION.cff"
BIBTEX_KEY = "custom_derivative_rules"


def read_cff(path: str | Path) -> dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))


def author_names(cff: dict[str, Any]) -> list[str]:
    """Authors as written in a bibliography: ``Family, Given`` or an entity's name."""
    names = []
    for person in cff.get("authors", []):
        if "name" in person:
            names.append(person["name"])
        else:
            names.append(", ".join(p for p in (person.get("family-names"), person.get("given-names")) if p))
    return names


def protect_case(title: str) -> str:
    """Brace the words BibTeX styles must not lower-case (JAX, PyTorch, JVPs)."""
    return re.sub(r"\b(\w*[A-Z]\w*[A-Z]\w*|[A-Z]{2,}\w*)\b", r"{\1}", title)


def release_date(cff: dict[str, Any]) -> dt.date:
    value = cff["date-released"]
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def bibtex(cff: dict[str, Any], version: str) -> str:
    authors = " and ".join(
        f"{{{name}}}" if "," not in name else name for name in author_names(cff)
    )
    fields = [
        ("title", protect_case(cff["title"])),
        ("author", authors),
        ("year", str(release_date(cff).year)),
        ("version", version),
        ("note", "Book and companion package \\texttt{jvp-vjp-companion}"),
    ]
    for key in ("doi", "url"):
        if cff.get(key):
            fields.append((key, str(cff[key])))
    if cff.get("repository-code") and not cff.get("url"):
        fields.append(("url", str(cff["repository-code"])))
    width = max(len(key) for key, _ in fields)
    indent = " " * (width + 6)  # a long value goes on under its first character
    body = ",\n".join(
        textwrap.fill(f"  {key:<{width}} = {{{value}}}", 88, subsequent_indent=indent,
                      break_long_words=False, break_on_hyphens=False)
        for key, value in fields)
    return f"@book{{{BIBTEX_KEY},\n{body},\n}}"


def sentence(cff: dict[str, Any], version: str) -> str:
    date = release_date(cff)
    return (f"{' and '.join(author_names(cff))} ({date.year}). {cff['title']}, "
            f"version {version}, released {date.isoformat()}.")


class BookCitation(SphinxDirective):
    has_content = False
    option_spec = {"format": lambda arg: directives.choice(arg, ("bibtex", "text"))}

    def run(self) -> list[nodes.Node]:
        path = Path(self.config.citation_cff_path)
        self.env.note_dependency(str(path))
        cff = read_cff(path)
        version = self.config.release
        if self.options.get("format", "bibtex") == "text":
            return [nodes.paragraph("", sentence(cff, version), classes=["book-citation"])]
        text = bibtex(cff, version)
        block = nodes.literal_block(text, text, classes=["book-citation"])
        block["language"] = "bibtex"
        return [block]


def check_versions(app: Sphinx, config: Any) -> None:
    if not config.citation_cff_path:
        config.citation_cff_path = str(Path(app.confdir) / CFF_NAME)
    cff_version = str(read_cff(config.citation_cff_path).get("version"))
    if cff_version != config.release:
        logger.warning(
            f"{CFF_NAME} says version {cff_version} but the book's release "
            f"(companion.__version__) is {config.release}: update {CFF_NAME}",
            type="citation", subtype="version",
        )


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("citation_cff_path", "", "env", types=frozenset({str}))
    app.add_directive("book-citation", BookCitation)
    app.connect("config-inited", check_versions)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
