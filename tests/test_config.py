"""Config loading: defaults, and the exact message for each kind of mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.config import ConfigError, FetchConfig, load_config
from tests.conftest import ROOT, write_config


def test_repository_defaults_load() -> None:
    cfg = load_config(ROOT / "newswatch.toml")
    assert cfg.warehouse_path == ROOT / "data" / "newswatch.duckdb"
    assert [f.name for f in cfg.feeds] == [
        "The Daily Meridian — World", "Northern Ledger", "Capital Wire"]
    assert all(f.local and f.url.startswith("file:///") for f in cfg.feeds)
    assert cfg.local_roots() == (ROOT / "seeds" / "fixture",)
    assert [t.name for t in cfg.topics] == ["trump-putin-contacts"]
    assert cfg.fetch == FetchConfig()  # the file states the defaults, and they agree


def test_documented_defaults_match_the_code() -> None:
    """newswatch.toml lists every key with its default: keep it true."""
    import tomllib

    from newswatch.config import SECTIONS

    data = tomllib.loads((ROOT / "newswatch.toml").read_text(encoding="utf-8"))
    for name, cls in SECTIONS.items():
        assert data[name] == {k: v for k, v in cls().__dict__.items()}, name


def _error(tmp_path: Path, text: str) -> str:
    write_config(tmp_path, [])
    cfg = tmp_path / "newswatch.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    return str(e.value).replace(str(tmp_path), "TMP")


def test_unknown_key_names_file_line_and_fix(tmp_path: Path) -> None:
    msg = _error(tmp_path, '[fetch]\nuser_agent = "x"\nconect_timeout_s = 3\n')
    assert msg == (
        "TMP/newswatch.toml, line 3: unknown key 'fetch.conect_timeout_s'. "
        "Did you mean 'connect_timeout_s'? Known keys in [fetch]: allow_private_networks, "
        "allowed_networks, connect_timeout_s, max_backoff_min, max_feed_bytes, "
        "max_interval_min, max_page_attempts, max_page_bytes, max_redirects, max_retries, "
        "max_retry_after_s, offline_min_hosts, per_host_concurrency, per_host_interval_s, "
        "poll_interval_min, read_timeout_s, retry_backoff_s, total_concurrency, "
        "total_timeout_s, unconditional_every, user_agent."
    )


def test_unknown_section(tmp_path: Path) -> None:
    msg = _error(tmp_path, "[fetcher]\nx = 1\n")
    assert msg == (
        "TMP/newswatch.toml, line 1: unknown key 'fetcher'. Did you mean 'fetch'? "
        "Known keys: alerts, archive, dedup, extract, fetch, ingest, sources, stories, "
        "warehouse."
    )


def test_wrong_type(tmp_path: Path) -> None:
    msg = _error(tmp_path, '[fetch]\nmax_redirects = "five"\n')
    assert msg == (
        "TMP/newswatch.toml, line 2: fetch.max_redirects must be a whole number, got 'five'. "
        "Write e.g. max_redirects = 5 (the default)."
    )


def test_out_of_range(tmp_path: Path) -> None:
    msg = _error(tmp_path, "[fetch]\nper_host_concurrency = 0\n")
    assert msg == (
        "TMP/newswatch.toml, line 2: fetch.per_host_concurrency = 0 is out of range; it must "
        "be between 1 and 64 (default 2: politeness: two open requests per host at most)."
    )


def test_bool_is_not_a_number(tmp_path: Path) -> None:
    msg = _error(tmp_path, "[extract]\nworkers = true\n")
    assert msg.startswith("TMP/newswatch.toml, line 2: extract.workers must be a whole number")


def test_toml_syntax_error(tmp_path: Path) -> None:
    msg = _error(tmp_path, "[fetch\nx = 1\n")
    assert msg == (
        "TMP/newswatch.toml: invalid TOML: Expected ']' at the end of a table declaration "
        "(at line 1, column 7). Fix the syntax there."
    )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(tmp_path / "nope.toml")
    assert str(e.value) == (
        f"{tmp_path}/nope.toml: no such file. Create it or point --config / "
        f"NEWSWATCH_CONFIG at one."
    )


def test_feed_url_needs_a_scheme(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [{"url": "example.com/rss"}])
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/feeds.toml, line 2: [[feed]] #1 url 'example.com/rss' must start with "
        f"http:// or https:// (or set local = true for a file on this machine)."
    )


def test_feed_unknown_key(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [{"url": "https://a.example/rss", "tittle": "x"}])
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/feeds.toml, line 3: unknown key 'tittle' in [[feed]] #1. "
        f"Known keys: enabled, local, name, outlet, url."
    )


def test_duplicate_feed(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [{"url": "https://a.example/rss"}] * 2)
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/feeds.toml: [[feed]] #2: https://a.example/rss is listed twice. Remove one."
    )


def test_bad_topic_query_names_topic_and_position(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], topics_toml=(
        '[[topic]]\nname = "t1"\nquery = "trump AND AND putin"\n'))
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/topics.toml: topic 't1': position 11: unexpected 'AND'. "
        f"Check the operators and parentheses around it."
    )


def test_bad_topic_name(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], topics_toml='[[topic]]\nname = "Trump Putin"\nquery = "a"\n')
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/topics.toml, line 2: topic name 'Trump Putin' must be lower-case letters, "
        f"digits and dashes, e.g. 'trump-putin-contacts'."
    )


def test_cli_reports_bad_config_and_exits_2(tmp_path: Path) -> None:
    write_config(tmp_path, [])
    (tmp_path / "newswatch.toml").write_text("[alerts]\nterminal = 1\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "newswatch.cli", "--config", str(tmp_path / "newswatch.toml"),
         "check"], capture_output=True, text=True, cwd=ROOT, check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (
        f"error: {tmp_path}/newswatch.toml, line 2: alerts.terminal must be a boolean, got 1. "
        f"Write e.g. terminal = true (the default).\n"
    )


def test_topic_aliases_and_min_score(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], topics_toml=(
        '[aliases]\nputin = ["Putin", "Vladimir Putin"]\n\n'
        '[[topic]]\nname = "a"\nquery = "putin"\nmin_score = 4\n\n'
        '[[topic]]\nname = "b"\nquery = "putin"\n[topic.aliases]\nputin = ["Путин"]\n'))
    a, b = load_config(cfg).topics
    assert (a.min_score, a.aliases) == (4.0, {"putin": ("Putin", "Vladimir Putin")})
    assert b.aliases == {"putin": ("Путин",)}  # a topic's own alias wins


def test_topic_alias_must_be_a_list(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], topics_toml=(
        '[[topic]]\nname = "a"\nquery = "putin"\n[topic.aliases]\nputin = "Putin"\n'))
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/topics.toml, line 4: aliases in [[topic]] #1 must be a table of lists of "
        f'strings, e.g. [topic.aliases] putin = ["Vladimir Putin", "Putin"].')


def test_topic_min_score_must_be_a_number(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], topics_toml=(
        '[[topic]]\nname = "a"\nquery = "putin"\nmin_score = "high"\n'))
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/topics.toml, line 4: min_score in [[topic]] #1 must be a number.")


def test_allowed_networks_must_be_networks(tmp_path: Path) -> None:
    msg = _error(tmp_path, '[fetch]\nallow_private_networks = true\n'
                           'allowed_networks = "10.1.0.0/16, intranet"\n')
    assert msg == (
        "TMP/newswatch.toml, line 3: fetch.allowed_networks: 'intranet' is not a network. "
        'Write CIDRs separated by commas, e.g. allowed_networks = "10.1.0.0/16, '
        '192.168.5.0/24".')


def test_topic_delivery_and_hourly_cap_are_checked(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], topics_toml=(
        '[[topic]]\nname = "a"\nquery = "putin"\ndelivery = "weekly"\n'))
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/topics.toml, line 4: topic 'a' delivery 'weekly' is not one of instant, "
        f'digest, both. Write delivery = "digest" to get this topic only in the digest.')
    cfg = write_config(tmp_path, [], topics_toml=(
        '[[topic]]\nname = "a"\nquery = "putin"\nmax_alerts_per_hour = 0\n'))
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (
        f"{tmp_path}/topics.toml, line 4: max_alerts_per_hour in [[topic]] #1 must be a whole "
        f"number >= 1.")
    cfg = write_config(tmp_path, [], topics_toml=(
        '[[topic]]\nname = "a"\nquery = "putin"\ndelivery = "both"\nmax_alerts_per_hour = 5\n'))
    [topic] = load_config(cfg).topics
    assert (topic.delivery, topic.max_alerts_per_hour) == ("both", 5)
