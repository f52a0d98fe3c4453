"""Write the public page, its JSON and its feeds as static files (`manage.py publish_status`).

nginx or a CDN can serve the folder, so the status page stays up while the application or its
database is down. Each file is written to a temporary name and renamed into place, so a reader
never sees half a file and two runs at once only race to write the same complete content.
Serve it with `try_files $uri $uri/index.html` (pages are written as <path>/index.html).
"""

import logging
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import transaction
from django.test import RequestFactory
from django.urls import resolve

from statuspage.branding import branding_get
from statuspage.models import Incident, Maintenance

logger = logging.getLogger(__name__)

STATIC_FILES = ("statuspage/status.css", "statuspage/status.js", "statuspage/favicon.svg")
FIXED_PATHS = (
    "/",
    "/history",
    "/feeds/history.rss",
    "/feeds/history.atom",
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
)
DETAIL_PAGES = 200  # the newest incidents and maintenance get their own page


def _target(out: Path, path: str) -> Path:
    relative = path.lstrip("/")
    if not relative:
        return out / "index.html"
    if "." in relative.rsplit("/", 1)[-1]:
        return out / relative
    return out / relative / "index.html"


def _write(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, target)


def _render(factory: RequestFactory, path: str) -> bytes | None:
    match = resolve(path)
    response = match.func(factory.get(path), *match.args, **match.kwargs)
    if hasattr(response, "render") and not getattr(response, "is_rendered", True):
        response.render()
    return response.content if response.status_code == 200 else None


def publish_static(out: Path | str) -> str:
    out = Path(out)
    public = urlsplit(settings.PUBLIC_URL)
    factory = RequestFactory(
        SERVER_NAME=public.hostname or "localhost",
        HTTP_HOST=public.netloc or "localhost",
        SERVER_PORT=str(public.port or (443 if public.scheme == "https" else 80)),
        **({"wsgi.url_scheme": "https"} if public.scheme == "https" else {}),
    )
    paths = list(FIXED_PATHS)
    paths += [f"/incidents/{pk}" for pk in Incident.objects.values_list("pk", flat=True)[:DETAIL_PAGES]]
    paths += [f"/maintenance/{pk}" for pk in Maintenance.objects.values_list("pk", flat=True)[:DETAIL_PAGES]]
    # The branding's stylesheet and pictures, at the /branding/ URLs the pages name.
    paths += branding_get().published_paths()
    written = 0
    for path in paths:
        content = _render(factory, path)
        if content is not None:
            _write(_target(out, path), content)
            written += 1
    for name in STATIC_FILES:
        source = finders.find(name)
        if source:
            url_path = urlsplit(staticfiles_storage.url(name)).path
            target = out / url_path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            written += 1
    return f"published {written} files to {out}"


@shared_task(ignore_result=True)
def publish_status() -> str:
    if not settings.STATUSPAGE_PUBLISH_DIR:
        return "publish_status: STATUSPAGE_PUBLISH_DIR is not set, nothing to do"
    return publish_static(settings.STATUSPAGE_PUBLISH_DIR)


def _queue_publish() -> None:
    try:
        publish_status.delay()
    except Exception as exc:
        # The change is committed: a broker outage must not turn the staff request into a 500.
        # The publish_status beat job rewrites the copy within STATUSPAGE_PUBLISH_INTERVAL.
        logger.warning("static status page not queued for a rewrite (broker unavailable: %s)", exc)


def schedule_publish() -> None:
    """After commit, rewrite the static copy of the page when one is configured."""
    if settings.STATUSPAGE_PUBLISH_DIR:
        transaction.on_commit(_queue_publish)
