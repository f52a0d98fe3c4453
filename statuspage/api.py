"""Staff API under /api/status/admin/: input serializer → service → output.

Access needs a staff account (token or session) *and* the model permission for the write
(DjangoModelPermissions), so role groups granting e.g. `statuspage.change_incident` just work.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status, viewsets
from rest_framework.permissions import DjangoModelPermissions, IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import error_response
from statuspage import queries, services, v2
from statuspage.branding import branding_get
from statuspage.models import (
    Component,
    Incident,
    IncidentStatus,
    IncidentTemplate,
    Maintenance,
    MaintenanceSchedule,
    StatusPageBranding,
)
from statuspage.schedules import services as schedule_services
from statuspage.schedules.rules import InvalidRule
from statuspage.serializers import (
    BrandingInput,
    BrandingSerializer,
    ComponentSerializer,
    ComponentStatusInput,
    IncidentCreateInput,
    IncidentTemplateSerializer,
    IncidentUpdateInput,
    MaintenanceCancelInput,
    MaintenanceInput,
    MaintenanceScheduleSerializer,
    MessageInput,
)


class ModelPermissions(DjangoModelPermissions):
    """Reading needs `view_<model>` too (Django's default map lets any staff read)."""

    perms_map = {**DjangoModelPermissions.perms_map, "GET": ["%(app_label)s.view_%(model_name)s"]}


class ChangePermissions(DjangoModelPermissions):
    """Action endpoints (POST start/complete, PUT status) change an existing row."""

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "POST": ["%(app_label)s.change_%(model_name)s"],
        "PUT": ["%(app_label)s.change_%(model_name)s"],
    }


STAFF = [IsAdminUser, ModelPermissions]
STAFF_CHANGE = [IsAdminUser, ChangePermissions]


def _refused(exc: Exception) -> Response:
    if isinstance(exc, services.IllegalTransition):
        return error_response(str(exc), status.HTTP_409_CONFLICT)
    if isinstance(exc, services.InvalidWindow):
        return error_response("Invalid input.", status.HTTP_400_BAD_REQUEST, errors={exc.field: [str(exc)]})
    return error_response(
        "Invalid input.", status.HTTP_400_BAD_REQUEST, errors={"non_field_errors": [str(exc)]}
    )


def _incident_out(pk: int) -> dict:
    return v2.incident(queries.with_details(Incident.objects.filter(pk=pk)).get())


def _maintenance_out(pk: int) -> dict:
    return v2.maintenance(queries.maintenance_with_details(Maintenance.objects.filter(pk=pk)).get())


class ComponentListCreate(generics.ListCreateAPIView):
    permission_classes = STAFF
    serializer_class = ComponentSerializer
    queryset = (
        Component.objects.select_related("group").prefetch_related("depends_on").order_by("position", "name")
    )

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        depends_on = data.pop("depends_on", [])
        serializer.instance = services.component_create(depends_on=depends_on, **data)


class ComponentStatusUpdate(APIView):
    permission_classes = STAFF_CHANGE
    queryset = Component.objects.all()

    def put(self, request, pk: int):
        component = get_object_or_404(Component, pk=pk)
        data = ComponentStatusInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.component_set_status(
            component=component,
            status=data.validated_data["status"],
            actor=request.user,
            note=data.validated_data["note"],
        )
        component.refresh_from_db()
        return Response(ComponentSerializer(component).data)


class IncidentCreate(APIView):
    permission_classes = STAFF
    queryset = Incident.objects.all()

    def post(self, request):
        data = IncidentCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        template = values.pop("template", None)
        try:
            incident = services.incident_create_from_template(
                template=template, author=request.user, **values
            )
        except (services.StatusPageError, ValueError) as exc:
            return _refused(exc)
        return Response({"incident": _incident_out(incident.pk)}, status=status.HTTP_201_CREATED)


class IncidentTemplateListCreate(generics.ListCreateAPIView):
    """Incident templates: what a known kind of incident opens with (POST .../incidents with
    `template`)."""

    permission_classes = STAFF
    serializer_class = IncidentTemplateSerializer
    queryset = IncidentTemplate.objects.prefetch_related("affected").order_by("name")

    def perform_create(self, serializer):
        serializer.instance = services.incident_template_create(**serializer.validated_data)


