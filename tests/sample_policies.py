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
