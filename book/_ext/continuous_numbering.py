"""Number chapters continuously across the book's parts, as LaTeX does.

The root document has one numbered toctree whose entries are the parts; each
part's index page has a toctree of chapters. Sphinx would number them
"part.chapter" (1.1, 1.2, 2.1, ...), while the PDF numbers chapters 1, 2, 3, ...
across parts. After Sphinx assigns section numbers we drop the part level: part
pages get no number and chapter k of a part gets number (chapters before) + k.
Equation and figure numbers are derived from these, so "Eq. (4.3)" is the same
in HTML and in the PDF.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.environment.collectors.toctree import TocTreeCollector


def _part_docs(env: Any) -> list[str]:
    root = env.get_doctree(env.config.root_doc)
    parts: list[str] = []
    for toctree in root.findall(addnodes.toctree):
        if toctree.get("numbered"):
            parts.extend(ref for _title, ref in toctree["entries"] if ref in env.tocs)
    return parts


def _renumber(env: Any) -> None:
    parts = _part_docs(env)
    shift: dict[int, int] = {}
    done = 0
    for index, part in enumerate(parts, start=1):
        shift[index] = done
        chapters = {num[1] for doc, nums in env.toc_secnumbers.items()
                    for num in nums.values() if doc not in parts and len(num) > 1 and num[0] == index}
        done += max(chapters, default=0)

    def new(number: Any) -> Any:
        if not number or len(number) < 2 or number[0] not in shift:
            return None
        return (number[1] + shift[number[0]], *number[2:])

    for doc, nums in env.toc_secnumbers.items():
        if doc in parts:
            env.toc_secnumbers[doc] = {}
        else:
            env.toc_secnumbers[doc] = {a: n for a, n in ((a, new(n)) for a, n in nums.items()) if n}
    for doc, toc in env.tocs.items():
        for ref in toc.findall(nodes.reference):
            if ref.get("secnumber"):
                ref["secnumber"] = list(new(tuple(ref["secnumber"])) or []) or None
    for doc, title in env.titles.items():
        if title.get("secnumber"):
            title["secnumber"] = list(new(tuple(title["secnumber"])) or []) or None


_original = TocTreeCollector.assign_section_numbers


def assign_section_numbers(self: TocTreeCollector, env: Any) -> list[str]:
    changed = _original(self, env)
    _renumber(env)
    return changed


def setup(app: Any) -> dict[str, Any]:
    TocTreeCollector.assign_section_numbers = assign_section_numbers  # type: ignore[method-assign]
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
