"""Third-party policies, written only against gateway.api, as a policy author would."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.api import Action, Finding, ParsedMessage, PolicyContext


class SubjectMustNotShout:
    """An author's own rule id: an all-caps "FREE" subject is annotated."""

    name = "no-shouting"

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.word = str(options.get("word", "FREE"))

    async def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        if self.word in message.subject:
            return [
                Finding(
                    "X-SHOUT",
                    "shout.subject",
                    Action.ANNOTATE,
                    f"subject contains {self.word}",
                    evidence=message.subject,
                )
            ]
        return []


class Broken:
    name = "broken"

    def __init__(self, options: Mapping[str, Any]) -> None:
        pass

    def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        raise RuntimeError("lookup service unreachable")


class NotAPolicy:
    def __init__(self, options: Mapping[str, Any]) -> None:
        pass


class OptoutMatchesListUnsubscribe:
    """A house rule on D2: the List-Unsubscribe URL (RFC 2369) must be the one the body shows."""

    name = "optout-matches-list-unsubscribe"

    def __init__(self, options: Mapping[str, Any]) -> None:
        pass

    def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        header = message.header("List-Unsubscribe") or ""
        urls = [u for u in header.replace(",", " ").split() if u.startswith("<http")]
        shown = " ".join(
            [p.text for p in message.parts] + [link.url for p in message.parts for link in p.links]
        )
        missing = [u.strip("<>") for u in urls if u.strip("<>").split("?")[0] not in shown]
        if not missing:
            return []
        return [
            Finding(
                "D2",
                "house.list_unsubscribe_not_shown",
                Action.BLOCK,
                f"the List-Unsubscribe URL {missing[0]} is not the opt-out URL the body shows",
                evidence=header,
            )
        ]


class FromNameIsSender:
    """A house rule on D1, written carelessly: it assumes every mail has a From header."""

    name = "from-name-is-sender"

    def __init__(self, options: Mapping[str, Any]) -> None:
        pass

    def check(self, message: ParsedMessage, context: PolicyContext) -> list[Finding]:
        shown = dict((k.lower(), v) for k, v in message.headers)["from"]  # KeyError without one
        if any(name in shown for name in context.profile.names):
            return []
        return [Finding("D1", "house.from_name", Action.BLOCK, "From does not name the sender")]
