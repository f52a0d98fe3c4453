"""Control characters in text people and machines send us: one rule for every input.

A title ends up in a mail's Subject header, a feed's XML and a Slack header block. A carriage
return there makes Django refuse the whole mail (BadHeaderError); a vertical tab, a form feed
or a file/group/record separator (U+001C-U+001E) are line breaks to Python's header folding and
inject headers; XML 1.0 cannot carry most C0 characters at all, so one such title breaks a feed.

Two kinds of field:
- a single line (titles, names, notes): no control character at all, not even a newline or a tab;
- text (message bodies, descriptions): newlines and tabs, and the CRLF a browser's textarea
  sends, but no other control character.
Staff input (API, admin) is refused with a field error (validate_line, validate_text), so the
author sees it; machine input that nobody can correct (webhooks) and values already stored are
made safe instead (clean_line, clean_text).
"""

import re

from django.core.exceptions import ValidationError

# C0, DEL and C1 (NEL, U+0085, among them), and the Unicode line and paragraph separators,
# which str.splitlines() and so the e-mail package also break lines on.
_LINE_BREAKING = "\x00-\x1f\x7f-\x9f\u2028\u2029"
NOT_IN_LINE = re.compile(f"[{_LINE_BREAKING}]+")
# Text keeps \t (U+0009), \n (U+000A) and the \r of a CRLF pair.
NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]|\r(?!\n)")


def _refuse(match: re.Match, what: str) -> None:
    char = match.group()[0]
    raise ValidationError(
        f"{what} cannot contain the control character U+{ord(char):04X} (at position {match.start() + 1}).",
        code="control_character",
    )


def validate_line(value: str) -> None:
    """For one-line fields: refuses line breaks, tabs and every other control character."""
    match = NOT_IN_LINE.search(value or "")
    if match:
        _refuse(match, "This field is a single line: it")


def validate_text(value: str) -> None:
    """For text fields: newlines (LF or CRLF) and tabs are fine, other control characters not."""
    match = NOT_IN_TEXT.search(value or "")
    if match:
        _refuse(match, "This text")


def clean_line(value: object) -> str:
    """One line, safe in a mail header or XML: each run of control characters becomes a space."""
    return NOT_IN_LINE.sub(" ", str(value or "")).strip()


def clean_text(value: object) -> str:
    """Text with LF line ends and tabs only: CRLF and a lone CR become LF, the rest is dropped."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return NOT_IN_TEXT.sub("", text)
