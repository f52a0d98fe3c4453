"""Helpers for the action-link tests: announce an alert through the outbox and read the links
from the mail the suite's SMTP server received."""

import re
from urllib.parse import urlsplit

from django.test import Client

from alerts.notify import alerts_pending_announce
from notifications.services import deliveries_send_due

LINE = re.compile(r"^\s+(Acknowledge|Resolve|Silence 1 h): (\S+?)\r?$", re.MULTILINE)
NAMES = {"Acknowledge": "acknowledge", "Resolve": "resolve", "Silence 1 h": "silence"}


def mail_text(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def mail_html(mail) -> str:
    return mail.get_body(("html",)).get_content()


def links_in(text: str) -> dict[str, str]:
    """action name -> path (with its token) of every action link in a mail's text."""
    return {NAMES[label]: urlsplit(url).path for label, url in LINE.findall(text)}


def announce_and_mail(smtp) -> dict[str, str]:
    """Announce what is pending, send it through SMTP and return the last mail's links."""
    alerts_pending_announce()
    deliveries_send_due()
    return links_in(mail_text(smtp.messages[-1]))


def press(path: str, client: Client | None = None):
    """Open the page, then press its button with the CSRF token the page set (as a browser does)."""
    client = client or Client(enforce_csrf_checks=True)
    page = client.get(path)
    assert page.status_code == 200, page.content
    token = client.cookies["csrftoken"].value
    return client.post(path, {"csrfmiddlewaretoken": token})
