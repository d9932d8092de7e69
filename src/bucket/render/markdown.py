"""Markdown: the same view as the table, as GitHub-flavoured pipe tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bucket.render.views import View


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


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
