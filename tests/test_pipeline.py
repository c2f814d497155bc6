"""Policies load by entry point or dotted path, run in order, and fail closed."""

from __future__ import annotations

import pytest

from gateway.api import Action, Envelope
from gateway.config import ConfigError, PolicySpec
from gateway.message import parse
from gateway.pipeline import Pipeline, PolicyFailure, load_policies
from gateway.profile import SenderProfile
from gateway.store.sqlite import SqliteStore

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


async def test_a_third_party_async_policy_runs_with_its_options(store: SqliteStore) -> None:
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


async def test_a_policy_that_raises_is_a_failure_not_a_pass(store: SqliteStore) -> None:
    policies = load_policies([PolicySpec("tests.sample_policies:Broken")])
    with pytest.raises(PolicyFailure, match="policy 'broken' failed: RuntimeError: lookup service"):
        await Pipeline(policies, store).evaluate(MAIL, PROFILE, ENVELOPE)


async def test_consent_facts_reach_the_policies_for_every_recipient(store: SqliteStore) -> None:
    evaluation = await Pipeline(load_policies([PolicySpec("consent")]), store).evaluate(
        MAIL, PROFILE, ENVELOPE
    )
    assert evaluation.context.consent == {"a@example.jp": None}
    assert [f.rule for f in evaluation.findings] == ["C1"]
