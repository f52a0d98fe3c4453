"""The API's one error shape: {"detail": "...", "errors": {field: [messages]}} with the right status.

Nested serializers, lists and dicts give DRF nested errors; they are folded into their top-level
field, each message prefixed with where in the field it applies ("[0].level: This field is
required."), so a client always reads a field name and a list of messages.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail
        response.data = {"detail": "Invalid input.", "errors": flatten_errors(detail)}
        response.status_code = status.HTTP_400_BAD_REQUEST
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"])}
    return response


def flatten_errors(errors) -> dict[str, list[str]]:
    """{"steps": {0: {"level": ["Required."]}}} -> {"steps": ["[0].level: Required."]}."""
    if not isinstance(errors, dict):
        return {api_settings.NON_FIELD_ERRORS_KEY: [text for _, text in _messages(errors)]}
    return {
        str(field): [f"{where}: {text}" if where else text for where, text in _messages(value)]
        for field, value in errors.items()
    }


def _messages(errors, where: str = ""):
    """(path within the field, message) for every message in a nested DRF error structure."""
    if isinstance(errors, dict):
        items = errors.items()
    elif isinstance(errors, list) and any(isinstance(item, dict | list) for item in errors):
        items = enumerate(errors)  # a list serializer: one entry per item, {} for good ones
    else:
        for message in errors if isinstance(errors, list) else [errors]:
            yield where, str(message)
        return
    for key, value in items:
        if isinstance(key, int):
            inner = f"{where}[{key}]"
        elif key == api_settings.NON_FIELD_ERRORS_KEY:
            inner = where  # a nested item's own errors belong to the item
        else:
            inner = f"{where}.{key}" if where else str(key)
        yield from _messages(value, inner)


def error_response(message: str, status_code: int, **extra) -> Response:
    return Response({"detail": message, **extra}, status=status_code)
