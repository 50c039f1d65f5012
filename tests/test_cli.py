"""The newswatch command: exact output and exact error text."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from newswatch.cli import format_table, main
from tests import servers
from tests.conftest import ROOT, fixture_feeds, write_config


def cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newswatch.cli", *args], capture_output=True,
                          text=True, cwd=cwd, check=False)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None):
    """A warehouse filled by one `newswatch run` over the fixture served on loopback."""
    import asyncio

    from flows.ingest import ingest
    from tests.conftest import FIXTURE

    tmp = tmp_path_factory.mktemp("cli")
    with servers.static_site(FIXTURE) as site:
        cfg = write_config(tmp, fixture_feeds(site.url))
        asyncio.run(ingest(str(cfg), all_feeds=True))
        yield cfg, site


def normalise(out: str, site_url: str, tmp: Path) -> str:
    out = out.replace(site_url, "SITE").replace(str(tmp), "TMP")
    out = re.sub(r"run [0-9a-f]{12}", "run RUNID", out)
    return re.sub(r"\d+\.\d+ s|\b\d\.\d\d\b", "T", out)


@pytest.mark.slow
def test_run_prints_progress_alerts_and_summary(prefect_harness, site, tmp_path, capsys) -> None:
    cfg = write_config(tmp_path, fixture_feeds(site.url))
    assert main(["--config", str(cfg), "run", "--all-feeds"]) == 0
    out = normalise(capsys.readouterr().out, site.url, cfg.parent)
    assert out.splitlines()[:9] == [
        "newswatch: ingest run, 3 feed(s), 1 topic(s) → TMP/nw.duckdb",
        "  · 3 feed(s) due",
        "  · polled 3 feed(s), 0 failed",
        "  · 7 new entr(ies), 7 page(s) to fetch",
        "  · fetched 7 page(s), 0 failed",
        "  · extracted 7 article(s), 0 from feed summaries",
        "  · stored 7 new article(s), 0 exact cop(ies), 0 new version(s)",
        "  · 2 near-duplicate(s), 5 new stor(ies)",
        "  · 3 topic match(es), 1 new alert(s)",
    ]
    alerts = [line for line in out.splitlines() if line.startswith("ALERT")]
    assert alerts == [
        "ALERT [trump-putin-contacts] Trump says he has spoken to Putin about ending Ukraine war",
    ]
    assert "      3 outlets so far: Capital Wire, Northern Ledger, The Daily Meridian" in out
    rows = [re.sub(r"\s+", " ", line) for line in out.splitlines() if line.startswith("│")]
    assert rows == [
        "│ feeds │ 3 polled, 0 failed │ T │",
        "│ entries │ 7 new │ T │",
        "│ pages │ 7 fetched, 0 failed, extracted as they arrived │ T │",
        "│ extract │ 7 extracted, 0 from summary, 0 without article │ (with pages) │",
        "│ load │ 7 new articles, 0 exact copies │ T │",
        "│ stories │ 2 near-duplicates, 5 new stories │ T │",
        "│ topics │ 3 matches │ T │",
        "│ alerts │ 1 new, 2 deliveries sent, 0 failed │ T │",
    ]
    from prefect.settings import PREFECT_API_URL

    assert out.splitlines()[-2:] == [
        f"done in T: the run's stages T; Prefect start-up T (the server at "
        f"{PREFECT_API_URL.value()})",
        'Query it: newswatch sql "SELECT title, outlet FROM articles"',
    ]


def test_prefect_startup_says_how_to_avoid_the_temporary_server() -> None:
    from flows.prefect_api import PrefectApi
    from newswatch.cli import prefect_startup

    assert prefect_startup(9.84, PrefectApi("http://127.0.0.1:8123/api", temporary=True)) == (
        "Prefect start-up 9.8 s (a temporary server for this run alone; `newswatch serve` "
        "starts it once for every run, or set PREFECT_API_URL to a running Prefect server)")
    assert prefect_startup(0.42, PrefectApi("http://127.0.0.1:4200/api", temporary=False)) == (
        "Prefect start-up 0.4 s (the server at http://127.0.0.1:4200/api)")


@pytest.mark.slow
def test_sql_table_output(warehouse) -> None:
    cfg, _ = warehouse
    proc = cli("--config", str(cfg), "sql",
               "SELECT outlet, count(*) AS n, min(published_at)::DATE AS first "
               "FROM articles GROUP BY outlet ORDER BY outlet")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "outlet              n  first\n"
        "------------------  -  ----------\n"
        "Capital Wire        3  2025-02-09\n"
        "Northern Ledger     2  2025-02-09\n"
        "The Daily Meridian  2  2025-02-08\n"
        "(3 rows)\n"
    )


@pytest.mark.slow
def test_sql_csv_and_json(warehouse) -> None:
    cfg, _ = warehouse
    query = "SELECT topic, count(*) AS n FROM topic_matches GROUP BY topic"
    assert cli("--config", str(cfg), "sql", "--format", "csv", query).stdout == (
        "topic,n\ntrump-putin-contacts,3\n")
    assert cli("--config", str(cfg), "sql", "--format", "json", query).stdout == (
        '[\n {\n  "topic": "trump-putin-contacts",\n  "n": 3\n }\n]\n')


@pytest.mark.slow
def test_sql_is_read_only_and_reports_errors(warehouse) -> None:
    cfg, _ = warehouse
    proc = cli("--config", str(cfg), "sql", "DELETE FROM articles")
    assert proc.returncode == 1
    assert proc.stderr == (
        "error: Invalid Input Error: Cannot execute statement of type \"DELETE\" on database "
        "\"nw\" which is attached in read-only mode!\n")
    proc = cli("--config", str(cfg), "sql", "SELECT nope FROM articles")
    assert proc.returncode == 1
    assert proc.stderr.startswith('error: Binder Error: Referenced column "nope" not found')


@pytest.mark.slow
def test_status(warehouse) -> None:
    cfg, _ = warehouse
    proc = cli("--config", str(cfg), "status")
    assert proc.returncode == 0, proc.stderr
    out = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "TIME", proc.stdout)
    assert out.replace(str(cfg.parent), "TMP") == (
        "warehouse: TMP/nw.duckdb\n"
        "last successful run: TIME\n"
        "articles: 7, entries pending: 0, entries failed: 0, matches: 3, alerts: 1, "
        "deliveries failed: 0\n"
        "\n"
        "feed                        last status  reason  last fetched         next due"
        "             errors  articles\n"
        "--------------------------  -----------  ------  -------------------  -------------------"
        "  ------  --------\n"
        "Capital Wire                ok           parsed  TIME  TIME  0       3\n"
        "Northern Ledger             ok           parsed  TIME  TIME  0       2\n"
        "The Daily Meridian — World  ok           parsed  TIME  TIME  0       2\n"
        "(3 rows)\n"
    )


@pytest.mark.slow
def test_sql_says_plainly_when_the_warehouse_is_held(warehouse) -> None:
    cfg, _ = warehouse
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(30)", str(cfg.parent / "nw.duckdb")],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        proc = cli("--config", str(cfg), "sql", "--wait", "0.5", "SELECT 1")
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 3
    assert proc.stderr.replace(str(cfg.parent), "TMP") == (
        "error: TMP/nw.duckdb is held by another process (a running ingest or an open duckdb "
        "session) and stayed locked for 0.5 s. Try again, or close the other session.\n")


def test_check(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [{"url": "https://a.example/rss"},
                                  {"url": "https://b.example/rss", "enabled": False}])
    proc = cli("--config", str(cfg), "check")
    assert proc.returncode == 0
    assert proc.stdout == (
        f"{cfg}: ok\n  warehouse: {tmp_path}/nw.duckdb\n  feeds: 2 (1 enabled)\n"
        f"  topics: trump-putin-contacts\n")


def test_sql_before_any_run(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [])
    proc = cli("--config", str(cfg), "sql", "SELECT 1")
    assert proc.returncode == 1
    assert proc.stderr == (
        f"error: no warehouse at {tmp_path}/nw.duckdb yet. Run `newswatch run` first.\n")


def test_no_command_prints_help(tmp_path: Path) -> None:
    proc = cli(cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.startswith("usage: newswatch [-h] [--config CONFIG] COMMAND ...")
    for command in ("run", "serve", "sql", "status", "check"):
        assert f"\n  {command} " in proc.stdout


@pytest.mark.parametrize("command", ["run", "serve", "sql", "status", "check", "digest",
                                     "maintain", "feeds", "topics"])
def test_every_command_has_help(command: str) -> None:
    proc = cli(command, "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"usage: newswatch {command}")
    assert len(proc.stdout.splitlines()) >= 4


def test_missing_default_config(tmp_path: Path) -> None:
    proc = cli("check", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr == (
        f"error: {tmp_path}/newswatch.toml: no such file. Create it or point --config / "
        f"NEWSWATCH_CONFIG at one.\n")


def test_format_table_truncates_and_counts() -> None:
    assert format_table(["a", "long_name"], [("x" * 10, None), ("y", 1.5)], width=5) == (
        "a      long_name\n"
        "-----  ---------\n"
        "xxxx…  NULL\n"
        "y      1.5\n"
        "(2 rows)"
    )


SNIPPET = (
    "US President Donald Trump said he has spoken to Russian President Vladimir **Putin** by "
    "**phone** about ending the war in Ukraine, the New York Post reported, the first known "
    "direct conversation between **Putin** and a US president since early 2022. … In an "
    "interview aboard Air Force One on Friday, Trump told the New York Post that he had "
    '"better not say", when asked how many times he and **Putin** had spoken.')


@pytest.mark.slow
def test_topics_test_shows_counts_days_and_top_matches(warehouse) -> None:
    cfg, _ = warehouse
    proc = cli("--config", str(cfg), "topics", "test", "--limit", "2",
               'title:(putin AND phone) OR outlet:"daily meridian"')
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (
        "searched 7 article(s), 4 match (57.1%); nothing was saved\n"
        "\n"
        "matches per day\n"
        "day         matches\n"
        "----------  -------\n"
        "2025-02-08  1\n"
        "2025-02-09  3\n"
        "(2 rows)\n"
        "\n"
        "top 2 match(es)\n"
        "    6  2025-02-09  Capital Wire: Trump and Putin discussed ending the war by phone, "
        "Trump says\n"
        f"       {SNIPPET}\n"
        "    6  2025-02-09  Northern Ledger: Trump tells New York Post he spoke with Putin by "
        "phone\n"
        f"       {SNIPPET}\n"
    )
    before = cli("--config", str(cfg), "sql", "SELECT count(*) FROM topic_matches").stdout
    assert before.splitlines()[2] == "3"  # nothing was saved


@pytest.mark.slow
def test_topics_test_with_a_topic_and_a_bad_query(warehouse) -> None:
    cfg, _ = warehouse
    proc = cli("--config", str(cfg), "topics", "test", "--topic", "trump-putin-contacts",
               "--limit", "1")
    assert proc.stdout.splitlines()[0] == (
        "searched 7 article(s), 3 match (42.9%); nothing was saved")
    lines = proc.stdout.splitlines()
    assert lines[1] == "the relevance model accepts 3 of them (probability >= 0.65)"
    assert re.fullmatch(r" +\d+  p=(0\.9\d|1\.00)\* 2025-02-\d\d  .*", lines[-4]), lines[-4]
    assert lines[-3].startswith("       US President Donald **Trump** said")
    assert lines[-2:] == [
        "", "(score: the query's; p: the relevance model's probability, * = accepted)"]
    bad = cli("--config", str(cfg), "topics", "test", "putin AND (trump")
    assert bad.returncode == 2
    assert bad.stderr == (
        "error: bad query: unexpected end of the query: a parenthesis or quote is not closed, "
        "or an operator has nothing after it.\n")
    unknown = cli("--config", str(cfg), "topics", "test", "--topic", "nope")
    assert unknown.returncode == 2
    assert unknown.stderr == (
        f"error: {cfg}: no topic named 'nope' in topics.toml (topics: trump-putin-contacts).\n")


@pytest.mark.slow
def test_topics_backfill_stores_without_alerting(warehouse, tmp_path: Path) -> None:
    import shutil

    src, _ = warehouse
    for name in ("newswatch.toml", "feeds.toml", "nw.duckdb"):
        shutil.copy(src.parent / name, tmp_path / name)
    (tmp_path / "topics.toml").write_text(
        (src.parent / "topics.toml").read_text(encoding="utf-8")
        + '\n[[topic]]\nname = "chess"\nquery = "chess AND (venue OR championship)"\n',
        encoding="utf-8")
    cfg = tmp_path / "newswatch.toml"
    proc = cli("--config", str(cfg), "topics", "backfill", "chess")
    assert proc.stdout == (
        "chess: 1 new match(es) stored, 0 alert(s) (backfill does not alert; --alert to send "
        "them)\n")
    again = cli("--config", str(cfg), "topics", "backfill", "chess", "--alert")
    assert again.stdout.startswith(
        "ALERT [chess] Chess federation names venue for next world championship match\n")
    assert again.stdout.endswith("chess: 0 new match(es) stored, 1 alert(s)\n")
    log = (tmp_path / "alerts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(log) == 1 and '"topic": "chess"' in log[0]


def test_topics_list(tmp_path: Path) -> None:
    cfg = write_config(tmp_path, [], topics_toml=(
        '[[topic]]\nname = "a"\nquery = "x AND y"\nmin_score = 2\nchannels = ["json://h/p"]\n'
        '[[topic]]\nname = "b"\nquery = """z\n  OR w"""\nenabled = false\n'))
    assert cli("--config", str(cfg), "topics", "list").stdout == (
        "topic  enabled  min score  channels  model  query\n"
        "-----  -------  ---------  --------  -----  -------\n"
        "a      yes      2          1         none   x AND y\n"
        "b      no       0          0         none   z OR w\n"
        "(2 rows)\n")


def test_redact_keeps_credentials_out_of_status() -> None:
    from newswatch.cli import redact

    assert redact("mailto://user:secret@smtp.example.com?to=a@b.example") == (
        "mailto://smtp.example.com")
    assert redact("tgram://123456:ABCDEF/9876") == "tgram://123456"
    assert redact("json://127.0.0.1:8123/hook") == "json://127.0.0.1"


def _own_labels(src: Path, tmp: Path, labels_text: str = "") -> Path:
    """A copy of the fixture run's config and warehouse whose topic labels and models live in
    `tmp` (so labelling never touches the shipped files)."""
    import shutil

    for name in ("feeds.toml", "topics.toml", "nw.duckdb"):
        shutil.copy(src.parent / name, tmp / name)
    (tmp / "labels").mkdir()
    if labels_text:
        (tmp / "labels" / "trump-putin-contacts.jsonl").write_text(labels_text, encoding="utf-8")
    text = src.read_text(encoding="utf-8")
    text = re.sub(r'labels = ".*"', 'labels = "labels"', text)
    text = re.sub(r'models = ".*"', 'models = "models"', text)
    (tmp / "newswatch.toml").write_text(text, encoding="utf-8")
    return tmp / "newswatch.toml"


@pytest.mark.slow
def test_topics_label_and_its_errors(warehouse, tmp_path: Path) -> None:
    src, _ = warehouse
    cfg = _own_labels(src, tmp_path)
    seed = cli("--config", str(cfg), "sql", "--format", "csv",
               "SELECT article_id FROM articles WHERE outlet = 'The Daily Meridian' "
               "AND title LIKE 'Trump says he has spoken%'").stdout.splitlines()[1]
    unknown = cli("--config", str(cfg), "topics", "label", "nope", seed, "yes")
    assert (unknown.returncode, unknown.stderr) == (2, (
        f"error: no topic named 'nope' in {tmp_path}/topics.toml (topics: "
        f"trump-putin-contacts).\n"))
    missing = cli("--config", str(cfg), "topics", "label", "trump-putin-contacts", "zzz", "no")
    assert (missing.returncode, missing.stderr) == (2, (
        f"error: no article 'zzz' in {tmp_path}/nw.duckdb; the ids are in the articles table "
        f"and in each alert.\n"))
    ok = cli("--config", str(cfg), "topics", "label", "trump-putin-contacts", seed, "yes",
             "--by", "ana", "--why", "the call itself")
    labels = tmp_path / "labels" / "trump-putin-contacts.jsonl"
    assert (ok.returncode, ok.stdout) == (0, (
        f"trump-putin-contacts: {seed} labelled yes (Trump says he has spoken to Putin about "
        f"ending Ukraine war)\n"
        f"{labels}: 1 relevant, 0 not relevant, 0 either\n"
        f"the next ingest run fits the model again; or now: newswatch topics train "
        f"trump-putin-contacts\n"))
    [line] = labels.read_text(encoding="utf-8").splitlines()
    rec = json.loads(line)
    assert (rec["id"], rec["source"], rec["label"], rec["by"], rec["why"]) == (
        seed, "warehouse", "yes", "ana", "the call itself")
    assert "text" not in rec
    for action in ("train", "eval"):
        few = cli("--config", str(cfg), "topics", action, "trump-putin-contacts")
        verb = "train" if action == "train" else "evaluate"
        assert (few.returncode, few.stderr) == (2, (
            f"error: cannot {verb} 'trump-putin-contacts': 1 relevant example(s); a model "
            f"needs at least 10 — label 9 more.\n"))
    assert not (tmp_path / "models").exists()


@pytest.mark.slow
def test_topics_train_and_eval_on_real_examples(warehouse, tmp_path: Path) -> None:
    """40 of the default topic's real examples (texts from the shared corpus)."""
    from tests.corpus import corpus_dir

    corpus_dir("topics", "trump_putin_dev.jsonl")
    shipped = (ROOT / "seeds" / "labels" / "trump-putin-contacts.jsonl").read_text(
        encoding="utf-8").splitlines()
    yes = [x for x in shipped if '"label": "yes"' in x][:15]
    no = [x for x in shipped if '"label": "no"' in x][:25]
    src, _ = warehouse
    cfg = _own_labels(src, tmp_path, "\n".join(yes + no) + "\n")
    train = cli("--config", str(cfg), "topics", "train", "trump-putin-contacts")
    assert train.returncode == 0, train.stderr
    assert train.stdout == TRAIN_OUT.replace("MODELS", str(tmp_path / "models"))
    again = cli("--config", str(cfg), "topics", "train", "trump-putin-contacts")
    assert again.stdout == train.stdout
    ev = cli("--config", str(cfg), "topics", "eval", "trump-putin-contacts", "--repeats", "1",
             "--show", "2")
    assert ev.returncode == 0, ev.stderr
    assert ev.stdout == EVAL_OUT


