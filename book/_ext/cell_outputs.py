"""Tidy the outputs of executed cells for readers and for the printed book.

Two post-transforms on the outputs of code cells:

* ``TidyPaths`` (every builder) shortens the file paths of the machine that
  built the book in tracebacks and reprs: the repository's root becomes a
  relative path (``companion/torch.py``) and an installed package's location
  starts at ``site-packages/``. Readers see where an error comes from, not
  where the build ran.
* ``StripControlCharacters`` (every builder but HTML) removes ANSI escape
  sequences (colours of tracebacks, warnings, progress bars) and other control
  characters. In HTML they become colours; in LaTeX an escape character is an
  error ("Text line contains an invalid character").
"""

from __future__ import annotations

import re
import sys
import sysconfig
from pathlib import Path
from typing import Any, Callable

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

# CSI sequences (colours, cursor moves), OSC sequences (hyperlinks, titles), lone ESC pairs.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
# Other C0 controls and DEL; keep tab and newline. A carriage return is handled apart.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Any absolute path into an installed package: keep from site-packages/ on.
SITE_PACKAGES = re.compile(r"(?<![\w.])/(?:[^\s/'\"]+/)*?((?:site|dist)-packages/)")


def strip_control(text: str) -> str:
    r"""Text without ANSI escapes or control characters.

    >>> strip_control("\x1b[0;31mValueError\x1b[0m: bad\r\n")
    'ValueError: bad\n'
    >>> strip_control("10%\r50%\r100%")
    '100%'
    """
    text = ANSI.sub("", text).replace("\r\n", "\n")
    # What a terminal finally shows after carriage returns (progress bars).
    text = "\n".join(line.rsplit("\r", 1)[-1] for line in text.split("\n"))
    return CONTROL.sub("", text)


def path_tidier(root: Path) -> Callable[[str], str]:
    """A function that shortens this machine's paths in a text."""
    prefixes = sorted({str(root.resolve()) + "/", str(root) + "/"}, key=len, reverse=True)
    stdlib = sysconfig.get_paths()["stdlib"].rstrip("/") + "/"
    python = f"python{sys.version_info.major}.{sys.version_info.minor}/"

    def tidy(text: str) -> str:
        text = SITE_PACKAGES.sub(r"\1", text)
        for prefix in prefixes:
            text = text.replace(prefix, "")
        return text.replace(stdlib, python)

    return tidy


def _cell_outputs(document: nodes.document) -> list[nodes.Element]:
    return [node for node in document.findall(nodes.Element)
            if "cell_output" in node.get("classes", [])]


def _rewrite(roots: list[nodes.Element], change: Callable[[str], str]) -> None:
    """Apply ``change`` to the text under ``roots``, keeping literal blocks' rawsource in step."""
    for root in roots:
        for text in list(root.findall(nodes.Text)):
            new = change(str(text))
            if new != str(text):
                text.parent.replace(text, nodes.Text(new))
        for block in root.findall(nodes.literal_block):
            if block.rawsource:
                block.rawsource = change(block.rawsource)


class TidyPaths(SphinxPostTransform):
    default_priority = 100  # before syntax highlighting sees the text

    def run(self, **kwargs: Any) -> None:
        outputs = _cell_outputs(self.document)
        if outputs:
            _rewrite(outputs, path_tidier(Path(self.config.cell_outputs_root)))


class StripControlCharacters(SphinxPostTransform):
    default_priority = 101

    def is_supported(self) -> bool:
        return self.app.builder.format != "html" and super().is_supported()

    def run(self, **kwargs: Any) -> None:
        _rewrite([self.document], strip_control)


def setup(app: Sphinx) -> dict[str, Any]:
    # Paths under this directory are shown relative to it (default: the conf.py directory).
    app.add_config_value("cell_outputs_root", "", "env", types=frozenset({str}))
    app.connect("config-inited", lambda app, config: config.cell_outputs_root
                or setattr(config, "cell_outputs_root", str(app.confdir)))
    app.add_post_transform(TidyPaths)
    app.add_post_transform(StripControlCharacters)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
