"""Every SMTP reply tokuden gives, named once, with its RFC 3463 enhanced code.

The server, the service and the tests use these names; nothing else spells a
reply code.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reply:
    code: int
    enhanced: str
    text: str

    def __str__(self) -> str:
        return f"{self.code} {self.enhanced} {self.text}"

    def with_text(self, text: str) -> Reply:
        return Reply(self.code, self.enhanced, text)

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500

    @property
    def permanent(self) -> bool:
        return self.code >= 500


S250_OK = Reply(250, "2.0.0", "OK")
S250_SENDER_OK = Reply(250, "2.1.0", "Sender OK")
S250_RCPT_OK = Reply(250, "2.1.5", "Recipient OK")
S235_AUTH_OK = Reply(235, "2.7.0", "Authentication successful")

S421_SHUTTING_DOWN = Reply(421, "4.3.2", "Service shutting down, try again later")
S451_NEXT_HOP_DOWN = Reply(451, "4.4.1", "Next hop not reachable, try again later")
S451_NEXT_HOP_TEMP = Reply(451, "4.4.0", "Next hop deferred the message, try again later")
S451_CHECK_FAILED = Reply(
    451, "4.3.0", "Temporary failure while checking the message, try again later"
)
S452_TOO_MANY_RCPTS = Reply(452, "4.5.3", "Too many recipients")

S530_AUTH_REQUIRED = Reply(530, "5.7.0", "Authentication required")
S535_AUTH_FAILED = Reply(535, "5.7.8", "Authentication credentials invalid")
S538_ENCRYPTION_REQUIRED = Reply(
    538, "5.7.11", "Encryption required for requested authentication mechanism"
)
S550_RELAY_DENIED = Reply(550, "5.7.1", "Relay access denied")
S550_NO_PROFILE = Reply(550, "5.7.1", "No sender profile for this sender")
S550_POLICY = Reply(550, "5.7.1", "Message refused by policy")
S552_TOO_BIG = Reply(552, "5.3.4", "Message size exceeds fixed maximum message size")
S554_UNSIGNABLE = Reply(554, "5.6.0", "Message cannot be DKIM-signed")
S554_NO_VALID_RCPTS = Reply(554, "5.5.1", "No valid recipients")
S553_BAD_ADDRESS = Reply(553, "5.1.3", "Bad recipient address syntax")
