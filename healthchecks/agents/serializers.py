from rest_framework import serializers

from healthchecks.agents.models import AgentKey, ComponentQuorum, ProbeLocation


class ProbeLocationSerializer(serializers.ModelSerializer):
    slug = serializers.SlugField(max_length=50, required=False)
    probes = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ProbeLocation
        fields = ["id", "name", "slug", "created_at", "last_result_at", "is_silent", "probes"]
        read_only_fields = ["created_at", "last_result_at", "is_silent"]
        validators = []  # unique name and slug: checked by the service, with a message that says so

    def get_fields(self):
        fields = super().get_fields()
        fields["name"].validators = []
        return fields


class AgentKeySerializer(serializers.ModelSerializer):
    location = serializers.PrimaryKeyRelatedField(queryset=ProbeLocation.objects.all())

    class Meta:
        model = AgentKey
        fields = [
            "id",
            "location",
            "name",
            "prefix",
            "created_at",
            "revoked_at",
            "last_seen_at",
            "last_seen_address",
        ]
        read_only_fields = ["prefix", "created_at", "revoked_at", "last_seen_at", "last_seen_address"]


class AgentKeyCreatedSerializer(AgentKeySerializer):
    key = serializers.CharField(read_only=True, help_text="The key itself: shown this once only.")

    class Meta(AgentKeySerializer.Meta):
        fields = [*AgentKeySerializer.Meta.fields, "key"]


class ComponentQuorumSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComponentQuorum
        fields = ["id", "component", "locations_required"]
        validators = []  # one per component: quorum_set updates the existing one

    def get_fields(self):
        fields = super().get_fields()
        fields["component"].validators = []
        if self.instance is not None and not isinstance(self.instance, list):
            fields["component"].read_only = True
        return fields
