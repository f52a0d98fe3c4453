from django.contrib import admin

from healthchecks.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["kind", "name", "last_seen"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["kind", "name", "last_seen"]

    def has_add_permission(self, request):
        return False
