"""Helpers for DRF serializers that every app's API needs."""

from rest_framework import serializers


def nested_items_complete(items: list[dict], item_serializer: serializers.Serializer) -> list[dict]:
    """Refuse nested items that lack a required field. A PATCH is partial, and DRF then skips the
    required fields of nested items too; but nested items given replace the old ones whole, so
    each needs all of them."""
    required = [name for name, field in item_serializer.fields.items() if field.required]
    missing = {
        index: {name: ["This field is required."] for name in required if name not in item}
        for index, item in enumerate(items)
    }
    if any(missing.values()):
        raise serializers.ValidationError({index: errors for index, errors in missing.items() if errors})
    return items
