"""One message's way through tokuden, after SMTP and before the next hop.

parse → pipeline → decision → transform → DKIM signing → relay (and DSN) → log → reply.
The client gets 250 only after the next hop accepted; any failure on the
way is a 4xx so that the client keeps the message and retries.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gateway import replies
from gateway.address import AddressError, normalize
from gateway.api import Action, Envelope, Finding
from gateway.classify import CATEGORY_HEADER
from gateway.config import Config
from gateway.decision import Decision, decide, new_id
from gateway.dns import DnsResolver
from gateway.dsn import build_dsn
from gateway.log import DecisionLog, decision_record, finding_record
from gateway.message import ParsedMessage, parse
from gateway.passwords import verify_password
from gateway.pipeline import Pipeline, PolicyFailure, load_policies
from gateway.profile import Category, Mode, SenderProfile
from gateway.relay import (
    NextHop,
    PermanentRelayError,
    TemporaryRelayError,
    open_next_hop,
)
from gateway.replies import Reply
from gateway.signing import KeyRing, SigningError
from gateway.store import ConsentStore, StoreError, open_store
from gateway.topic import TOPIC_HEADER
from gateway.transform import DECISION_HEADER, header_field, strip_headers

_errors = logging.getLogger("tokuden.log")
_QUEUE_ID = re.compile(r"queued as ([A-Za-z0-9.\-_]+)", re.IGNORECASE)
_ENHANCED = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}\s+")
_REPLY_TEXT_MAX = 400


@dataclass
class Session:
    """One client connection, as the SMTP layer knows it."""

    peer: str
    helo: str = ""
    tls: bool = False
    auth_user: str | None = None
    profile: SenderProfile | None = None


@dataclass
class _Trace:
    """What one delivery attempt did, for its log line."""

    started: float = field(default_factory=time.monotonic)
    record: dict[str, Any] = field(default_factory=dict)


class Gateway:
    """The gateway's state for one process: config, store, policies, keys, next hop, log."""

    def __init__(
        self,
        config: Config,
        store: ConsentStore,
        pipeline: Pipeline,
        next_hop: NextHop,
        log: DecisionLog,
        keys: KeyRing | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.pipeline = pipeline
        self.next_hop = next_hop
        self.log = log
        self.keys = keys if keys is not None else KeyRing({}, [])
        self._users = {
            user: (stored, profile)
            for profile in config.senders.values()
            for user, stored in profile.auth_users.items()
        }
        self._verified: dict[str, bytes] = {}
        self.worker = os.getpid()  # the log's ``worker``: which of serve --workers N decided

    @classmethod
    async def open(cls, config: Config) -> Gateway:
        """Everything a running gateway needs; config faults surface here, before listening.

        A bad DKIM key file is a SigningKeyError, raised before the store is opened.
        """
        policies = load_policies(config.policies, config.source)
        keys = await asyncio.to_thread(KeyRing.load, config.senders)
        resolver = DnsResolver.from_config(config.dns)
        try:
            log = DecisionLog(config.log.file, config.log.stdout)
        except OSError as exc:
            raise OSError(f"{config.source}: log.file: {exc}") from None
        try:  # a failed SIGHUP reload must not leave a log file or store connection behind
            try:
                store = await open_store(config.store.url)
            except StoreError as exc:
                raise StoreError(f"{config.source}: store.url: {exc}") from None
            try:
                pipeline = Pipeline(policies, store, resolver, config.relay.egress)
                next_hop = open_next_hop(
                    config.relay.next_hop,
                    local_hostname=config.server.hostname,
                    timeout=config.relay.timeout,
                )
            except BaseException:
                await store.close()
                raise
        except BaseException:
            log.close()
            raise
        return cls(config, store, pipeline, next_hop, log, keys)

    async def close(self) -> None:
        await self.next_hop.close()
        await self.store.close()
        self.log.close()

    def authenticate(self, user: str, password: str) -> SenderProfile | None:
        """A scrypt check costs tens of ms of the event loop: a login that verified once is
        remembered (as a digest) so that an MTA reconnecting all day pays it once."""
        entry = self._users.get(user)
        if entry is None:
            return None
        stored, profile = entry
        digest = hashlib.sha256(password.encode("utf-8")).digest()
        known = self._verified.get(user)
        if known is not None and hmac.compare_digest(known, digest):
            return profile
        if not verify_password(stored, password):
            return None
        self._verified[user] = digest
        return profile

    def adopt(self, session: Session) -> None:
        """A session that authenticated under an older config (before a SIGHUP) gets this
        config's profile for its user, or none if the user is gone: the message is judged
        by the profile in force, not by the one the login found."""
        if session.auth_user is None:
            return
        entry = self._users.get(session.auth_user)
        session.profile = entry[1] if entry is not None else None

    def is_trusted(self, peer: str) -> bool:
        try:
            ip = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(ip in net for net in self.config.server.trusted_networks)

    def profile_for(
        self, session: Session, mail_from: str, from_domain: str = ""
    ) -> SenderProfile | None:
        """AUTH decides; else the envelope sender's domain; else the From domain."""
        if session.profile is not None:
            return session.profile
        for domain in (mail_from.rpartition("@")[2], from_domain):
            for profile in self.config.senders.values():
                if domain and profile.owns_domain(domain):
                    return profile
        return None

    async def check_recipient(self, session: Session, mail_from: str, address: str) -> Reply | None:
        if session.profile is None and not self.is_trusted(session.peer):
            return replies.S550_RELAY_DENIED
        try:
            rcpt = normalize(address)
        except AddressError as exc:
            return replies.S553_BAD_ADDRESS.with_text(_clip(f"Bad recipient address syntax: {exc}"))
        profile = self.profile_for(session, mail_from)
        if profile is None or not profile.marketing_only or profile.mode is not Mode.ENFORCE:
            return None
        trace = _Trace()
        try:
            findings = await self.pipeline.check_recipient(profile, mail_from, rcpt)
        except (StoreError, PolicyFailure) as exc:
            return self._temporary(trace, session, mail_from, [rcpt], exc, stage="rcpt")
        blocking = [f for f in findings if f.action is Action.BLOCK]
        if not blocking:
            return None
        decision_id = new_id()
        reply = _blocked_reply(blocking, decision_id)
        trace.record.update(
            stage="rcpt",
            decision_id=decision_id,
            sender_profile=profile.name,
            consignor=profile.consignor,
            mode=profile.mode.value,
            category="advertising",
            classified_by="profile",
            recipients={
                rcpt: {
                    "outcome": "block",
                    "would": "block",
                    "rules": list(dict.fromkeys(f.rule for f in blocking)),
                }
            },
            findings=[finding_record(f) for f in findings],
        )
        self._log(trace, session, mail_from, [rcpt], reply)
        return reply

    async def deliver(
        self, session: Session, mail_from: str, rcpt_tos: list[str], data: bytes
    ) -> Reply:
        trace = _Trace()
        rcpts = [normalize(r) for r in rcpt_tos]
        message = parse(data)
        trace.record.update(message_id=message.message_id, subject=message.subject, size=len(data))
        profile = self.profile_for(session, mail_from, message.from_domain)
        if profile is None:
            reply = replies.S550_NO_PROFILE.with_text(
                f"No sender profile for envelope sender {mail_from or '<>'} or From domain "
                f"{message.from_domain or '(none)'}; "
                "authenticate or configure senders.*.from_domains"
            )
            self._log(trace, session, mail_from, rcpts, reply)
            return reply
        trace.record.update(sender_profile=profile.name, consignor=profile.consignor)
        try:
            evaluation = await self.pipeline.evaluate(
                message, profile, Envelope(mail_from, tuple(rcpts))
            )
        except (StoreError, PolicyFailure) as exc:
            return self._temporary(trace, session, mail_from, rcpts, exc, stage="data")
        decision = decide(
            evaluation.findings, rcpts, profile.mode, evaluation.context.classification
        )
        trace.record.update(decision_record(decision), topic=evaluation.context.topic)
        if not decision.relayed or (
            decision.blocked and self.config.relay.on_partial_block == "reject"
        ):
            reply = _blocked_reply(
                [
                    f
                    for a in decision.blocked
                    for f in decision.recipients[a].findings
                    if f.action is Action.BLOCK
                ],
                decision.id,
            )
            self._log(trace, session, mail_from, rcpts, reply)
            return reply
        if evaluation.fixes:
            trace.record["fixes"] = list(evaluation.fixes)
        if decision.classification.category is Category.NON_ADVERTISING:
            reply = await self._relay(trace, decision, profile, mail_from, evaluation.message)
            self._log(trace, session, mail_from, rcpts, reply)
            return reply
        # K2's clock: the last-sent record is written (group-committed) while the next hop
        # takes the mail, and must be durable before the 250; if it fails, 451.
        record = asyncio.ensure_future(
            self.store.record_sent(profile.name, decision.relayed, datetime.now(UTC))
        )
        try:
            reply = await self._relay(trace, decision, profile, mail_from, evaluation.message)
        finally:
            await asyncio.wait([record])
        error = record.exception()
        if error is not None:
            if reply.code == 250:
                trace.record["next_hop_accepted"] = True  # the client's retry may duplicate
            failure = error if isinstance(error, Exception) else StoreError(repr(error))
            return self._temporary(trace, session, mail_from, rcpts, failure, stage="record")
        self._log(trace, session, mail_from, rcpts, reply)
        return reply

    def refused(self, session: Session, mail_from: str, rcpt_tos: list[str], reply: Reply) -> None:
        trace = _Trace()
        trace.record["stage"] = "smtp"
        self._log(trace, session, mail_from, rcpt_tos, reply)

    async def _relay(
        self,
        trace: _Trace,
        decision: Decision,
        profile: SenderProfile,
        mail_from: str,
        message: ParsedMessage,
    ) -> Reply:
        data = message.raw
        out = strip_headers(data, [CATEGORY_HEADER, TOPIC_HEADER, DECISION_HEADER])
        field = header_field(out, DECISION_HEADER, _decision_header(decision))
        try:  # the decision header is no signed field: it joins the mail in the one copy
            out = await self.keys.sign(out, message.from_domain, profile, prefix=field)
            signers = profile.signing_keys(message.from_domain)
            if signers:
                trace.record["dkim"] = [f"{k.domain}/{k.selector}" for k in signers]
        except SigningError as exc:
            trace.record["signing"] = str(exc)
            return replies.S554_UNSIGNABLE.with_text(_clip(f"{exc} (decision {decision.id})"))
        try:
            result = await self.next_hop.send(mail_from, decision.relayed, out)
        except TemporaryRelayError as exc:
            trace.record["next_hop"] = str(exc)
            return replies.S451_NEXT_HOP_DOWN if exc.code is None else replies.S451_NEXT_HOP_TEMP
        except PermanentRelayError as exc:
            trace.record["next_hop"] = str(exc)
            return _hop_reply(exc.code or 554, exc.message, decision.id)
        trace.record["next_hop"] = f"{result.code} {result.message}"
        match = _QUEUE_ID.search(result.message)
        trace.record["queue_id"] = match.group(1) if match else None
        failed = [
            (
                a,
                "5.7.1",
                _blocked_reply(
                    [f for f in decision.recipients[a].findings if f.action is Action.BLOCK],
                    decision.id,
                ).text,
            )
            for a in decision.blocked
        ]
        failed += [
            (a, _enhanced_of(m, "5.0.0"), f"{c} {m}") for a, (c, m) in result.refused.items()
        ]
        if failed:
            trace.record["dsn"] = await self._send_dsn(mail_from, data, failed)
        return _hop_reply(result.code, result.message, decision.id)

    async def _send_dsn(
        self, mail_from: str, data: bytes, failed: list[tuple[str, str, str]]
    ) -> str:
        """Tell the envelope sender which recipients did not get the mail (RFC 3464)."""
        if not mail_from:
            return "not sent: null envelope sender"
        dsn = build_dsn(
            reporting_mta=self.config.server.hostname,
            original_mail_from=mail_from,
            original_headers=_header_block(data),
            failed=failed,
            arrival=datetime.now(UTC),
        )
        try:
            await self.next_hop.send("", [mail_from], dsn)
        except (TemporaryRelayError, PermanentRelayError) as exc:
            return f"failed: {exc}"
        return "sent"

    def _temporary(
        self,
        trace: _Trace,
        session: Session,
        mail_from: str,
        rcpts: list[str],
        exc: Exception,
        stage: str,
    ) -> Reply:
        trace.record.update(stage=stage, error=str(exc))
        reply = replies.S451_CHECK_FAILED
        self._log(trace, session, mail_from, rcpts, reply)
        return reply

    def _log(
        self, trace: _Trace, session: Session, mail_from: str, rcpts: list[str], reply: Reply
    ) -> None:
        record: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "worker": self.worker,
            "decision_id": None,
            "queue_id": None,
            "client": {"ip": session.peer, "helo": session.helo, "tls": session.tls},
            "auth_user": session.auth_user,
            "sender_profile": None,
            "consignor": None,
            "envelope": {"mail_from": mail_from, "rcpt_to": rcpts},
        }
        record.update(trace.record)
        record["reply"] = str(reply)
        record["duration_ms"] = round((time.monotonic() - trace.started) * 1000, 3)
        try:
            self.log.write(record)
        except OSError as exc:
            # The reply stands: after a relay, a 451 for a full disk would make the client
            # send the mail again. The operator reads the line on stderr instead.
            _errors.error("decision log: cannot write (%s): %s", exc, json.dumps(record))


