"""The message mix every contender gets: the same messages, in the same order.

Three sources, shuffled together into one deck (fixed seed) that is dealt round after
round until the run has its count:

- ``example``: the mails of ``shared/examples`` with the envelope of ``cases.toml``;
- ``corpus``: the real-world mails of ``shared/corpora`` (Japanese charsets, broken
  MIME, spam), sent as 扇屋商店 to a consenting recipient; what tokuden decides about
  them is not predicted;
- generated campaign mails of 5-50 KB with 1-5 recipients from the synthetic consent
  world (:mod:`gateway.bench.consent_world`): ``ad`` (display-compliant advertising,
  every recipient consented), ``partial`` (some recipients without consent: relayed to
  the others, a DSN for them), ``blocked`` (no recipient has consent: 550) and
  ``transactional`` (order confirmations: no consent needed).

Each message knows what tokuden should answer (``expect``), when that is known.
"""

from __future__ import annotations

import quopri
import random
import re
import tomllib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.mime.text import MIMEText
from email.utils import formataddr
from pathlib import Path
from typing import Any, Literal

from gateway.bench.consent_world import SENDERS, absent, address, present

Expect = Literal["accept", "reject"]
SEED = 6  # issue 6
CORPUS_DIRS = ("corpora/mail/ja", "corpora/mail/structure", "corpora/spam")
CORPUS_SENDER = ("news@ogiya.example", "yoshida@example.jp")  # consented to 扇屋商店 (C1)
# Rows of the synthetic world that certainly pass: basis consent (i % 10 < 7), no topic
# restriction (i % 5 in 0, 1, 4), no consignor (i % 3 != 0), no opt-out (i % 100 != 99).
# i % 10 is the sender's number, so only these senders have such rows.
GOOD_SENDERS = (0, 1, 4, 5, 6)
KINDS = ("example", "corpus", "ad", "partial", "blocked", "transactional")


@dataclass(frozen=True)
class Mail:
    kind: str
    label: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    size: int  # bytes of the message as written
    payload: bytes  # dot-stuffed, CRLF, ending with the terminating ".\r\n"
    expect: Expect | None  # what tokuden should answer; None: not predicted


def wire_payload(message: bytes) -> bytes:
    """The DATA bytes of ``message``: CRLF line ends, leading dots doubled, ``.`` line."""
    text = re.sub(rb"\r\n|\r|\n", b"\r\n", message)
    if not text.endswith(b"\r\n"):
        text += b"\r\n"
    text = re.sub(rb"(?m)^\.", b"..", text)
    return text + b".\r\n"


def mail(
    kind: str,
    label: str,
    mail_from: str,
    rcpt_tos: Sequence[str],
    message: bytes,
    expect: Expect | None,
) -> Mail:
    return Mail(
        kind, label, mail_from, tuple(rcpt_tos), len(message), wire_payload(message), expect
    )


# --------------------------------------------------------------------------- shared mails


def example_mails(examples: Path) -> list[Mail]:
    world = tomllib.loads((examples / "cases.toml").read_text("utf-8"))
    senders: Mapping[str, Any] = world["senders"]
    out = []
    for case in world["case"]:
        outcome: dict[str, str] = case["outcome"]
        blocked = all(v == "block" for v in outcome.values())
        sender = f"news@{senders[case['sender']]['from_domains'][0]}"
        data = (examples / case["file"]).read_bytes()
        out.append(
            mail(
                "example",
                case["file"],
                sender,
                list(outcome),
                data,
                "reject" if blocked else "accept",
            )
        )
    return out


def corpus_mails(shared: Path) -> list[Mail]:
    out = []
    for folder in CORPUS_DIRS:
        for path in sorted((shared / folder).glob("*.eml")):
            out.append(
                mail(
                    "corpus",
                    path.name,
                    CORPUS_SENDER[0],
                    [CORPUS_SENDER[1]],
                    path.read_bytes(),
                    None,
                )
            )
    return out


# --------------------------------------------------------------------------- campaigns


def bench_profile(n: int) -> dict[str, Any]:
    """The sender profile of synthetic sender ``bench{n:02d}`` (a config table)."""
    return {
        "names": [f"株式会社ベンチ{n:02d}"],
        "postal_addresses": ["〒100-0001 東京都千代田区千代田1-1"],
        "optout_url": f"https://www.bench{n:02d}.example/mail/stop",
        "contact": [f"03-5555-01{n:02d}"],
        "from_domains": [f"bench{n:02d}.example"],
        "mode": "enforce",
    }


