"""markdown-it-py, which renders campaign emails, under Pyodide as the Worker vendors it.

The parser `mail/campaigns.py` builds (CommonMark, raw HTML off) on a body with the Markdown
operators write, typed HTML and a script link.
"""

from __future__ import annotations

from markdown_it import MarkdownIt
from runner import case


@case
async def markdown_it_renders_commonmark_and_escapes_typed_html() -> None:
    parser = MarkdownIt("commonmark", {"html": False})
    html = parser.render(
        "# News\n\n**Stems** <script>x()</script> [go](https://example.com/?a=1&b=2)"
        " [bad](javascript:x())\n\n- one\n- two\n"
    )
    assert html.startswith("<h1>News</h1>\n<p><strong>Stems</strong> &lt;script&gt;"), html
    assert '<a href="https://example.com/?a=1&amp;b=2">go</a>' in html, html
    assert 'href="javascript' not in html, html
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in html, html
