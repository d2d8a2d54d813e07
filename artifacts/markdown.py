"""Markdown written by users (a repository's overview), rendered to HTML that is safe to embed.

Rendering and sanitising are separate steps on purpose: `markdown` passes raw HTML through, so
its output is never trusted. `bleach` then keeps only an allow-list of tags and attributes,
drops every link scheme but http, https and mailto, and marks links rel="nofollow noopener"
so user content neither gains search ranking nor reaches `window.opener`.
"""
import re
from functools import partial
from typing import TYPE_CHECKING

import markdown as markdown_lib
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor

if TYPE_CHECKING:
    import bleach

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
# What bleach leaves of a refused link or image: an <a> without href reads as text; an <img> whose
# src was refused (or relative) would show a broken-image box. Both go (the link keeps its text).
_LINK_WITHOUT_HREF = re.compile(r"<a(?![^>]*\shref=)[^>]*>(.*?)</a>", re.DOTALL)
_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


def _image_attribute(tag: str, name: str, value: str) -> bool:
    """An image's src must be an absolute http(s) URL: a relative one ("x") only shows a broken image."""
    if name == "src":
        return value.lower().startswith(("https://", "http://"))
    return name in ALLOWED_ATTRIBUTES["img"]


class _RefusedLinkProcessor(InlineProcessor):
    """`[text](javascript:…)` and `![alt](data:…)`: a destination with a scheme bleach would refuse.

    Markdown stops such a destination at the first quote or space (`alert("x")` becomes a title and
    leaves a stray ")"), so these are consumed here up to the balancing parenthesis and rendered
    as their text alone (a link) or nothing (an image)."""

    def handleMatch(self, m, data):  # noqa: N802 (Markdown's API)
        depth, index = 1, m.end(0)
        while index < len(data) and depth:
            depth += {"(": 1, ")": -1}.get(data[index], 0)
            index += 1
        if depth:
            return None, None, None
        return ("" if m.group(1) else m.group(2)), m.start(0), index


class _RefusedLinks(Extension):
    def extendMarkdown(self, md):  # noqa: N802 (Markdown's API)
        scheme = r"(?!(?:https?|mailto):)[A-Za-z][A-Za-z0-9+.\-]*:"
        md.inlinePatterns.register(_RefusedLinkProcessor(r"(!?)\[([^\]]*)\]\(\s*<?" + scheme, md), "refused_link", 175)


def _set_rel(attrs, new=False):
    """bleach linkify callback: every link, written or auto-linked, gets our `rel`."""
    attrs[(None, "rel")] = LINK_REL
    return attrs


def _cleaner() -> "bleach.Cleaner":
    # Imported on the first rendering, not when a worker starts: bleach (with its vendored
    # html5lib) is ~1.5 MB of a worker's memory that only overview pages use.
    import bleach
    from bleach.linkifier import LinkifyFilter

    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes={**ALLOWED_ATTRIBUTES, "img": _image_attribute},
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})],
    )


def render_markdown(text: str | None) -> str:
    """Markdown (tables, fenced code) as sanitised HTML; an empty string for empty input."""
    if not text:
        return ""
    html = markdown_lib.markdown(text, extensions=[*EXTENSIONS, _RefusedLinks()], output_format="html")
    cleaned = _cleaner().clean(_SCRIPT_CONTENT.sub("", html))
    return _IMG_WITHOUT_SRC.sub("", _LINK_WITHOUT_HREF.sub(r"\1", cleaned))
