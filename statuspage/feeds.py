"""Atom and RSS feeds of incidents and maintenance (django.contrib.syndication), cached like the pages.

XML 1.0 cannot carry most control characters, and Django refuses to write a feed holding one:
every stored text is cleaned on its way out (core.text), so one bad row, however old, never
takes the feed down for everyone."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape, format_html_join

from core.text import clean_line, clean_text
from statuspage.cache import cached_public
from statuspage.models import Incident, Maintenance

FEED_ITEMS = 50


class HistoryRss(Feed):
    link = "/"

    def title(self) -> str:
        return f"{settings.SITE_NAME} status: incidents and maintenance"

    def description(self) -> str:
        return f"Incidents and scheduled maintenance on {settings.SITE_NAME}."

    def items(self) -> list:
        incidents = list(Incident.objects.prefetch_related("updates").order_by("-updated_at")[:FEED_ITEMS])
        maintenance = list(
            Maintenance.objects.prefetch_related("updates").order_by("-updated_at")[:FEED_ITEMS]
        )
        return sorted(incidents + maintenance, key=lambda item: item.updated_at, reverse=True)[:FEED_ITEMS]

    def item_title(self, item) -> str:
        if isinstance(item, Maintenance):
            return f"[Maintenance] {clean_line(item.title)}"
        return clean_line(item.title)

    def item_description(self, item) -> str:
        # The whole timeline, newest first, as Statuspage's feeds show it.
        return format_html_join(
            "",
            "<p><small>{} UTC</small><br><strong>{}</strong> - {}</p>",
            (
                (f"{u.display_at:%b %d, %H:%M}", u.get_status_display(), clean_text(u.body))
                for u in item.updates.all()
            ),
        ) or escape(clean_line(item.title))

    def item_link(self, item) -> str:
        return item.get_absolute_url()

    def item_guid(self, item) -> str:
        kind = "maintenance" if isinstance(item, Maintenance) else "incident"
        return f"{settings.PUBLIC_URL}/{kind}/{item.pk}"

    def item_pubdate(self, item):
        return item.created_at

    def item_updateddate(self, item):
        return item.updated_at


class HistoryAtom(HistoryRss):
    feed_type = Atom1Feed

    def subtitle(self) -> str:
        return self.description()


rss = cached_public()(HistoryRss())
atom = cached_public()(HistoryAtom())
