"""Reading the pages the security checks look at: their forms and their inline code."""

from html.parser import HTMLParser
from urllib.parse import urljoin

from django.urls import reverse

from tests.security.inventory import admin_models


class _Forms(HTMLParser):
    """The POST forms of a page: (action, names of their inputs)."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str, set[str]]] = []
        self._current: tuple[str, set[str]] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self._current = (attrs.get("action") or "", set())
        elif self._current is not None and tag in ("input", "button", "select", "textarea"):
            self._current[1].add(attrs.get("name") or "")

    def handle_endtag(self, tag):
        if tag == "form" and self._current is not None:
            self.forms.append(self._current)
            self._current = None


def post_forms(page_url: str, html: str) -> list[tuple[str, set[str]]]:
    parser = _Forms()
    parser.feed(html)
    return [(urljoin(page_url, action or page_url), names) for action, names in parser.forms]


def staff_pages() -> list[str]:
    """The dashboard, the password form and every model's changelist, add, change and delete
    page (the world must hold a row of each)."""
    pages = ["/admin/", reverse("admin:password_change")]
    for model, _ in admin_models():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pk = model._base_manager.first().pk
        pages += [
            reverse(f"{prefix}_changelist"),
            reverse(f"{prefix}_add"),
            reverse(f"{prefix}_change", args=[pk]),
            reverse(f"{prefix}_delete", args=[pk]),
        ]
    return pages


# <script> types a browser does not run: data blocks.
DATA_SCRIPTS = {"application/json", "application/ld+json"}


class _InlineCode(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in attrs.items())}>"[:120]
        if tag == "script" and "src" not in attrs and (attrs.get("type") or "") not in DATA_SCRIPTS:
            self._in_script = True
        if tag == "style" or "style" in attrs:
            self.styles.append(where)
        for name, value in attrs.items():
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.scripts.append(where)

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.scripts.append(f"<script>{data.strip()[:80]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def inline_code(html: str) -> tuple[list[str], list[str]]:
    """(inline scripts and handlers, inline styles) in a page."""
    parser = _InlineCode()
    parser.feed(html)
    return parser.scripts, parser.styles
