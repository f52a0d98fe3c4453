"""POST /api/operations/config/apply: the apply_config command for automation."""

from django.conf import settings
from django.http.request import RawPostDataException
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.configcode.apply import config_apply
from config.configcode.document import DocumentInvalid, from_plain, parse_yaml
from config.configcode.sections import SECTIONS
from config.models import AuditEntry
from core.parsers import JSONBodyError, json_loads

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
# The Administrators' permissions: the apply's own, and every write it may make.
APPLY_PERMISSIONS = [
    "config.add_configapply",
    *(
        f"{s.model._meta.app_label}.{action}_{s.model._meta.model_name}"
        for s in SECTIONS
        for action in ("add", "change", "delete")
    ),
]


class _RawParser(BaseParser):
    """Hands the body over unparsed: the view reads YAML and JSON itself, keeping YAML's lines."""

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read()


class YAMLParser(_RawParser):
    media_type = "application/yaml"


class XYAMLParser(_RawParser):
    media_type = "application/x-yaml"


class TextYAMLParser(_RawParser):
    media_type = "text/yaml"


class JSONRawParser(_RawParser):
    media_type = "application/json"


def _body(request) -> bytes:
    """The raw body, however it was read: a session's CSRF check has DRF parse it (through the
    raw parsers above) before the view runs; an empty body is never handed to a parser."""
    try:
        return request.body
    except RawPostDataException:
        data = request.data
        return data if isinstance(data, bytes) else b""


def _flag(request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


Problems = inline_serializer(
    "ConfigProblem",
    {
        "line": serializers.IntegerField(allow_null=True),
        "path": serializers.CharField(),
        "message": serializers.CharField(),
    },
    many=True,
)
Diff = inline_serializer(
    "ConfigDiff",
    {
        "dry_run": serializers.BooleanField(),
        "prune": serializers.BooleanField(),
        "applied": serializers.BooleanField(),
        "counts": serializers.DictField(child=serializers.IntegerField()),
        "changes": inline_serializer(
            "ConfigChange",
            {
                "action": serializers.ChoiceField(choices=["create", "update", "delete"]),
                "section": serializers.CharField(),
                "key": serializers.CharField(),
                "fields": serializers.ListField(child=serializers.CharField()),
            },
            many=True,
        ),
    },
)


class ConfigApplyView(APIView):
    """Make the configuration match a document (YAML, or JSON of the same shape; see
    docs/config-as-code.md). Answers the diff; with ?dry_run=1 nothing is written, with ?prune=1
    what the document leaves out is deleted. A bad document is a 400 listing every problem with
    its line, and nothing is written."""

    required_permissions = {"POST": APPLY_PERMISSIONS}
    parser_classes = [YAMLParser, XYAMLParser, TextYAMLParser, JSONRawParser]

    @extend_schema(
        # Declared as JSON only, like every body of the schema (generated clients build one body
        # type per media type); the same document is taken as application/yaml too.
        request={
            "application/json": {
                "type": "object",
                "description": "The configuration document (version, sections); see docs/config-as-code.md. "
                "Also accepted as YAML with Content-Type application/yaml.",
                "properties": {"version": {"type": "integer", "enum": [1]}},
                "required": ["version"],
                "additionalProperties": True,
            }
        },
        parameters=[
            OpenApiParameter("dry_run", bool, description="Answer the diff and write nothing."),
            OpenApiParameter("prune", bool, description="Also delete what the document leaves out."),
        ],
        responses={
            200: Diff,
            400: OpenApiResponse(
                response=inline_serializer(
                    "ConfigInvalid", {"detail": serializers.CharField(), "errors": Problems}
                ),
                description="The document's problems, each with its line; nothing was written.",
            ),
            413: OpenApiResponse(description="The document is larger than CONFIG_APPLY_MAX_BYTES."),
        },
    )
    def post(self, request):
        limit = settings.CONFIG_APPLY_MAX_BYTES
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return Response({"detail": f"The document is larger than {limit} bytes."}, status=413)
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type not in (*YAML_TYPES, "application/json"):
            return Response(
                {"detail": "Send the document as application/yaml or application/json."}, status=415
            )
        body = _body(request)
        if len(body) > limit:
            return Response({"detail": f"The document is larger than {limit} bytes."}, status=413)
        try:
            if media_type == "application/json":
                try:
                    root = from_plain(json_loads(body))
                except JSONBodyError as error:
                    return Response({"detail": str(error), "errors": []}, status=400)
            else:
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    return Response({"detail": "The document is not UTF-8 text.", "errors": []}, status=400)
                root = parse_yaml(text)
            outcome = config_apply(
                root,
                prune=_flag(request, "prune"),
                dry_run=_flag(request, "dry_run"),
                actor=request.user,
                via=AuditEntry.Via.API,
            )
        except DocumentInvalid as error:
            return Response(
                {
                    "detail": f"The document has {len(error.problems)} problem(s); nothing was changed.",
                    "errors": [p.as_dict() for p in error.problems],
                },
                status=400,
            )
        return Response(outcome.as_dict())
