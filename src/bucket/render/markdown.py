"""Markdown: the same view as the table, as GitHub-flavoured pipe tables."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bucket.errors import one_line

if TYPE_CHECKING:
    from bucket.render.views import View


# what a Markdown viewer would take for HTML: a tag's start ("<script", "</", "<!--") or an
# entity ("&lt;"); "0.13 < 0.15" and "R&D" stay as they are
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?\w+;)")


def _esc(text: str) -> str:
    """A cell as Markdown text: one printable line, its pipes and HTML (``<script>``, ``<img
    onerror>``: Markdown viewers render inline HTML) escaped."""
    text = _TAG.sub("&lt;", _ENTITY.sub("&amp;", one_line(text)))
    return text.replace("|", "\\|")


def to_markdown(view: View) -> str:
    out: list[str] = []
    for i, line in enumerate(view.headline):
        out.append(f"**{_esc(line)}**" if i == 0 else _esc(line))
        out.append("")
    for sec in view.sections:
        out.append(f"### {sec.title}")
        out.append("")
        out.append("| " + " | ".join(_esc(c) for c in sec.columns) + " |")
        aligns = [
            ("---:" if (sec.numeric[i] if i < len(sec.numeric) else False) else "---")
            for i in range(len(sec.columns))
        ]
        out.append("| " + " | ".join(aligns) + " |")
        for row in sec.rows:
            out.append("| " + " | ".join(_esc(c.text) for c in row) + " |")
        out.append("")
        if sec.note:
            out += [sec.note, ""]
    for line in view.footer:
        out += [f"_{_esc(line)}_", ""]
    return "\n".join(out).rstrip("\n") + "\n"
