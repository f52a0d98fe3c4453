"""Markdown in what staff write for the public (incident updates, postmortems, maintenance).

One place turns it into HTML and one into plain text, for every page, mail, feed and channel:

- `render_markdown(text)` -> HTML for the pages, the HTML mails, the feeds and the JSON's
  `*_html` fields. markdown-it-py parses CommonMark (plus tables and strikethrough) with raw
  HTML off, so a `<script>` someone types shows as text; nh3 (ammonia) then keeps only the
  tags and attributes below, links to http, https and mailto, and marks every link
  rel="nofollow noopener". Two layers on purpose: the parser is not a sanitiser, and the
  sanitiser is what a feed reader or a mail client relies on whatever the parser let through.
- `markdown_to_text(text)` -> plain text for the text mails, SMS, chat and webhooks: the
  words as written, a link as "words (address)", list items as "- ".

An image is shown as a link to it: a status page loads nothing from elsewhere (no tracking pixel, no
mixed content) and is read when things are broken. Headings move down two levels (# is <h3>),
so an update never competes with the page's own titles.

Both are cached per process by text (texts up to CACHED_UP_TO): the page cache turns over at
every change, and the same bodies are rendered again each time, so a big page costs its first
render once.
"""

from functools import lru_cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

from core.text import clean_text

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"
# Table alignment is the only style markdown-it writes; nothing else may style the page.
ALLOWED_STYLES = frozenset({"text-align"})
CACHE_SIZE = 4096
# Longer texts (a long postmortem) are rendered each time rather than kept: the cache's memory
# stays bounded by CACHE_SIZE × this, whatever staff write.
CACHED_UP_TO = 16 * 1024


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])

    def image(self, tokens, idx, options, env):
        # Shown as a link to the picture: the page loads nothing from elsewhere.
        token = tokens[idx]
        words = escapeHtml(self.renderInlineAsText(token.children or [], options, env) or "image")
        return f'<a href="{escapeHtml(token.attrGet("src") or "")}">{words}</a>'

    def heading_open(self, tokens, idx, options, env):
        token = tokens[idx]
        token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
        return self.renderToken(tokens, idx, options, env)

    def heading_close(self, tokens, idx, options, env):
        token = tokens[idx]
        token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
        return self.renderToken(tokens, idx, options, env)

    md.add_render_rule("image", image)
    md.add_render_rule("heading_open", heading_open)
    md.add_render_rule("heading_close", heading_close)
    return md


_md = _parser()


def sanitize_html(html: str) -> str:
    """What may reach a page, a mail or a feed reader, whatever produced `html`."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        filter_style_properties=set(ALLOWED_STYLES),
        strip_comments=True,
    )


@lru_cache(maxsize=CACHE_SIZE)
def _render(text: str) -> str:
    return sanitize_html(_md.render(clean_text(text)))


def render_markdown(text: str | None) -> SafeString:
    """Staff's Markdown as sanitised HTML, safe to put in a page as it is."""
    if not text:
        return mark_safe("")
    text = str(text)
    render = _render if len(text) <= CACHED_UP_TO else _render.__wrapped__
    # Safe because nh3 (sanitize_html) is the last step of every render.
    return mark_safe(render(text))


def _inline_text(token) -> str:
    parts: list[str] = []
    href = None
    link_words: list[str] = []
    for child in token.children or []:
        kind = child.type
        if kind == "link_open":
            href = child.attrGet("href") or ""
            link_words = []
            continue
        if kind == "link_close":
            words = "".join(link_words)
            same = href in (words, f"mailto:{words}")
            parts.append(words if same or not href else f"{words} ({href})")
            href = None
            continue
        if kind in ("softbreak", "hardbreak"):
            piece = "\n"
        elif kind in ("text", "code_inline", "html_inline"):
            piece = child.content
        elif kind == "image":
            piece = f"{child.content} ({child.attrGet('src')})"
        else:
            piece = ""
        (link_words if href is not None else parts).append(piece)
    return "".join(parts)


@lru_cache(maxsize=CACHE_SIZE)
def _to_text(text: str) -> str:
    blocks: list[str] = []
    prefixes: list[str] = []  # one per open list ("- " or "#" for numbered) or quote ("> ")
    numbers: list[int] = []
    row: list[str] | None = None  # the cells of the table row being read
    in_table = False
    item_start = False
    for token in _md.parse(clean_text(text)):
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            prefixes.append({"bullet_list_open": "- ", "ordered_list_open": "#"}.get(kind, "> "))
            numbers.append(int(token.attrGet("start") or 1) - 1 if kind == "ordered_list_open" else 0)
        elif kind in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            prefixes.pop()
            numbers.pop()
        elif kind == "list_item_open":
            item_start = True
            if prefixes[-1] == "#":
                numbers[-1] += 1
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close":
            line = " | ".join(row or [])
            # A table's rows stay on consecutive lines.
            if in_table:
                blocks[-1] += "\n" + line
            else:
                blocks.append(line)
            row, in_table = None, True
        elif kind == "table_close":
            in_table = False
        elif kind == "inline" and row is not None:
            row.append(_inline_text(token))
        elif kind in ("inline", "fence", "code_block"):
            body = _inline_text(token) if kind == "inline" else token.content.rstrip("\n")
            if item_start and prefixes:
                marker = f"{numbers[-1]}. " if prefixes[-1] == "#" else prefixes[-1]
                indent = "  " * (len(prefixes) - 1)
                body = indent + marker + body.replace("\n", "\n" + indent + " " * len(marker))
                item_start = False
            elif "> " in prefixes:
                body = "\n".join("> " + line for line in body.split("\n"))
            blocks.append(body)
        elif kind == "hr":
            blocks.append("---")
    return _join(blocks).strip()


def _join(blocks: list[str]) -> str:
    # List items stay on consecutive lines; other blocks are separated by an empty line.
    out: list[str] = []
    for block in blocks:
        if out and _is_item(block) and _is_item(out[-1].rsplit("\n", 1)[-1]):
            out[-1] += "\n" + block
        else:
            out.append(block)
    return "\n\n".join(b for b in out if b != "")


def _is_item(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith("- ") or (stripped[:1].isdigit() and ". " in stripped[:6])


def markdown_to_text(text: str | None) -> str:
    """Staff's Markdown as plain text: for text mails, SMS and chat, where markup is noise."""
    if not text:
        return ""
    text = str(text)
    return (_to_text if len(text) <= CACHED_UP_TO else _to_text.__wrapped__)(text)
