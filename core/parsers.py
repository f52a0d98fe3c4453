"""Reading JSON request bodies: the API's parser (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]) and
`json_loads` for the few views that read a body themselves, so every JSON body Vigil takes is
held to the same rules. A module of its own: DRF imports it while importing its views, so it
must not import them (core.api does).

The rules, each a 400 with a message rather than a 500 further down:
- not deeper than MAX_DEPTH: Python's decoder gives up only at its recursion limit (about 1,000
  levels, a 1 KB body of "["), with a RecursionError; and a document just under that limit still
  overflows whatever walks it next (serializers, json.dumps when it is stored or shown);
- no NUL characters in strings or keys: PostgreSQL stores none in text or jsonb columns (it
  raises instead), and no field of this API has a use for them;
- no unpaired surrogates ("\\ud800" decodes to a str that is not valid Unicode): encoding it
  for the database, a mail or a page raises UnicodeEncodeError;
- no NaN or Infinity, which are not JSON (as DRF's own parser, strict by default).
"""

import json

from django.conf import settings
from rest_framework import exceptions, parsers

MAX_DEPTH = 64  # far beyond any document the API takes (an Alertmanager payload is 4 deep)


class JSONBodyError(ValueError):
    """The body is not JSON Vigil accepts; the message says why, for the client."""


def json_loads(raw: bytes | str, *, encoding: str = "utf-8") -> object:
    try:
        text = raw.decode(encoding) if isinstance(raw, bytes) else raw
        document = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise JSONBodyError(f"JSON nested more than {MAX_DEPTH} levels deep is not accepted.") from None
    except ValueError as exc:  # UnicodeDecodeError is one
        raise JSONBodyError(f"JSON parse error - {exc}") from None
    problem = _string_problem(document) if type(document) is str else None
    if type(document) is dict or type(document) is list:
        problem = _problem(document, text)
    if problem:
        raise JSONBodyError(problem)
    return document


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_loads(stream.read(), encoding=encoding)
        except JSONBodyError as exc:
            raise exceptions.ParseError(str(exc)) from None


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def _problem(document, text: str) -> str | None:
    # NUL and surrogates can only arrive as \u escapes (the decoder refuses raw control
    # characters, and decoded UTF-8 holds no surrogates): without one, only the depth is checked,
    # which keeps a 10,000-point ingest batch cheap.
    check_strings = "\\u" in text
    pending = [(document, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_DEPTH:
            return f"JSON nested more than {MAX_DEPTH} levels deep is not accepted."
        children = [*item.keys(), *item.values()] if type(item) is dict else item
        for child in children:
            if type(child) is dict or type(child) is list:
                pending.append((child, depth + 1))
            elif check_strings and type(child) is str:
                problem = _string_problem(child)
                if problem:
                    return problem
    return None


def _string_problem(text: str) -> str | None:
    if "\x00" in text:
        return "JSON strings may not contain NUL (\\u0000) characters."
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "JSON strings may not contain unpaired surrogates (such as \\ud800)."
    return None
