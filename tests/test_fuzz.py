"""Property tests over everything we read from strangers (tests/fuzz_targets.py): each target
gets a bounded, derandomised set of examples so CI runs them in seconds; any exception other
than our documented error types fails. `python bench/fuzz.py TARGET --seconds N` runs longer."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz_targets import TARGETS

EXAMPLES = {"page": 60}  # trafilatura costs ~15 ms a page; the rest are cheap
DEFAULT_EXAMPLES = 200


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_no_input_crashes(name: str) -> None:
    target = TARGETS[name]

    @settings(max_examples=EXAMPLES.get(name, DEFAULT_EXAMPLES), deadline=None, database=None,
              derandomize=True, suppress_health_check=list(HealthCheck))
    @given(target.strategy())
    def run(data) -> None:
        target.check(data)

    run()


def test_found_by_fuzzing_a_nul_in_the_xml_encoding_name() -> None:
    """bench/fuzz.py feed: feedparser raised ValueError (embedded null character) decoding
    with the prolog's encoding name; now a stored outcome."""
    from tests.fuzz_targets import check_feed
    from tests.test_jsonfeed import poll

    body = (b'<?xml version="1.0" encoding="\x00TF-8"?><rss version="2.0"><channel>'
            b"<item><link>https://e.example/a</link></item></channel></rss>")
    p = poll(body, content_type="application/rss+xml")
    assert (p.status, p.reason, p.entries) == ("soft", "unreadable_feed", ())
    check_feed((body, None))


@pytest.mark.parametrize("query", ["0^.", "0~.", "a^1.2.3", '"a b"~.'])
def test_found_by_fuzzing_a_dot_for_a_number_in_a_query(query: str) -> None:
    """bench/fuzz.py query: luqum raised decimal.InvalidOperation or ValueError for these."""
    from tasks.topics import QueryError, parse_query

    with pytest.raises(QueryError) as e:
        parse_query(query)
    assert str(e.value) == ('the number after ~ or ^ is not a number; write e.g. '
                            '"trump putin"~12.')


def test_found_by_fuzzing_a_feeds_file_that_is_a_folder(tmp_path) -> None:
    """bench/fuzz.py config: `[sources] feeds = ""` raised IsADirectoryError."""
    from newswatch.config import ConfigError, load_config
    from tests.fuzz_targets import check_config

    cfg = tmp_path / "newswatch.toml"
    cfg.write_text('[sources]\nfeeds = ""\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_config(cfg)
    assert str(e.value) == (f'{tmp_path}: is a folder, not a file. Name the file itself (e.g. '
                            f'feeds = "seeds/feeds.toml").')
    check_config('[sources]\nfeeds = ""')
