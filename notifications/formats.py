"""The shapes of the providers' identifiers and keys, in one place: the channel form checks a
channel against them, and the settings check the variables that make channels at start-up
(this module imports nothing of Django's, so the settings may read it)."""

import re

# ntfy's own rule for topic names.
NTFY_TOPIC = re.compile(r"[-_A-Za-z0-9]{1,64}")
# The shapes Telegram's Bot API documents for a bot token and a chat_id.
TELEGRAM_BOT_TOKEN = re.compile(r"[0-9]{5,}:[A-Za-z0-9_-]{30,}")
# Gotify's application tokens are printable and have no spaces (they go in a header).
GOTIFY_TOKEN = re.compile(r"[!-~]{1,200}")
# An Events API v2 integration key; an Opsgenie API integration key (a UUID).
PAGERDUTY_ROUTING_KEY = re.compile(r"[A-Za-z0-9]{32}")
OPSGENIE_API_KEY = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
TELEGRAM_CHAT = re.compile(r"-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31}")
# ITU-T E.164 as Twilio takes it: "+", a country code that does not start with 0, 15 digits at most.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
TWILIO_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
TWILIO_AUTH_TOKEN = re.compile(r"[0-9a-fA-F]{32}")
