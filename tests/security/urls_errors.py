"""The project's URLs plus views that fail on purpose, for the error page and log checks."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from config.urls import *  # noqa: F403  (the handlers too)
from config.urls import urlpatterns as project_urls

# What an exception's text may hold: a webhook URL with its secrets.
SECRET_TEXT = "cannot reach https://hooks.slack.com/services/T0/B0/SLACKPATHSECRET?token=QUERYSECRET"


def boom(request):
    raise RuntimeError(SECRET_TEXT)


def forbidden(request):
    raise PermissionDenied(SECRET_TEXT)


def bad(request):
    raise SuspiciousOperation(SECRET_TEXT)


urlpatterns = [
    path("boom", boom),
    path("api/boom", boom),
    path("forbidden", forbidden),
    path("bad", bad),
    *project_urls,
]