def _decision_header(decision: Decision) -> str:
    rules = decision.header_rules
    category = decision.classification.category.value
    value = f"{decision.id}; outcome={decision.header_outcome.value}; category={category}"
    return value + (f"; rules={','.join(rules)}" if rules else "")


def _blocked_reply(findings: list[Finding], decision_id: str) -> Reply:
    rules = ",".join(dict.fromkeys(f.rule for f in findings))
    first = findings[0].message if findings else ""
    text = f"Blocked by policy [{rules}]: {first} (decision {decision_id})"
    return replies.S550_POLICY.with_text(_clip(text))


def _hop_reply(code: int, message: str, decision_id: str) -> Reply:
    enhanced = _enhanced_of(message, f"{code // 100}.0.0")
    text = _ENHANCED.sub("", message).strip() or "OK"
    return Reply(code, enhanced, _clip(f"{text} (decision {decision_id})"))


def _enhanced_of(message: str, default: str) -> str:
    match = _ENHANCED.match(message)
    return match.group(0).strip() if match else default


def _clip(text: str) -> str:
    """SMTP reply text is one line of ASCII (RFC 5321 4.2)."""
    text = " ".join(text.split()).encode("ascii", "replace").decode("ascii")
    return text if len(text) <= _REPLY_TEXT_MAX else text[: _REPLY_TEXT_MAX - 3] + "..."


def _header_block(data: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        pos = data.find(sep)
        if pos >= 0:
            return data[: pos + len(sep)]
    return data
