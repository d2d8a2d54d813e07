"""Markdown written by users (a repository's overview), rendered to HTML that is safe to embed.

Rendering and sanitising are separate steps on purpose: `markdown` passes raw HTML through, so
its output is never trusted. `bleach` then keeps only an allow-list of tags and attributes,
drops every link scheme but http, https and mailto, and marks links rel="nofollow noopener"
so user content neither gains search ranking nor reaches `window.opener`.
"""
import re
from functools import partial

import bleach
import markdown as markdown_lib
from bleach.linkifier import LinkifyFilter

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "abbr": ["title"],
    "img": ["src", "alt", "title", "width", "height"],
    "td": ["align", "colspan", "rowspan"],
    "th": ["align", "colspan", "rowspan", "scope"],
    # fenced_code marks the language as class="language-xyz"; harmless, and syntax highlighters use it.
    "code": ["class"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
EXTENSIONS = ["tables", "fenced_code", "sane_lists"]
LINK_REL = "nofollow noopener"
# Elements whose text is code, not prose: bleach would strip the tags but keep their text.
_SCRIPT_CONTENT = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def _set_rel(attrs, new=False):
    """bleach linkify callback: every link, written or auto-linked, gets our `rel`."""
    attrs[(None, "rel")] = LINK_REL
    return attrs


def _cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})],
    )


def render_markdown(text: str | None) -> str:
    """Markdown (tables, fenced code) as sanitised HTML; an empty string for empty input."""
    if not text:
        return ""
    html = markdown_lib.markdown(text, extensions=EXTENSIONS, output_format="html")
    return _cleaner().clean(_SCRIPT_CONTENT.sub("", html))