def good_row(rng: random.Random, rows: int, sender: int) -> int:
    while True:
        i = present(rng, rows, sender)
        if i % 3 and i % 100 != 99:
            return i


PRODUCTS = (
    "季節の和菓子詰め合わせ",
    "有機緑茶ティーバッグ",
    "手ぬぐい三枚組",
    "信楽焼の湯のみ",
    "国産ひのきのまな板",
    "今治タオルギフト",
    "京都の漬物セット",
    "南部鉄器の急須",
)


def _filler(rng: random.Random, ad: bool, k: int) -> str:
    item = PRODUCTS[rng.randrange(len(PRODUCTS))]
    price = rng.randrange(10, 300) * 100
    if ad:
        return f"・{item}（品番 W{k:05d}）通常 {price:,}円 → 会員様 {price * 8 // 10:,}円"
    return f"・{item}（品番 W{k:05d}） 数量 {rng.randint(1, 5)} 小計 {price:,}円"


def _body(rng: random.Random, n: int, ad: bool, target: int, charset: str) -> str:
    name = f"株式会社ベンチ{n:02d}"
    if ad:
        head = [
            f"{name} メールマガジン",
            "",
            "いつもご利用ありがとうございます。",
            "冬のセールを開催中です。期間限定の特別価格でご提供します。",
            "",
        ]
        foot = [
            "",
            "――――――――――――――――――――",
            "配信停止をご希望の方は、以下のURLからお手続きください。",
            f"https://www.bench{n:02d}.example/mail/stop",
            "",
            f"発行：{name}",
            "〒100-0001 東京都千代田区千代田1-1",
            f"お問い合わせ：03-5555-01{n:02d}",
        ]
    else:
        head = [f"{name} です。", "ご注文ありがとうございます。ご注文内容は次のとおりです。", ""]
        foot = ["", "発送のお知らせは商品の出荷時にお送りします。", "", name]
    lines = list(head)
    size = sum(len(s.encode(charset, "replace")) + 2 for s in head + foot)
    k = 0
    while size < target:
        line = _filler(rng, ad, k)
        lines.append(line)
        size += len(line.encode(charset, "replace")) + 8  # shift sequences, encoding overhead
        k += 1
    return "\n".join(lines + foot) + "\n"


def _html(text: str) -> str:
    paragraphs = "".join(f"<p>{line}</p>\n" if line else "<br>\n" for line in text.splitlines())
    return f"<html><body>\n{paragraphs}</body></html>\n"


