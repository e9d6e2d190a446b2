"""Print what HTML hides on purpose, and leave out what HTML hides as clutter.

The book's solutions to exercises are ``{dropdown}`` blocks: closed by default in
HTML, so a reader tries the exercise first. In every builder but HTML this
post-transform turns each dropdown into an admonition with the dropdown's title,
so the printed book shows every solution, framed, under its title ("Solution").

Code cells tagged ``hide-input`` (set-up imports, the code that draws a diagram)
are collapsed in HTML; in print there is nothing to expand, so their source is
left out and only their output (the diagram) is printed. The downloadable
notebooks keep every cell.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform


class DropdownAsAdmonition(SphinxPostTransform):
    default_priority = 199  # where sphinx-design's own HTML transform runs

    def is_supported(self) -> bool:
        return self.app.builder.format != "html" and super().is_supported()

    def run(self, **kwargs: Any) -> None:
        for container in list(self.document.findall(nodes.container)):
            if container.get("design_component") != "dropdown":
                continue
            admonition = nodes.admonition(classes=["dropdown"], ids=list(container["ids"]))
            children = list(container.children)
            if container.get("has_title") and children and isinstance(children[0], nodes.rubric):
                admonition["ids"] += children[0]["ids"]
                admonition += nodes.title("", "", *children[0].children)
                children = children[1:]
            else:
                admonition += nodes.title("", "Details")
            admonition.extend(children)
            container.replace_self(admonition)


class HiddenInputsLeftOut(SphinxPostTransform):
    default_priority = 199

    def is_supported(self) -> bool:
        return self.app.builder.format != "html" and super().is_supported()

    def run(self, **kwargs: Any) -> None:
        for cell in list(self.document.findall(nodes.container)):
            if "cell" in cell["classes"] and "tag_hide-input" in cell["classes"]:
                for child in list(cell.children):
                    if isinstance(child, nodes.container) and "cell_input" in child["classes"]:
                        cell.remove(child)


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_post_transform(DropdownAsAdmonition)
    app.add_post_transform(HiddenInputsLeftOut)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
