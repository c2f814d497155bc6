"""The config file: defaults that run, and errors that name the file, the key and the fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import ConfigError, load, parse
from gateway.profile import Category, Mode
from tests.cases import EXAMPLE_CONFIG


def fault(text: str) -> str:
    with pytest.raises(ConfigError) as err:
        parse(text, "t.toml", Path("/etc/tokuden"))
    return str(err.value)


def test_embedded_default_listens_on_loopback_with_maildir_and_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("TOKUDEN_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    config = load()
    assert config.source == "<embedded default>"
    assert [str(x) for x in config.server.listen] == ["127.0.0.1:10025"]
    assert config.relay.next_hop == f"maildir:{tmp_path / 'var/maildir'}"
    assert config.store.url == f"sqlite:{tmp_path / 'var/consent.db'}"
    assert config.senders == {}
    assert config.server.workers == 1


def test_env_var_names_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKUDEN_CONFIG", str(EXAMPLE_CONFIG))
    assert load().source == str(EXAMPLE_CONFIG)


def test_shipped_example_config_is_valid_and_resolves_paths_beside_it() -> None:
    config = load(EXAMPLE_CONFIG)
    assert sorted(config.senders) == ["hikari", "minato", "ogiya"]
    ogiya = config.senders["ogiya"]
    assert ogiya.mode is Mode.ENFORCE
    assert ogiya.from_domains == ("ogiya.example",)
    assert config.relay.next_hop == f"maildir:{EXAMPLE_CONFIG.parent.parent / 'var/tour/maildir'}"


def test_from_domains_are_stored_as_lower_case_a_labels() -> None:
    config = parse(
        "[senders.a]\nfrom_domains = ['Ogiya.Example.', '扇屋.example']\n", "t.toml", Path("/")
    )
    assert config.senders["a"].from_domains == ("ogiya.example", "xn--ogt12l.example")


def test_new_senders_start_in_monitor_and_marketing_only_means_advertising() -> None:
    config = parse("[senders.a]\nmarketing_only = true\n", "t.toml", Path("/"))
    assert config.senders["a"].mode is Mode.MONITOR
    assert config.senders["a"].default_category is Category.ADVERTISING


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server\n", "t.toml: not valid TOML: "),
        ("[servr]\n", "t.toml: servr: unknown section"),
        (
            "[server]\nlisten = ['localhost']\n",
            "t.toml: server.listen[0]: 'localhost' is not host:port",
        ),
        (
            "[server]\nlisten = ['127.0.0.1:99999']\n",
            "t.toml: server.listen[0]: '127.0.0.1:99999': port 99999 is not in 1-65535",
        ),
        (
            "[server]\nmax_message_size = -1\n",
            "t.toml: server.max_message_size: must be greater than 0",
        ),
        ("[server]\ntimeout = 'long'\n", "t.toml: server.timeout: must be a number, not str"),
        ("[server]\nworkers = 0\n", "t.toml: server.workers: must be greater than 0, not 0"),
        ("[server]\nworkers = 2.5\n", "t.toml: server.workers: must be an integer, not float"),
        (
            "[server]\ntrusted_networks = ['10.0.0.300/8']\n",
            "t.toml: server.trusted_networks[0]: '10.0.0.300/8' is not an IP network",
        ),
        (
            "[server]\ntls_cert = 'a.pem'\n",
            "t.toml: server.tls_cert: tls_cert and tls_key go together",
        ),
        (
            "[relay]\nnext_hop = 'smtp://host'\n",
            "t.toml: relay.next_hop: 'smtp://host' is not smtp://host:port",
        ),
        ("[relay]\non_partial_block = 'drop'\n", "t.toml: relay.on_partial_block: 'drop': must be"),
        (
            "[store]\nurl = 'mysql://x'\n",
            "t.toml: store.url: 'mysql://x': use sqlite:PATH or postgresql://host/db",
        ),
        ("[senders.a]\nmode = 'block'\n", "t.toml: senders.a.mode: 'block': must be enforce"),
        ("[senders.a]\nname = ['x']\n", "t.toml: senders.a.name: unknown key"),
        ("[senders.a]\nnames = 'x'\n", "t.toml: senders.a.names: must be an array, not str"),
        ("[senders.a]\ndefault_category = 'spam'\n", "t.toml: senders.a.default_category: 'spam'"),
        (
            "[senders.a]\nauth = {u = 'p'}\n[senders.b]\nauth = {u = 'q'}\n",
            "t.toml: senders.b.auth.u: user already belongs to senders.a",
        ),
        ("[[policies]]\noptions = {}\n", "t.toml: policies[0].use: missing"),
        ("[relay]\negress = ['203.0.113.300']\n", "t.toml: relay.egress[0]: '203.0.113.300'"),
        ("[senders.a]\nauth_action = 'drop'\n", "t.toml: senders.a.auth_action: 'drop': must be"),
        ("[dns]\nnameservers = ['ns1.example']\n", "t.toml: dns.nameservers[0]: 'ns1.example'"),
        ("[dns]\nport = 70000\n", "t.toml: dns.port: 70000 is not in 1-65535"),
        ("[dns]\ntimeout = 0\n", "t.toml: dns.timeout: must be greater than 0"),
        ("[dns]\ntimeout = 3\nlifetime = 1\n", "t.toml: dns.lifetime: 1.0 is shorter than"),
        ("[dns]\nserver = '1.1.1.1'\n", "t.toml: dns.server: unknown key"),
        ("[senders.a]\ndkim = ['x']\n", "t.toml: senders.a.dkim[0]: must be a table"),
        (
            "[senders.a]\ndkim = [{ domain = 'a.example', selector = 's1', key = 'none.pem' }]\n",
            "t.toml: senders.a.dkim[0].key: no such file: /etc/tokuden/none.pem",
        ),
        (
            "[senders.a]\nfrom_domains = ['ok.example', 'bad_label.example']\n",
            "t.toml: senders.a.from_domains[1]: 'bad_label.example': domain 'bad_label.example' "
            "has a bad label 'bad_label'",
        ),
    ],
)
def test_faults_name_file_key_and_what_is_wrong(text: str, message: str) -> None:
    assert fault(text).startswith(message)


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"^{tmp_path / 'none.toml'}: cannot read: No such file"):
        load(tmp_path / "none.toml")
