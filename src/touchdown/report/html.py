"""A self-contained HTML page: figures embedded as PNG data URIs, inline CSS, no script, no network.

The page is built from sections of already-escaped HTML fragments; :func:`figure` turns a matplotlib
``Figure`` into an ``<img>`` with its caption, :func:`table` renders rows of cells (escaped here).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from touchdown.errors import InputError

T = TypeVar("T")

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d232a;
       max-width: 1180px; margin: 0 auto; padding: 0 24px 48px; background: #fbfbfa; }
header { border-bottom: 1px solid #d8dde3; margin-bottom: 12px; }
h1 { font-size: 26px; margin: 22px 0 2px; }
h2 { font-size: 19px; margin: 30px 0 8px; border-bottom: 1px solid #e3e6ea; padding-bottom: 3px; }
.sub { color: #59636e; margin: 0 0 10px; }
.verdict { display: inline-block; padding: 6px 14px; border-radius: 6px; font-weight: 700; font-size: 18px;
           margin: 6px 0 10px; }
.good { background: #dcefd6; color: #1f5a17; } .warn { background: #fde7cf; color: #7a4100; }
.bad { background: #f6dede; color: #8a1414; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0 4px; }
.card { background: #fff; border: 1px solid #e0e4e8; border-radius: 6px; padding: 8px 12px;
        min-width: 150px; }
.card b { display: block; font-size: 20px; } .card span { color: #59636e; font-size: 13px; }
figure { margin: 14px 0; background: #fff; border: 1px solid #e0e4e8; border-radius: 6px; padding: 8px; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: #3b444e; font-size: 13.5px; margin-top: 6px; }
table { border-collapse: collapse; margin: 8px 0 12px; background: #fff; font-size: 13.5px; }
th, td { border: 1px solid #e0e4e8; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.cmd { font-family: ui-monospace, monospace; font-size: 12px; white-space: nowrap; }
.scroll { overflow-x: auto; }
td.ok { color: #1f5a17; font-weight: 600; } td.no { color: #8a1414; font-weight: 700; }
pre { background: #f4f5f6; border: 1px solid #e0e4e8; border-radius: 6px; padding: 10px; overflow-x: auto;
      font-size: 12.5px; line-height: 1.35; }
code { font-size: 12.5px; background: #f1f3f5; padding: 1px 4px; border-radius: 3px; }
footer { margin-top: 36px; color: #59636e; font-size: 12.5px; }
"""


def unreadable_as_input_error(read: Callable[[Path], T], directory: Path) -> T:
    """``read(directory)``, with a corrupt or incomplete results file reported as one InputError line."""
    try:
        return read(directory)
    except (ValueError, KeyError, OSError) as exc:  # JSON, Parquet (ArrowInvalid) and missing fields
        raise InputError(f"unreadable results: {type(exc).__name__}: {exc}", where=str(directory)) from exc


def esc(value: Any) -> str:
    """``value`` as text, HTML-escaped."""
    return html.escape(str(value), quote=True)


def figure(fig: Any, fig_id: str, caption: str, dpi: int = 100) -> str:
    """``<figure>`` holding the matplotlib figure as an embedded PNG (``id`` and ``alt`` for tests)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (
        f'<figure id="{esc(fig_id)}"><img src="data:image/png;base64,{data}" alt="{esc(caption)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def table(header: Sequence[str], rows: Iterable[Sequence[Any]], table_id: str | None = None) -> str:
    """An HTML table; cells are escaped, numbers right-aligned; a cell ``("text", "css-class")`` is styled."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            cls = ""
            if isinstance(cell, tuple):
                cell, cls = cell
            elif isinstance(cell, int | float):
                cls = "num"
            cells.append(f'<td class="{cls}">{esc(cell)}</td>' if cls else f"<td>{esc(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    attr = f' id="{esc(table_id)}"' if table_id else ""
    return (
        f"<div class='scroll'><table{attr}><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def cards(items: Iterable[tuple[str, str]]) -> str:
    """Key figures as a row of cards: (value, what it is)."""
    inner = "".join(f'<div class="card"><b>{esc(v)}</b><span>{esc(k)}</span></div>' for v, k in items)
    return f'<div class="cards">{inner}</div>'


def pre(text: str) -> str:
    return f"<pre>{esc(text)}</pre>"


@dataclass
class Page:
    """An HTML report page: title, a subtitle line, then sections in order."""

    title: str
    subtitle: str = ""
    sections: list[tuple[str, str, str]] = field(default_factory=list)  # (id, heading, html)
    header_html: str = ""
    footer: str = ""

    def section(self, section_id: str, heading: str, *parts: str) -> None:
        self.sections.append((section_id, heading, "".join(parts)))

    def render(self) -> str:
        body = [
            f"<header><h1>{esc(self.title)}</h1><p class='sub'>{esc(self.subtitle)}</p>"
            f"{self.header_html}</header>"
        ]
        for sid, heading, content in self.sections:
            body.append(f'<section id="{esc(sid)}"><h2>{esc(heading)}</h2>{content}</section>')
        if self.footer:
            body.append(f"<footer>{esc(self.footer)}</footer>")
        return (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<link rel='icon' href='data:,'>"
            f"<title>{esc(self.title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body)
            + "</body></html>\n"
        )
