"""The mail's body text: its text/plain parts, else its HTML parts made text."""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_HTML_INPUT_CAP = 4 * 1024 * 1024


class _HTMLText(HTMLParser):
    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
              "blockquote", "pre", "section", "article", "header", "footer", "ul", "ol"}
    _SKIP = {"script", "style", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self._SKIP:
            self.skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    p = _HTMLText()
    try:
        p.feed(markup[:_HTML_INPUT_CAP])
        p.close()
    except Exception:  # html.parser is lenient; this is belt and braces
        return html.unescape(re.sub(r"<[^>]*>", " ", markup[:_HTML_INPUT_CAP]))
    text = "".join(p.parts).replace("\u00a0", " ").replace("\r", "\n")
    # Line by line: a regex spanning "spaces then newline" backtracks quadratically.
    lines = [re.sub(r"[ \t\f\v]{2,}", " ", line).strip() for line in text.split("\n")]
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return text.strip()


def body_text(plain: list[str], html_parts: list[str], max_chars: int) -> str:
    """The text/plain parts joined, else the HTML parts as text; newlines normalised, capped."""
    text = "\n".join(t for t in plain if t)
    if text.strip():
        body = text
    else:
        body = "\n".join(html_to_text(h) for h in html_parts if h)
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(body) > max_chars:
        body = body[:max_chars]
    return body
