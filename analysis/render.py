"""A report as a list of blocks, rendered to Markdown and to one self-contained HTML file."""

from __future__ import annotations

import base64
import html
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

WIDE = 1.8  # width / height beyond which a figure takes a row of its own
# The first screen (about 1400 x 900 px) holds the title, the answer and the headline figure.
_CSS = """body{font-family:system-ui,sans-serif;max-width:1240px;margin:1em auto;padding:0 1em;color:#222}
h1{font-size:24px;margin:.2em 0}.note{font-size:13px;color:#555;margin:.3em 0}
.lead{font-size:16.5px;line-height:1.45;margin:.5em 0}
table{border-collapse:collapse;font-size:13px;margin:.6em 0}td,th{border:1px solid #ccc;padding:3px 7px;
text-align:right}td{white-space:nowrap}th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee}
figure{display:inline-block;vertical-align:top;width:48%;margin:1em 1% 1em 0}figure.wide{width:auto;max-width:1000px}
figure.hero{display:block;width:auto;margin:.4em 0}figure.hero img{max-height:615px;width:auto}
figcaption{font-size:13px;color:#555}code{background:#f5f5f5;padding:0 3px}"""


@dataclass(frozen=True)
class Block:
    """One piece of a report: kind is 'h1', 'h2', 'p', 'lead' (the answer, a list of sentences),
    'note' (small print), 'ul', 'ol', 'table', 'figure' or 'hero' (the headline figure)."""

    kind: str
    content: object
    caption: str = ""


def _cell(v: object) -> str:
    if isinstance(v, (float, np.floating)):
        return "" if not np.isfinite(v) else f"{v:.4g}"
    return "" if v is None or v is pd.NA else str(v)


def _markdown_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(map(str, df.columns)) + " |"
    rule = "|" + "---|" * len(df.columns)
    body = [
        "| " + " | ".join(_cell(v).replace("|", "\\|") for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])


def to_markdown(blocks: list[Block], out_dir: Path) -> str:
    """Markdown with figures linked by path relative to `out_dir`."""
    parts = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            parts.append(("#" if b.kind == "h1" else "##") + f" {b.content}")
        elif b.kind in ("p", "note"):
            parts.append(str(b.content))
        elif b.kind == "lead":
            parts.append("**" + " ".join(b.content) + "**")
        elif b.kind in ("ul", "ol"):
            mark = (lambda i: f"{i}.") if b.kind == "ol" else (lambda i: "-")
            parts.append("\n".join(f"{mark(i)} {item}" for i, item in enumerate(b.content, 1)))
        elif b.kind == "table":
            parts.append((f"{b.caption}\n\n" if b.caption else "") + _markdown_table(b.content))
        elif b.kind in ("figure", "hero"):
            rel = Path(b.content).relative_to(out_dir)
            parts.append(
                f"![{rel.stem}]({rel.as_posix()})\n\n*{b.caption}* (data: `{rel.with_suffix('.csv')}`)"
            )
    return "\n\n".join(parts) + "\n"


def _html_table(df: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in df.itertuples(index=False)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _wide(png: bytes) -> bool:
    """A figure much wider than tall (heatmaps, per-language bars) takes the page's width; others
    sit two to a row. Width and height are the PNG header's."""
    width, height = struct.unpack(">II", png[16:24])
    return width > WIDE * height


def to_html(blocks: list[Block], title: str) -> str:
    """One HTML page with every figure embedded as base64 PNG (opens offline, mails as one file)."""
    parts = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            parts.append(f"<{b.kind}>{html.escape(str(b.content))}</{b.kind}>")
        elif b.kind in ("p", "note"):
            cls = ' class="note"' if b.kind == "note" else ""
            parts.append(f"<p{cls}>{html.escape(str(b.content))}</p>")
        elif b.kind == "lead":
            parts.append(f'<p class="lead">{html.escape(" ".join(b.content))}</p>')
        elif b.kind in ("ul", "ol"):
            items = "".join(f"<li>{html.escape(str(i))}</li>" for i in b.content)
            parts.append(f"<{b.kind}>{items}</{b.kind}>")
        elif b.kind == "table":
            cap = f"<p>{html.escape(b.caption)}</p>" if b.caption else ""
            parts.append(cap + _html_table(b.content))
        elif b.kind in ("figure", "hero"):
            png = Path(b.content).read_bytes()
            data = base64.b64encode(png).decode("ascii")
            cls = ' class="hero"' if b.kind == "hero" else ' class="wide"' if _wide(png) else ""
            parts.append(f'<figure{cls}><img src="data:image/png;base64,{data}" alt="{Path(b.content).stem}">'
                         f"<figcaption>{html.escape(b.caption)}</figcaption></figure>")  # fmt: skip
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")  # fmt: skip
