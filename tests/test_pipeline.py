"""Policies load by entry point or dotted path, run in order, and fail closed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.api import Action, Envelope
from gateway.config import ConfigError, PolicySpec
from gateway.message import parse
from gateway.pipeline import Pipeline, PolicyFailure, load_policies
from gateway.profile import Mode, SenderProfile
from gateway.store import ConsentStore

PROFILE = SenderProfile(
    name="ogiya", consignor="扇屋商店", names=("扇屋商店",), from_domains=("ogiya.example",)
)
MAIL = parse(b"From: news@ogiya.example\r\nTo: a@example.jp\r\nSubject: FREE wine\r\n\r\nhello\r\n")
ENVELOPE = Envelope("bounce@ogiya.example", ("a@example.jp",))


def test_builtins_load_by_entry_point_name_in_config_order() -> None:
    policies = load_policies([PolicySpec("display"), PolicySpec("identity"), PolicySpec("consent")])
    assert [p.name for p in policies] == ["display", "identity", "consent"]


def test_unknown_policy_names_the_key_and_the_installed_ones() -> None:
    with pytest.raises(ConfigError) as err:
        load_policies([PolicySpec("consent"), PolicySpec("spelling")], "t.toml")
    assert str(err.value).startswith(
        "t.toml: policies[1].use: no policy named 'spelling' (installed: "
    )
    assert "consent" in str(err.value)


@pytest.mark.parametrize(
    ("use", "fault"),
    [
        ("tests.nowhere:X", "cannot import 'tests.nowhere'"),
        ("tests.sample_policies:Missing", "'tests.sample_policies' has no 'Missing'"),
        ("tests.sample_policies:NotAPolicy", "has no name and check(message, context)"),
    ],
)
def test_bad_dotted_paths_are_config_errors(use: str, fault: str) -> None:
    with pytest.raises(ConfigError, match=fault.replace("(", r"\(").replace(")", r"\)")):
        load_policies([PolicySpec(use)])


def test_options_a_policy_does_not_take_are_config_errors() -> None:
    with pytest.raises(ConfigError) as err:
        load_policies([PolicySpec("consent", {"strict": True})], "t.toml")
    assert str(err.value) == (
        "t.toml: policies[0].use: 'consent' rejected its options: takes no options, got: strict"
    )


async def test_a_third_party_async_policy_runs_with_its_options(store: ConsentStore) -> None:
    policies = load_policies(
        [PolicySpec("tests.sample_policies:SubjectMustNotShout", {"word": "FREE"})]
    )
    evaluation = await Pipeline(policies, store).evaluate(MAIL, PROFILE, ENVELOPE)
    [finding] = evaluation.findings
    assert (finding.rule, finding.action, finding.policy) == (
        "X-SHOUT",
        Action.ANNOTATE,
        "no-shouting",
    )


async def test_a_policy_that_raises_is_a_failure_not_a_pass(store: ConsentStore) -> None:
    policies = load_policies([PolicySpec("tests.sample_policies:Broken")])
    with pytest.raises(PolicyFailure, match="policy 'broken' failed: RuntimeError: lookup service"):
        await Pipeline(policies, store).evaluate(MAIL, PROFILE, ENVELOPE)


async def test_consent_facts_reach_the_policies_for_every_recipient(store: ConsentStore) -> None:
    evaluation = await Pipeline(load_policies([PolicySpec("consent")]), store).evaluate(
        MAIL, PROFILE, ENVELOPE
    )
    assert evaluation.context.consent == {"a@example.jp": None}
    assert [f.rule for f in evaluation.findings] == ["C1"]


FOOTER_PROFILE = SenderProfile(
    name="ogiya",
    consignor="扇屋商店",
    names=("扇屋商店",),
    postal_addresses=("〒100-0013 東京都千代田区霞が関9-1-1",),
    optout_url="https://www.ogiya.example/mail/stop",
    contact=("03-1234-5678",),
    from_domains=("ogiya.example",),
    display_fix="footer",
)
NO_OPTOUT = parse(
    "From: news@ogiya.example\r\nTo: a@example.jp\r\nSubject: sale\r\nMIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    "扇屋商店の週末セール。\r\n".encode()
)


@pytest.mark.parametrize("mode", [Mode.ENFORCE, Mode.ANNOTATE])
async def test_the_footer_fix_repairs_and_annotates(store: ConsentStore, mode: Mode) -> None:
    profile = replace(FOOTER_PROFILE, mode=mode)
    evaluation = await Pipeline(load_policies([PolicySpec("display")]), store).evaluate(
        NO_OPTOUT, profile, ENVELOPE
    )
    assert evaluation.fixes == ("footer",)
    assert evaluation.message.raw != NO_OPTOUT.raw
    assert {f.code for f in evaluation.findings} == {"display.fixed_by_footer"}
    assert {f.rule for f in evaluation.findings} == {"D2", "D3", "D4", "D5"}
    assert {f.action for f in evaluation.findings} == {Action.ANNOTATE}


async def test_monitor_mode_never_changes_the_mail(store: ConsentStore) -> None:
    profile = replace(FOOTER_PROFILE, mode=Mode.MONITOR)
    evaluation = await Pipeline(load_policies([PolicySpec("display")]), store).evaluate(
        NO_OPTOUT, profile, ENVELOPE
    )
    assert evaluation.fixes == ()
    assert evaluation.message is NO_OPTOUT
    assert {f.rule for f in evaluation.findings} == {"D2", "D3", "D4", "D5"}


async def test_a_block_the_charset_cannot_hold_leaves_the_findings_and_says_why(
    store: ConsentStore,
) -> None:
    ascii_mail = parse(
        b"From: news@ogiya.example\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSale\r\n"
    )
    evaluation = await Pipeline(load_policies([PolicySpec("display")]), store).evaluate(
        ascii_mail, replace(FOOTER_PROFILE, mode=Mode.ENFORCE), ENVELOPE
    )
    assert evaluation.fixes == ()
    note = evaluation.findings[-1]
    assert (note.code, note.action, note.rule) == ("display.fix_not_applied", Action.LOG, "D1")
    assert "cannot be written in the part's charset us-ascii" in note.message
    assert {f.rule for f in evaluation.findings if f.action is Action.BLOCK} >= {"D1", "D2"}


async def test_a_block_that_lacks_an_item_is_not_applied(store: ConsentStore) -> None:
    profile = replace(FOOTER_PROFILE, mode=Mode.ENFORCE, display_block="{name} {postal_address}")
    evaluation = await Pipeline(load_policies([PolicySpec("display")]), store).evaluate(
        NO_OPTOUT, profile, ENVELOPE
    )
    assert evaluation.fixes == ()
    assert evaluation.message is NO_OPTOUT
    note = evaluation.findings[-1]
    assert note.code == "display.fix_not_applied"
    assert "the display block itself lacks D2, D3, D5" in note.message
    assert "senders.ogiya.display_block" in note.message


ALTERNATIVE_NO_OPTOUT = parse(
    b"From: news@ogiya.example\r\nTo: a@example.jp\r\nSubject: sale\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
    b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + "扇屋商店の週末セール。\r\n".encode()
    + b"--b\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    + "<html><body><p>扇屋商店の週末セール。</p></body></html>\r\n".encode()
    + b"--b--\r\n"
)


async def test_fixed_by_footer_names_every_part_the_block_was_added_to(
    store: ConsentStore,
) -> None:
    """Both alternatives lack D2-D5 and both get the block: the annotation names both parts."""
    evaluation = await Pipeline(load_policies([PolicySpec("display")]), store).evaluate(
        ALTERNATIVE_NO_OPTOUT, replace(FOOTER_PROFILE, mode=Mode.ENFORCE), ENVELOPE
    )
    assert evaluation.fixes == ("footer",)
    assert {f.rule for f in evaluation.findings} == {"D2", "D3", "D4", "D5"}
    both = "text/plain part #0 (utf-8), text/html part #1 (utf-8)"
    for finding in evaluation.findings:
        assert finding.code == "display.fixed_by_footer"
        assert finding.message.endswith(f"appended to {both}")
        assert finding.evidence.endswith(f"; display block added to {both}")
        assert "(text/plain part #0)" in finding.evidence  # what each view lacked
        assert "(text/html part #1)" in finding.evidence


async def test_fix_not_applied_says_the_block_would_be_hidden_not_the_config(
    store: ConsentStore,
) -> None:
    """The HTML leaves a display:none element open at </body>: the block written there is not
    seen, which the note says, instead of asking whether the profile's block is complete."""
    hidden_end = parse(
        b"From: news@ogiya.example\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + '<html><body><p>扇屋商店の週末セール。</p><div style="display:none">プレヘッダー'
        "</body></html>\r\n".encode()
    )
    evaluation = await Pipeline(load_policies([PolicySpec("display")]), store).evaluate(
        hidden_end, replace(FOOTER_PROFILE, mode=Mode.ENFORCE), ENVELOPE
    )
    assert evaluation.fixes == ()
    note = evaluation.findings[-1]
    assert note.code == "display.fix_not_applied"
    assert "a reader would not see it (text/html part #0: hidden (display:none))" in note.message
    assert "display_block" not in note.message
    assert note.message.isascii()