class IncidentTemplateDetail(generics.RetrieveUpdateDestroyAPIView):
    permission_classes = STAFF
    serializer_class = IncidentTemplateSerializer
    queryset = IncidentTemplate.objects.prefetch_related("affected")

    def perform_update(self, serializer):
        serializer.instance = services.incident_template_update(
            template=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.incident_template_delete(template=instance)


class IncidentUpdate(APIView):
    permission_classes = STAFF
    queryset = Incident.objects.all()

    def put(self, request, pk: int):
        incident = get_object_or_404(Incident, pk=pk)
        data = IncidentUpdateInput(data=request.data, context={"incident": incident})
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            if values["status"] == IncidentStatus.POSTMORTEM:
                services.incident_postmortem_publish(
                    incident=incident, body=values["message"], author=request.user
                )
            else:
                services.incident_update_create(
                    incident=incident,
                    status=values["status"],
                    message=values["message"],
                    components=values["components"],
                    impact_override=values.get("impact_override"),
                    notify=values["notify"],
                    display_at=values["display_at"],
                    author=request.user,
                )
        except (services.StatusPageError, ValueError) as exc:
            return _refused(exc)
        return Response({"incident": _incident_out(incident.pk)})


class MaintenanceCreate(APIView):
    permission_classes = STAFF
    queryset = Maintenance.objects.all()

    def post(self, request):
        data = MaintenanceInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["components"] = values.get("components", [])
        try:
            maintenance = services.maintenance_schedule(author=request.user, **values)
        except services.InvalidWindow as exc:
            return _refused(exc)
        return Response(
            {"scheduled_maintenance": _maintenance_out(maintenance.pk)}, status=status.HTTP_201_CREATED
        )


class _MaintenanceAction(APIView):
    permission_classes = STAFF_CHANGE
    queryset = Maintenance.objects.all()
    service = staticmethod(services.maintenance_start)

    def post(self, request, pk: int):
        maintenance = get_object_or_404(Maintenance, pk=pk)
        data = MessageInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            self.service(maintenance=maintenance, message=data.validated_data["message"], author=request.user)
        except services.StatusPageError as exc:
            return _refused(exc)
        return Response({"scheduled_maintenance": _maintenance_out(maintenance.pk)})


class MaintenanceStart(_MaintenanceAction):
    service = staticmethod(services.maintenance_start)


class MaintenanceComplete(_MaintenanceAction):
    service = staticmethod(services.maintenance_complete)


class MaintenanceCancel(APIView):
    permission_classes = STAFF_CHANGE
    queryset = Maintenance.objects.all()

    def post(self, request, pk: int):
        maintenance = get_object_or_404(Maintenance, pk=pk)
        data = MaintenanceCancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.maintenance_cancel(maintenance=maintenance, user=request.user, **data.validated_data)
        except services.StatusPageError as exc:
            return _refused(exc)
        return Response({"scheduled_maintenance": _maintenance_out(maintenance.pk)})


class MaintenanceScheduleViewSet(viewsets.ModelViewSet):
    """Recurring maintenance: CRUD through statuspage.schedules.services."""

    permission_classes = STAFF
    serializer_class = MaintenanceScheduleSerializer
    queryset = MaintenanceSchedule.objects.prefetch_related("components").order_by("title", "id")

    def _save(self, serializer, call):
        data = dict(serializer.validated_data)
        try:
            serializer.instance = call(data)
        except InvalidRule as exc:
            # The rule read in the schedule's own zone (UNTIL against its DTSTART, say).
            raise serializers.ValidationError({"rrule": [str(exc)]}) from None

    def perform_create(self, serializer):
        self._save(
            serializer,
            lambda data: schedule_services.schedule_create(author=self.request.user, **data),
        )

    def perform_update(self, serializer):
        def update(data):
            components = data.pop("components", None)
            return schedule_services.schedule_update(
                schedule=serializer.instance, components=components, author=self.request.user, **data
            )

        self._save(serializer, update)

    def perform_destroy(self, instance):
        schedule_services.schedule_delete(schedule=instance, author=self.request.user)


class BrandingView(APIView):
    """The status page's branding (one set). PUT takes any subset of the fields."""

    permission_classes = STAFF_CHANGE
    queryset = StatusPageBranding.objects.all()

    def _out(self, row: StatusPageBranding) -> dict:
        data = BrandingSerializer(row).data
        if row.pk is None or not StatusPageBranding.objects.filter(pk=row.pk).exists():
            data["updated_at"] = None
        return data

    @extend_schema(responses=BrandingSerializer, summary="The status page's branding")
    def get(self, request):
        return Response(self._out(branding_get()))

    @extend_schema(
        request={"application/json": BrandingInput},
        responses=BrandingSerializer,
        summary="Change the status page's branding",
    )
    def put(self, request):
        data = BrandingInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            row = services.branding_update(values=dict(data.validated_data))
        except services.BrandingInvalid as exc:
            return error_response("Invalid input.", status.HTTP_400_BAD_REQUEST, errors=exc.errors)
        return Response(self._out(row))