TRAIN_OUT = (
    "trump-putin-contacts: fitted on 15 relevant and 25 other example(s)\n"
    "threshold 0.36 for precision >= 0.9; 5x5-fold cross-validated: precision 0.904, recall "
    "1.000, F1 0.950\n"
    "model: MODELS/trump-putin-contacts.json\n")
EVAL_OUT = (
    "trump-putin-contacts: 40 examples (15 relevant, 25 not relevant, 0 either: counted "
    "neither way); the query selects 36\n"
    "1x5-fold grouped cross-validation, threshold chosen inside each training part\n"
    "\n"
    "               precision  recall  F1\n"
    "-------------  ---------  ------  -----\n"
    "query + model  0.938      1.000   0.968\n"
    "query only     0.417      1.000   0.588\n"
    "(2 rows)\n"
    "\n"
    "confusion (query + model, mean per repeat)\n"
    "              judged relevant  judged not\n"
    "------------  ---------------  ----------\n"
    "relevant      15               0\n"
    "not relevant  1                24\n"
    "(2 rows)\n"
    "\n"
    "worst false alarms (not relevant, judged relevant)\n"
    "  p=0.40  mFDm7UoRwV3NGOQh  Trump Urges Russia To 'Find' Clinton's Emails And Release "
    "Them\n"
)
