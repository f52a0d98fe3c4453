"""Fixtures the on-call tests share with the notifications tests."""

from tests.notifications.twilio_fakes import twilio  # noqa: F401 (a loopback Twilio)