async def test_fix_not_applied_names_what_else_in_the_mail_still_fails(
    store: ConsentStore,
) -> None:
    """The block is shown and complete; a house rule still blocks D2 for the List-Unsubscribe
    header, which no footer can change: the note says so and quotes that finding."""
    policies = load_policies(
        [PolicySpec("display"), PolicySpec("tests.sample_policies:OptoutMatchesListUnsubscribe")]
    )
    listed = parse(b"List-Unsubscribe: <https://esp.example/u/1>\r\n" + NO_OPTOUT.raw)
    evaluation = await Pipeline(policies, store).evaluate(
        listed, replace(FOOTER_PROFILE, mode=Mode.ENFORCE), ENVELOPE
    )
    assert evaluation.fixes == ()
    note = evaluation.findings[-1]
    assert note.code == "display.fix_not_applied"
    assert note.message == (
        "the footer fix was not applied: the display block is shown and complete, but the mail"
        " around it still lacks D2: the List-Unsubscribe URL https://esp.example/u/1 is not the"
        " opt-out URL the body shows"
    )


async def test_fix_not_applied_leaves_the_cause_open_when_the_diagnosis_raises(
    store: ConsentStore,
) -> None:
    """The note's diagnosis runs the complaining policy on the block alone; one that raises
    there (it assumes a From header) leaves the cause open; the mail does not fail (451)."""
    policies = load_policies(
        [PolicySpec("display"), PolicySpec("tests.sample_policies:FromNameIsSender")]
    )
    evaluation = await Pipeline(policies, store).evaluate(
        NO_OPTOUT, replace(FOOTER_PROFILE, mode=Mode.ENFORCE), ENVELOPE
    )
    assert evaluation.fixes == ()
    note = evaluation.findings[-1]
    assert note.code == "display.fix_not_applied"
    assert note.message == (
        "the footer fix was not applied: with the display block the mail still lacks D1"
    )
