"""The service's own choices: which profile a client is, and remembered logins."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import load
from gateway.passwords import hash_password
from gateway.service import Gateway, Session
from gateway.store import StoreError
from tests.cases import example_config


@pytest.fixture
async def service(tmp_path: Path):  # type: ignore[no-untyped-def]
    hashed = hash_password("minato-secret")
    edits = {'auth = { minato = "minato-secret" }': f'auth = {{ minato = "{hashed}" }}'}
    gateway = await Gateway.open(load(example_config(tmp_path, edits=edits)))
    yield gateway
    await gateway.close()


def test_auth_maps_a_user_to_its_profile_with_plain_or_hashed_passwords(service: Gateway) -> None:
    ogiya = service.authenticate("ogiya", "ogiya-secret")
    minato = service.authenticate("minato", "minato-secret")
    assert ogiya is not None and ogiya.name == "ogiya"
    assert minato is not None and minato.name == "minato"
    assert service.authenticate("minato", "minato-secret") is minato  # remembered login
    assert service.authenticate("minato", "wrong") is None
    assert service.authenticate("minato", "ogiya-secret") is None
    assert service.authenticate("nobody", "x") is None


@pytest.mark.parametrize(
    ("session_user", "mail_from", "from_domain", "expected"),
    [
        ("hikari", "news@ogiya.example", "ogiya.example", "hikari"),  # AUTH decides
        (None, "bounce@mail.minato.example", "ogiya.example", "minato"),  # then the envelope
        (None, "", "hikari-net.example", "hikari"),  # then the From domain
        (None, "x@ogiya.example.evil.test", "evil.test", None),  # look-alikes match nothing
    ],
)
def test_profile_for_prefers_auth_then_envelope_then_from(
    service: Gateway,
    session_user: str | None,
    mail_from: str,
    from_domain: str,
    expected: str | None,
) -> None:
    session = Session(peer="127.0.0.1")
    if session_user is not None:
        session.profile = service.config.senders[session_user]
    profile = service.profile_for(session, mail_from, from_domain)
    assert (profile.name if profile else None) == expected


def test_trusted_networks_come_from_the_config(service: Gateway) -> None:
    assert service.is_trusted("127.0.0.1")
    assert service.is_trusted("::1")
    assert not service.is_trusted("192.0.2.10")
    assert not service.is_trusted("not-an-ip")


async def test_a_log_file_that_cannot_be_opened_names_the_config_and_the_key(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    edits = {'file = "../var/tour/decisions.log"': f'file = "{blocker / "decisions.log"}"'}
    path = example_config(tmp_path, edits=edits)
    with pytest.raises(OSError) as failed:
        await Gateway.open(load(path))
    assert str(failed.value) == (
        f"{path}: log.file: cannot open {blocker}/decisions.log: {blocker} is not a folder"
    )


async def test_a_store_that_cannot_be_created_names_the_config_and_the_key(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    path = example_config(tmp_path, store=blocker / "consent.db")
    with pytest.raises(StoreError) as failed:
        await Gateway.open(load(path))
    assert str(failed.value).startswith(f"{path}: store.url: {blocker}/consent.db")
