"""The topic of a mail: which of a sender's lists it belongs to, for consent and opt-out scopes.

A recipient may consent to some topics only, or opt out of one topic and keep
the others. The client names the topic in a header (removed before relaying);
otherwise the sender profile's ``topic`` applies; otherwise the mail has none
and only whole-sender consent and opt-outs apply to it.
"""

from __future__ import annotations

import re

from gateway.message import ParsedMessage
from gateway.profile import SenderProfile

TOPIC_HEADER = "X-Tokuden-Topic"

_TOPIC = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def valid_topic(name: str) -> bool:
    """Topics are short ASCII names (``news``, ``sale.winter``): they appear in files and logs."""
    return _TOPIC.fullmatch(name) is not None


def topic_of(message: ParsedMessage, profile: SenderProfile) -> str | None:
    declared = (message.header(TOPIC_HEADER) or "").strip().lower()
    if declared and valid_topic(declared):
        return declared
    return profile.topic
