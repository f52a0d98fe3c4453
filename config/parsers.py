"""Request parsers of the API (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]). A module of its own:
DRF imports it while importing its views, so it must not import them (core.api does)."""

from rest_framework import exceptions, parsers


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing NUL characters anywhere in the document (keys and values):
    PostgreSQL stores none in text or jsonb columns (it raises instead), and no field of this
    API has a use for them. One check here rather than one per field, nested dicts included."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if _has_nul(data):
            raise exceptions.ParseError("JSON strings may not contain NUL (\\u0000) characters.")
        return data


def _has_nul(document) -> bool:
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