def _message(
    rng: random.Random, k: int, kind: str, n: int, rcpts: Sequence[str], shape: str, target: int
) -> bytes:
    ad = kind != "transactional"
    charset = "iso-2022-jp" if shape != "utf-8" else "utf-8"
    text = _body(rng, n, ad, target if shape != "alternative" else target // 2, charset)
    msg: MIMENonMultipart | MIMEMultipart
    if shape == "alternative":
        html = MIMENonMultipart("text", "html", charset="utf-8")
        html.set_payload(quopri.encodestring(_html(text).encode("utf-8")).decode("ascii"))
        html["Content-Transfer-Encoding"] = "quoted-printable"
        msg = MIMEMultipart("alternative")
        msg.attach(MIMEText(text, "plain", "iso-2022-jp"))
        msg.attach(html)
    else:
        msg = MIMEText(text, "plain", charset)
    domain = f"bench{n:02d}.example"
    subject = (
        f"【株式会社ベンチ{n:02d}】冬のセールのお知らせ No.{k}"
        if ad
        else f"ご注文ありがとうございます（注文番号 {k:06d}）"
    )
    msg["Subject"] = Header(subject, charset).encode()
    msg["From"] = formataddr((f"株式会社ベンチ{n:02d}", f"news@{domain}"), charset)
    msg["To"] = rcpts[0]
    msg["Date"] = "Thu, 03 Dec 2026 10:00:00 +0900"
    msg["Message-ID"] = f"<bench.{k}.{kind}@{domain}>"
    return msg.as_bytes()


def campaign(rng: random.Random, k: int, kind: str, rows: int) -> Mail:
    if kind == "transactional":
        n = rng.randrange(len(SENDERS))
        picks = [present(rng, rows, n) if rng.random() < 0.5 else absent(rng, rows, n)]
        picks += [absent(rng, rows, n) for _ in range(rng.randint(0, 1))]
    else:
        n = GOOD_SENDERS[rng.randrange(len(GOOD_SENDERS))]
        count = rng.randint(1, 5) if kind != "partial" else rng.randint(2, 5)
        good = count if kind == "ad" else 0 if kind == "blocked" else rng.randint(1, count - 1)
        picks = [good_row(rng, rows, n) for _ in range(good)]
        picks += [absent(rng, rows, n) for _ in range(count - good)]
    rcpts = list(dict.fromkeys(address(i) for i in picks))
    target = rng.randint(5, 50) * 1024
    shape = rng.choice(("iso-2022-jp", "utf-8", "alternative"))
    body_rng = random.Random(rng.random())
    data = _message(random.Random(body_rng.random()), k, kind, n, rcpts, shape, target)
    if len(data) > target * 1.1:  # the encodings' overhead: aim again, scaled down
        body = target * target // len(data)
        data = _message(random.Random(body_rng.random()), k, kind, n, rcpts, shape, body)
    expect: Expect = "reject" if kind == "blocked" else "accept"
    return mail(kind, f"{kind}-{k}", f"news@bench{n:02d}.example", rcpts, data, expect)


def large_mail(rows: int, size: int) -> Mail:
    """About ``size`` bytes as sent (CRLF line ends): a display-compliant advertisement of
    ``bench00`` to one consenting recipient, a short text part and a base64 attachment.

    What the bounded-memory phase sends: a real MIME mail that tokuden must parse,
    check, sign and relay whole (the attachment is random, so nothing compresses it).
    """
    rng = random.Random(SEED)
    n = GOOD_SENDERS[0]
    rcpt = address(good_row(rng, rows, n))
    text = _body(rng, n, True, 2048, "iso-2022-jp")
    domain = f"bench{n:02d}.example"

    def build(raw: bytes) -> bytes:
        msg = MIMEMultipart("mixed")
        msg.attach(MIMEText(text, "plain", "iso-2022-jp"))
        attachment = MIMEApplication(raw, "pdf")  # base64, 76 characters a line
        attachment.add_header("Content-Disposition", "attachment", filename="catalogue.pdf")
        msg.attach(attachment)
        msg["Subject"] = Header(
            f"【株式会社ベンチ{n:02d}】冬のカタログ（PDF）", "iso-2022-jp"
        ).encode()
        msg["From"] = formataddr((f"株式会社ベンチ{n:02d}", f"news@{domain}"), "iso-2022-jp")
        msg["To"] = rcpt
        msg["Date"] = "Thu, 03 Dec 2026 10:00:00 +0900"
        msg["Message-ID"] = f"<bench.large.{size}@{domain}>"
        return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))

    overhead = len(build(b""))
    raw = random.Random(SEED).randbytes(max(0, size - overhead) * 57 // 78)  # 57 -> 76 + CRLF
    return mail("large", f"large-{size}", f"news@{domain}", [rcpt], build(raw), "accept")


CAMPAIGN_SHARE = {"ad": 45, "transactional": 20, "partial": 15, "blocked": 20}


def campaign_mails(count: int, rows: int, seed: int = SEED) -> list[Mail]:
    rng = random.Random(seed)
    kinds = [kind for kind, share in CAMPAIGN_SHARE.items() for _ in range(share)]
    return [campaign(rng, k, kinds[rng.randrange(len(kinds))], rows) for k in range(count)]


# --------------------------------------------------------------------------- the deck


@dataclass(frozen=True)
class Mix:
    deck: tuple[Mail, ...]  # distinct messages, in dealing order
    warmup: int
    messages: int

    def mail(self, k: int) -> Mail:
        """The ``k``-th message of the run (warm-up first)."""
        return self.deck[k % len(self.deck)]

    def summary(self) -> dict[str, Any]:
        measured = [self.mail(self.warmup + k) for k in range(self.messages)]
        sizes = sorted(m.size for m in measured)
        return {
            "messages": self.messages,
            "warmup": self.warmup,
            "distinct": len(self.deck),
            "kinds": dict(Counter(m.kind for m in measured)),
            "recipients": sum(len(m.rcpt_tos) for m in measured),
            "bytes_total": sum(sizes),
            "bytes_median": sizes[len(sizes) // 2] if sizes else 0,
            "bytes_max": sizes[-1] if sizes else 0,
        }


def build(shared: Path, rows: int, messages: int, warmup: int, campaigns: int = 300) -> Mix:
    deck = (
        example_mails(shared / "examples") + corpus_mails(shared) + campaign_mails(campaigns, rows)
    )
    random.Random(SEED).shuffle(deck)
    return Mix(tuple(deck), warmup, messages)
