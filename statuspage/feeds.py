"""Atom and RSS feeds of incidents and maintenance (django.contrib.syndication), cached like the pages.

XML 1.0 cannot carry most control characters, and Django refuses to write a feed holding one:
every stored text is cleaned on its way out (core.text), so one bad row, however old, never
takes the feed down for everyone."""

from datetime import datetime

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape, format_html_join

from core.text import clean_line, clean_text
from statuspage.branding import branding_get
from statuspage.cache import cached_public
from statuspage.markup import render_markdown
from statuspage.models import Incident, Maintenance, StatusPageBranding

FEED_ITEMS = 50


def published(item) -> datetime:
    """When the item was first told: an incident's start, a maintenance's announcement."""
    if isinstance(item, Incident):
        return item.started_at
    updates = list(item.updates.all())  # newest first (the models' ordering)
    return updates[-1].display_at if updates else item.created_at


def last_updated(item) -> datetime:
    """The time of its latest published word, not of the row's last save (an edit of the title,
    or the demo seed, would otherwise date every item at once)."""
    times = [u.display_at for u in item.updates.all()[:1]]
    if getattr(item, "postmortem_published_at", None):
        times.append(item.postmortem_published_at)
    return max(times, default=item.updated_at)


class BrandedRss(Rss201rev2Feed):
    """RSS 2.0 with the branding's logo as the channel's <image>."""

    def add_root_elements(self, handler) -> None:
        super().add_root_elements(handler)
        if self.feed.get("logo_url"):
            handler.startElement("image", {})
            handler.addQuickElement("url", self.feed["logo_url"])
            handler.addQuickElement("title", self.feed["title"])
            handler.addQuickElement("link", self.feed["link"])
            handler.endElement("image")


class BrandedAtom(Atom1Feed):
    """Atom with the branding's favicon as <icon> and its logo as <logo> (RFC 4287, 4.2.5 and 4.2.8)."""

    def add_root_elements(self, handler) -> None:
        super().add_root_elements(handler)
        if self.feed.get("icon_url"):
            handler.addQuickElement("icon", self.feed["icon_url"])
        if self.feed.get("logo_url"):
            handler.addQuickElement("logo", self.feed["logo_url"])


class HistoryRss(Feed):
    link = "/"
    feed_type = BrandedRss

    def get_object(self, request, *args, **kwargs) -> StatusPageBranding:
        return branding_get()

    def title(self, branding: StatusPageBranding) -> str:
        if branding.page_title:
            return f"{clean_line(branding.page_title)}: incidents and maintenance"
        return f"{settings.SITE_NAME} status: incidents and maintenance"

    def description(self, branding: StatusPageBranding) -> str:
        return f"Incidents and scheduled maintenance on {settings.SITE_NAME}."

    def feed_extra_kwargs(self, branding: StatusPageBranding) -> dict:
        # Absolute, under PUBLIC_URL: a feed reader fetches them far from the page.
        return {
            "logo_url": settings.PUBLIC_URL + branding.logo_url if branding.logo else "",
            "icon_url": settings.PUBLIC_URL + branding.favicon_url if branding.favicon else "",
        }

    def items(self) -> list:
        incidents = list(Incident.objects.prefetch_related("updates").order_by("-updated_at")[:FEED_ITEMS])
        maintenance = list(
            Maintenance.objects.prefetch_related("updates").order_by("-updated_at")[:FEED_ITEMS]
        )
        return sorted(incidents + maintenance, key=last_updated, reverse=True)[:FEED_ITEMS]

    def item_title(self, item) -> str:
        if isinstance(item, Maintenance):
            return f"[Maintenance] {clean_line(item.title)}"
        return clean_line(item.title)

    def item_description(self, item) -> str:
        # The whole timeline, newest first, as Statuspage's feeds show it; each body's Markdown
        # as the page renders it (sanitised: a feed reader runs what it is given).
        return format_html_join(
            "",
            "<p><small>{} UTC</small><br><strong>{}</strong></p>{}",
            (
                (f"{u.display_at:%b %d, %H:%M}", u.get_status_display(), render_markdown(clean_text(u.body)))
                for u in item.updates.all()
            ),
        ) or escape(clean_line(item.title))

    def item_link(self, item) -> str:
        return item.get_absolute_url()

    def item_guid(self, item) -> str:
        # The page's own address, so the id a reader keeps is also a link that works.
        return f"{settings.PUBLIC_URL}{item.get_absolute_url()}"

    item_guid_is_permalink = True

    def item_pubdate(self, item) -> datetime:
        return published(item)

    def item_updateddate(self, item) -> datetime:
        return last_updated(item)


class HistoryAtom(HistoryRss):
    feed_type = BrandedAtom

    def subtitle(self, branding: StatusPageBranding) -> str:
        return self.description(branding)


rss = cached_public()(HistoryRss())
atom = cached_public()(HistoryAtom())
