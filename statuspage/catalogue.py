"""Writes of the page's catalogue that services.py does not hold: component groups, and removing
a component. Configuration as code (config.configcode) creates, changes and removes them here."""

from django.db import transaction

from statuspage import cache as page_cache
from statuspage import publish
from statuspage.models import Component, ComponentGroup

GROUP_FIELDS = frozenset({"description", "position", "collapsed"})


def _page_turns_over() -> None:
    # The page lists groups and components, so a change to either is a new page.
    transaction.on_commit(page_cache.invalidate)
    publish.schedule_publish()


def component_group_save(*, group: ComponentGroup, **fields) -> ComponentGroup:
    """Create or change a group after the model's own checks (ValidationError names the field)."""
    unknown = set(fields) - GROUP_FIELDS
    if unknown:
        raise ValueError(f"not a group field: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(group, name, value)
    group.full_clean()
    with transaction.atomic():
        group.save()
        _page_turns_over()
    return group


def component_group_delete(*, group: ComponentGroup) -> None:
    """Its components stay, outside any group (the foreign key is SET_NULL)."""
    with transaction.atomic():
        group.delete()
        _page_turns_over()


def component_delete(*, component: Component) -> None:
    """Remove a component with its history, uptime and probes (they cascade); incidents and
    maintenance that named it keep the rest of their components."""
    with transaction.atomic():
        component.delete()
        _page_turns_over()
