"""What the status page's branding accepts (docs/status-page.md, "Branding").

Every check refuses; nothing is rewritten behind the staff member's back. The page's
Content-Security-Policy stays as strict as without branding: the colour and the custom CSS are
served as a stylesheet file of their own, uploaded pictures as files with a fixed content type.

- Pictures: PNG or JPEG (the favicon may also be an ICO), checked by decoding them with Pillow,
  never by their name or the browser's content type. SVG is refused: it can carry script, and a
  sanitiser is one more parser to get right.
- Custom CSS: plain CSS only. It is served as text/css from its own URL, so `</style>` cannot end
  a style element; it is refused anyway, with any `<`, because the same text is also written to
  the static copy and read by people. Refused as well: `@import` (the CSP would block a remote
  one, and a local one is pointless), `url()` of anything but a same-site path or a data: image,
  `expression(`, `behavior:`, `-moz-binding` and `javascript:` (old browsers' script hooks), and
  backslash escapes, which could spell any of these another way.
"""

import io
import re

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

ACCENT_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_MAX_BYTES = 512 * 1024
FAVICON_MAX_BYTES = 100 * 1024
LOGO_MAX_SIDE = 2000
FAVICON_MAX_SIDE = 512
CSS_MAX_BYTES = 20 * 1024
FOOTER_LINKS_MAX = 5
FOOTER_LABEL_MAX = 60
FOOTER_URL_MAX = 500
# Pillow's format name -> (file extension, the Content-Type it is served with)
IMAGE_TYPES = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "ICO": ("ico", "image/x-icon"),
}
LOGO_FORMATS = ("PNG", "JPEG")
FAVICON_FORMATS = ("PNG", "ICO")

_COMMENT = re.compile(r"/\*.*?(\*/|$)", re.DOTALL)
_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_FORBIDDEN_CSS = {
    "@import": "@import is not allowed: put the rules themselves in the custom CSS.",
    "expression(": "expression() is not allowed (it runs script in old browsers).",
    "javascript:": "javascript: URLs are not allowed.",
    "behavior:": "behavior: is not allowed (it runs script in old browsers).",
    "-moz-binding": "-moz-binding is not allowed (it runs script in old browsers).",
}


def validate_accent(value: str) -> None:
    if value and not ACCENT_PATTERN.match(value):
        raise ValidationError("Give the accent colour as #rrggbb, for example #0a7c66.", code="accent")


def validate_css(value: str) -> None:
    if not value:
        return
    if len(value.encode()) > CSS_MAX_BYTES:
        raise ValidationError(f"The custom CSS is limited to {CSS_MAX_BYTES // 1024} KB.", code="css_size")
    if "<" in value:
        raise ValidationError("The custom CSS may not contain '<' (no HTML, no </style>).", code="css_html")
    if "\\" in value:
        raise ValidationError("The custom CSS may not contain backslash escapes.", code="css_escape")
    if _CONTROL.search(value):
        raise ValidationError("The custom CSS may not contain control characters.", code="css_control")
    # Comments could split a keyword (expr/**/ession): look at the text without them.
    text = _COMMENT.sub("", value)
    squeezed = re.sub(r"\s+", "", text).lower()
    for needle, message in _FORBIDDEN_CSS.items():
        if needle in squeezed:
            raise ValidationError(message, code="css_forbidden")
    for _quote, target in _URL.findall(text):
        target = target.strip()
        same_site = target.startswith("/") and not target.startswith("//")
        if not (same_site or target.lower().startswith("data:image/")):
            raise ValidationError(
                f"url({target[:60]}) is not allowed: only paths on this site (/...) or data:image/ URLs.",
                code="css_url",
            )


def validate_footer_links(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError('Footer links are a list: [{"label": "...", "url": "https://..."}].')
    if len(value) > FOOTER_LINKS_MAX:
        raise ValidationError(f"At most {FOOTER_LINKS_MAX} footer links.", code="footer_count")
    check_url = URLValidator(schemes=["http", "https"])
    for number, link in enumerate(value, start=1):
        if not isinstance(link, dict) or set(link) != {"label", "url"}:
            raise ValidationError(
                f'Footer link {number}: give exactly "label" and "url".', code="footer_shape"
            )
        label, url = link["label"], link["url"]
        if not isinstance(label, str) or not label.strip() or len(label) > FOOTER_LABEL_MAX:
            raise ValidationError(
                f"Footer link {number}: the label is 1 to {FOOTER_LABEL_MAX} characters.", code="footer_label"
            )
        if _CONTROL.search(label) or "\n" in label:
            raise ValidationError(f"Footer link {number}: the label is one line.", code="footer_label")
        if not isinstance(url, str) or len(url) > FOOTER_URL_MAX:
            raise ValidationError(f"Footer link {number}: the URL is too long.", code="footer_url")
        try:
            check_url(url)
        except ValidationError:
            raise ValidationError(
                f"Footer link {number}: give an http:// or https:// URL.", code="footer_url"
            ) from None
        if "@" in url.split("/", 3)[2]:
            raise ValidationError(f"Footer link {number}: no user:password@ in the URL.", code="footer_url")


def image_kind(content: bytes, *, formats: tuple[str, ...], max_bytes: int, max_side: int) -> str:
    """The Pillow format of an uploaded picture, or ValidationError saying what is wrong."""
    from PIL import Image, UnidentifiedImageError

    allowed = " or ".join(formats)
    if len(content) > max_bytes:
        raise ValidationError(f"The picture is limited to {max_bytes // 1024} KB.", code="image_size")
    if content.lstrip()[:5].lower() in (b"<?xml", b"<svg ") or b"<svg" in content[:1024].lower():
        raise ValidationError(
            f"SVG is not accepted (it can carry script): upload {allowed}.", code="image_svg"
        )
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind = image.format
            width, height = image.size
            # Sizes come from the header: refuse a huge canvas before anything decodes it.
            if kind in formats and max(width, height) <= max_side:
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(f"This file is not a readable {allowed} picture.", code="image_type") from None
    if kind not in formats:
        raise ValidationError(f"Upload {allowed} (this file is {kind}).", code="image_type")
    if max(width, height) > max_side:
        raise ValidationError(
            f"The picture is {width}x{height}; at most {max_side} pixels a side.", code="image_side"
        )
    return kind


def _check_upload(upload, *, formats: tuple[str, ...], max_bytes: int, max_side: int) -> None:
    if getattr(upload, "_committed", False):
        return  # a file already stored (a form saving the row again) was checked when uploaded
    if (getattr(upload, "size", None) or 0) > max_bytes:
        raise ValidationError(f"The picture is limited to {max_bytes // 1024} KB.", code="image_size")
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    image_kind(content, formats=formats, max_bytes=max_bytes, max_side=max_side)


def validate_logo_file(upload) -> None:
    _check_upload(upload, formats=LOGO_FORMATS, max_bytes=LOGO_MAX_BYTES, max_side=LOGO_MAX_SIDE)


def validate_favicon_file(upload) -> None:
    _check_upload(upload, formats=FAVICON_FORMATS, max_bytes=FAVICON_MAX_BYTES, max_side=FAVICON_MAX_SIDE)
