"""Extra HTTP headers staff type in a form: one "Name: value" per line (an API key, say). The
SMS gateway channels and the HTTP probes take them the same way."""

import re

# RFC 9110's token characters for a header name; a value is any visible text on one line.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\uffff]*")


def headers_problem(text: str) -> str | None:
    for line in text.splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not HEADER_NAME.fullmatch(name.strip()) or not HEADER_VALUE.fullmatch(value.strip()):
            return f"Each header is one 'Name: value' line; {line.strip()[:40]!r} is not."
    return None


def parse_headers(text: str) -> dict[str, str]:
    pairs = (line.partition(":") for line in text.splitlines() if line.strip())
    return {name.strip(): value.strip() for name, _, value in pairs}
