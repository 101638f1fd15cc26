"""The HTML alternative of an email, made from its plain text so both always say the same.

Paragraphs are the text's blank-line-separated blocks; a block that is only a link becomes a
button, links inside a block become anchors. Everything else is escaped. The layout
(`templates/mail/layout.html`) uses inline styles only, as mail clients drop style sheets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "web" / "templates"
URL = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)]")
LINK = Markup('<a href="{0}" style="color:#6d28d9">{0}</a>')

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Block:
    """A paragraph of the text, or a lone link drawn as a button."""

    html: Markup
    button: str = ""


def blocks_of(text: str) -> list[Block]:
    blocks = []
    for part in re.split(r"\n\s*\n", text.strip()):
        lone = URL.fullmatch(part.strip())
        if lone:
            blocks.append(Block(html=Markup(""), button=lone.group(0)))
        else:
            blocks.append(Block(html=_linked(part)))
    return blocks


def render_html(*, text: str, subject: str, language: str, site: str) -> str:
    """The email's HTML document in `language`, with the same words as `text`."""
    return render_mail(
        "mail/layout.html", blocks=blocks_of(text), subject=subject, language=language, site=site
    )


def render_mail(template: str, **context: object) -> str:
    """A template of `templates/mail/` (inline styles only, autoescaped) filled with `context`."""
    return _environment.get_template(template).render(**context)


def _linked(part: str) -> Markup:
    pieces: list[Markup] = []
    last = 0
    for match in URL.finditer(part):
        pieces.append(escape(part[last : match.start()]))
        pieces.append(LINK.format(match.group(0)))
        last = match.end()
    pieces.append(escape(part[last:]))
    return Markup("<br>\n").join(Markup("").join(pieces).split("\n"))
