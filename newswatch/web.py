"""`newswatch web`: the topics, stories and feeds as pages, with charts drawn on the server.

Starlette routes render Jinja2 templates. A request that reads opens the warehouse read-only and
sandboxed (no file or network access from SQL), reads, and closes it before the page is sent:
the web server never holds the file between requests, and a read that keeps a waiting ingest
out for long is interrupted and run again after it (warehouse/db.py). What a page read is kept
until the file changes (its size and mtime), so a page loaded again costs only its rendering.
Endpoints are plain functions, which Starlette runs in its thread pool. There is no login: the
server binds to loopback unless told otherwise, checks the Host header (against DNS rebinding)
and refuses a form posted from another origin.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from markupsafe import Markup, escape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from newswatch import charts
from newswatch.config import Config, TopicSpec
from newswatch.search import search_shown
from tasks.topics import QueryError
from warehouse import db

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
OVERVIEW_DAYS = 30  # the overview's window: a month of attention, one bar a day
STORIES_PER_PAGE = 20  # a screenful of stories with their matches
RESULTS_PER_PAGE = 20  # search results per page unless ?size= says otherwise (1-100)
MIN_DAYS_SHOWN = 14  # "all" of a young topic still shows two weeks: one bar is no curve
RUNS_SHOWN = 15  # the feeds page's run chart: enough to see a trend, short enough to read
PAGE_READS_CACHED = 256  # a page's reads are a few hundred rows: a few MB for this many
READ_WAIT_S = 10.0  # a page waits this long for an ingest's write to finish, then says busy
RANGES = {"30d": 30, "90d": 90, "1y": 365, "all": None}
STAGES = ("due-feeds", "fetch-feeds", "parse-feeds", "keep-new-entries", "fetch-pages",
          "archive", "extract", "dedup", "load", "stories", "match-topics", "record-alerts",
          "deliver-alerts", "report")  # in a run's order; stages not named here come last


def host_warning(host: str) -> str | None:
    """What to print when the server is reachable from beyond this machine."""
    if host in LOOPBACK or host.startswith("127."):
        return None
    return (f"warning: newswatch web has no login. Bound to {host}, anyone who can reach this "
            f"machine can read the warehouse and add labels. Use it only on a network you "
            f"trust, or keep the default 127.0.0.1 behind a proxy that asks for a login.")


# --- helpers for the templates --------------------------------------------------------------

_BOLD = re.compile(r"\*\*(.+?)\*\*")


def marked(snippet: str | None) -> Markup:
    """A match snippet with its **matched words** as <mark>, everything else escaped."""
    return Markup(_BOLD.sub(r"<mark>\1</mark>", str(escape(snippet or ""))))


def ts(v: datetime | date | None) -> str:
    if v is None:
        return "—"
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return v.isoformat()


def _now() -> datetime:
    return datetime.now(UTC)


def _minute() -> datetime:
    """Now to the minute: "the last day" of a cached read moves on once a minute."""
    return _now().replace(second=0, microsecond=0)


class Reads:
    """The pages' warehouse reads, each kept (by its function and arguments) until the file
    changes: a write commits to the file or its WAL, which changes their size or mtime, read
    with a stat and no open. A lake has no such cheap mark: its reads are not kept."""

    def __init__(self, path: Any, wait_s: float) -> None:
        self.path, self.wait_s = path, wait_s
        self.kept: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def __call__(self, read: Any, *args: Any) -> Any:
        state = db.web_state(self.path)  # before reading: a write meanwhile changes it again
        key = (read.__name__, *args)
        with self.lock:
            kept = self.kept.get(key)
        if state is not None and kept is not None and kept[0] == state:
            return kept[1]
        value = read(self.path, self.wait_s, *args)
        self.keep(state, value, read, *args)
        return value

    def keep(self, state: Any, value: Any, read: Any, *args: Any) -> None:
        """Keep `value` as what read(*args) gave at `state` (web_state before it was read)."""
        if state is not None:
            with self.lock:
                key = (read.__name__, *args)
                self.kept[key] = (state, value)
                self.kept.move_to_end(key)
                while len(self.kept) > PAGE_READS_CACHED:
                    self.kept.popitem(last=False)


def _buckets(start: date, end: date) -> tuple[str, list[date]]:
    """Day buckets for up to ~4 months, weeks up to 3 years, months beyond."""
    days = (end - start).days + 1
    if days <= 120:
        return "day", [start + timedelta(d) for d in range(days)]
    if days <= 3 * 365:
        first = start - timedelta(start.weekday())
        return "week", [first + timedelta(7 * w) for w in range((end - first).days // 7 + 1)]
    out, d = [], start.replace(day=1)
    while d <= end:
        out.append(d)
        d = (d.replace(day=28) + timedelta(4)).replace(day=1)
    return "month", out


def _label(d: date, bucket: str) -> str:
    return {"day": f"{d:%b %d}", "week": f"wk {d:%b %d}", "month": f"{d:%b %Y}"}[bucket]


def _bucket_of(d: date, bucket: str) -> date:
    if bucket == "week":
        return d - timedelta(d.weekday())
    return d.replace(day=1) if bucket == "month" else d


def _series_chart(counts: dict[date, tuple[float, float]], start: date, end: date,
                  what: str, bar: str, line: str | None) -> tuple[Any, str]:
    bucket, keys = _buckets(start, end)
    folded: dict[date, list[float]] = {}
    for d, (a, b) in counts.items():
        acc = folded.setdefault(_bucket_of(d, bucket), [0.0, 0.0])
        acc[0] += a
        acc[1] += b
    points = [charts.Point(_label(k, bucket), folded.get(k, [0, 0])[0],
                           folded.get(k, [0, 0])[1] if line else None,
                           f"{bucket} of {k.isoformat()}") for k in keys]
    return charts.bars(points, f"{what} per {bucket}", bar, line), bucket


def _page_links(request: Request, page: int, pages: int, param: str = "page") -> list[dict]:
    """Previous / numbered / next links that keep the request's other parameters."""
    def url(p: int) -> str:
        params = dict(request.query_params)
        params[param] = str(p)
        return f"{request.url.path}?{urlencode(params)}"

    out = []
    if page > 1:
        out.append({"label": "← newer" if param == "spage" else "← previous",
                    "url": url(page - 1)})
    lo, hi = max(1, page - 3), min(pages, page + 3)
    out += [{"label": str(p), "url": url(p), "current": p == page} for p in range(lo, hi + 1)]
    if page < pages:
        out.append({"label": "next →", "url": url(page + 1)})
    return out if pages > 1 else []


def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    try:
        return min(max(int(request.query_params.get(name, default)), lo), hi)
    except ValueError:
        return default


# --- the app ------------------------------------------------------------------------------

def create_app(cfg: Config) -> Starlette:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters.update(marked=marked, ts=ts)
    templates.env.globals.update(warehouse=str(cfg.warehouse_path))
    path = cfg.warehouse_path
    wait = min(cfg.warehouse.lock_wait_s, READ_WAIT_S)
    topics = {t.name: t for t in cfg.topics}
    reads = Reads(path, wait)

    def render(request: Request, template: str, status: int = 200, **ctx: Any) -> Response:
        return templates.TemplateResponse(request, template, ctx, status_code=status)

    def problem(request: Request, status: int, title: str, message: str) -> Response:
        return render(request, "problem.html", status, title=title, message=message)

    def guarded(view: Any) -> Any:
        """A missing or busy warehouse becomes a page that says so, not a traceback."""
        def endpoint(request: Request) -> Response:
            if not path.exists():
                return problem(request, 503, "No warehouse yet",
                               f"There is no warehouse at {path} yet. Run `newswatch run` "
                               f"first, then reload.")
            try:
                return view(request)
            except db.WarehouseBusy:
                return problem(request, 503, "Warehouse busy",
                               f"Another process held {path} for more than {wait:g} s (a long "
                               f"write, or an open duckdb session). Reload in a moment.")
            except (db.duckdb.BinderException, db.duckdb.CatalogException) as e:
                # The pages read only, so they cannot bring an older schema up to date.
                return problem(request, 503, "Warehouse schema out of date",
                               f"{path} was written by an older newswatch ({e}). Run "
                               f"`newswatch run` once: it brings the schema up to date.")
        endpoint.__name__ = view.__name__
        return endpoint

    def labels_api() -> Any:
        try:
            from tasks import labels
        except ImportError:
            return None
        return labels

    def overview(request: Request) -> Response:
        now = _minute()
        today = now.date()
        since = today - timedelta(OVERVIEW_DAYS - 1)
        totals, daily = reads(db.web_overview, datetime.combine(since, datetime.min.time(), UTC),
                              now - timedelta(days=1))
        by_topic = {r["topic"]: r for r in totals}
        names = [t.name for t in cfg.topics] + sorted(set(by_topic) - set(topics))
        labels = labels_api()
        rows = []
        for name in names:
            counts = {r["day"]: (r["matches"], r["stories"]) for r in daily
                      if r["topic"] == name}
            chart, _ = _series_chart(counts, since, today, f"{name}: matches and stories",
                                     "matches", "stories")
            spec = topics.get(name)
            rows.append({"name": name, "spec": spec, "chart": chart,
                         "totals": by_topic.get(name, {}),
                         "model": labels.model_summary(cfg, name) if labels and spec else None})
        return render(request, "overview.html", rows=rows, days=OVERVIEW_DAYS,
                      labels_available=labels is not None)

    def topic_page(request: Request) -> Response:
        name = request.path_params["name"]
        spec = topics.get(name)
        rng = request.query_params.get("range", "all")
        rng = rng if rng in RANGES else "all"
        page = _int(request, "spage", 1, 1, 10**6)
        data = reads(db.web_topic, name, STORIES_PER_PAGE, (page - 1) * STORIES_PER_PAGE)
        total, days = data["total"], data["days"]
        span = {"matches": total["articles"], "stories": total["stories"],
                "first_day": days[0]["day"] if days else None,
                "last_day": days[-1]["day"] if days else None}
        if spec is None and not span["matches"]:
            known = ", ".join(topics) or "none"
            return problem(request, 404, "No such topic",
                           f"No topic named {name!r} in the topics file or the warehouse "
                           f"(topics: {known}).")
        chart = bucket = None
        if days:
            end = _now().date() if RANGES[rng] else span["last_day"]
            start = (end - timedelta(RANGES[rng] - 1) if RANGES[rng]
                     else min(span["first_day"], end - timedelta(MIN_DAYS_SHOWN - 1)))
            bucket, _ = _buckets(start, end)
            folded: dict[date, tuple[int, set[str]]] = {}
            for d in days:
                if start <= d["day"] <= end:
                    key = _bucket_of(d["day"], bucket)
                    n, ids = folded.get(key, (0, set()))
                    folded[key] = (n + d["articles"], ids | set(d["story_ids"]))
            chart, bucket = _series_chart({k: (n, len(ids)) for k, (n, ids) in folded.items()},
                                          start, end, f"{name}: attention", "articles",
                                          "stories")
        matches: dict[str, list[dict]] = {}
        for m in data["matches"]:
            matches.setdefault(m["story_id"], []).append(m)
        pages = max(1, math.ceil(span["stories"] / STORIES_PER_PAGE))
        tried = _try(request, spec) if spec else None
        return render(request, "topic.html", name=name, spec=spec, span=span, chart=chart,
                      bucket=bucket, range=rng, ranges=list(RANGES), stories=data["stories"],
                      matches=matches, page=page, links=_page_links(request, page, pages,
                                                                     "spage"),
                      tried=tried, labels_available=labels_api() is not None,
                      labelled=request.query_params.get("labelled"),
                      label_error=request.query_params.get("label_error"))

    def _try(request: Request, spec: TopicSpec) -> dict | None:
        q = request.query_params.get("q")
        if q is None:
            return None
        return _results(request, q, spec.aliases, spec.min_score, "tpage",
                        f"{spec.name}: tried query", _model(spec, q))

    def _model(spec: TopicSpec, q: str) -> Any:
        """The topic's relevance model, for the topic's own query only (its features are that
        query's concepts)."""
        labels = labels_api()
        if labels is None or " ".join(q.split()) != " ".join(spec.query.split()):
            return None
        try:
            model = labels.model_for(cfg, spec)
        except labels.LabelError:
            return None
        return model if model is not None and labels.same_query(spec, model) else None

    def _results(request: Request, q: str, aliases: Any, min_score: float, param: str,
                 what: str, model: Any = None) -> dict:
        size = _int(request, "size", RESULTS_PER_PAGE, 1, 100)
        page = _int(request, param, 1, 1, 10**6)
        window = slice((page - 1) * size, page * size)
        state = db.web_state(path)
        try:
            found, articles = search_shown(path, wait, q, aliases, min_score, model, window)
        except QueryError as e:
            return {"q": q, "error": f"bad query: {e}"}
        shown = found.hits[window]
        ids = tuple(h.article_id for h in shown)
        if articles is None:
            articles = reads(db.web_articles, ids)
        else:  # read with the search's check: kept as if read on their own
            reads.keep(state, articles, db.web_articles, ids)
        chart = None
        if found.hits:
            days = {date.fromisoformat(d): (n, 0) for d, n in found.per_day.items()}
            end = max(days)
            chart, _ = _series_chart(days, min(min(days), end - timedelta(MIN_DAYS_SHOWN - 1)),
                                     end, f"{what}: matches",
                                     "matches", None)
        pages = max(1, math.ceil(len(found.hits) / size))
        return {"q": q, "found": found, "chart": chart, "page": page,
                "first": (page - 1) * size + 1 if shown else 0,
                "results": [(h, articles.get(h.article_id)) for h in shown],
                "links": _page_links(request, page, pages, param)}

    def search_page(request: Request) -> Response:
        q = request.query_params.get("q")
        res = _results(request, q, None, 0.0, "page", "search") if q is not None else None
        return render(request, "search.html", q=q or "", res=res)

    def story_page(request: Request) -> Response:
        story_id = request.path_params["story_id"]
        data = reads(db.web_story, story_id)
        if data is None:
            return problem(request, 404, "No such story",
                           f"No story {story_id!r} in the warehouse. Stories are listed on the "
                           f"topic pages and in search results.")
        events = []
        for a in data["articles"]:
            when = a["published_at"] or a["first_seen_at"]
            events.append((a["outlet"], when, f"{a['outlet']} {ts(when)}: {a['title']}"))
        article_urls = {a["url"] for a in data["articles"]}
        for s in data["sightings"]:
            if s["url"] not in article_urls:
                events.append((s["outlet"], s["seen_at"],
                               f"{s['outlet']} {ts(s['seen_at'])}: the same text at {s['url']}"))
        chart = charts.timeline(events, "when each outlet carried the story")
        first = {}
        for o, t, _ in sorted(events, key=lambda e: e[1]):
            first.setdefault(o, t)
        return render(request, "story.html", chart=chart, first_by_outlet=first, **data)

    def feeds_page(request: Request) -> Response:
        feeds, runs = reads(db.web_feeds, _minute() - timedelta(days=1), RUNS_SHOWN)
        rows = []
        for r in reversed(runs):
            stages = json.loads(r["stage_seconds"] or "{}")
            rows.append((f"{ts(r['started_at'])} {r['status']}", stages))
        seen = {s for _, v in rows for s in v}
        order = [s for s in STAGES if s in seen] + sorted(seen - set(STAGES))
        chart = charts.stacked(rows, order, "the last runs' stage timings") if rows else None
        failing = sum(1 for f in feeds if f["last_status"] not in (None, "ok", "not_modified"))
        return render(request, "feeds.html", feeds=feeds, runs=runs, chart=chart,
                      failing=failing)

    async def label(request: Request) -> Response:
        """Store a relevant / not relevant example for a topic (the topic's labels file)."""
        name = request.path_params["name"]
        origin = request.headers.get("origin")
        if origin and urlsplit(origin).netloc != request.headers.get("host"):
            return problem(request, 403, "Refused",
                           "This form was posted from another site; labels are only taken "
                           "from newswatch's own pages.")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        back = form.get("back", f"/topics/{name}")
        if not back.startswith("/") or back.startswith("//"):
            back = f"/topics/{name}"
        labels = labels_api()
        if labels is None:
            note = {"label_error": "labels not available: this build has no tasks.labels "
                                   "(the learned-relevance feature)"}
        else:
            try:
                await run_in_threadpool(labels.add_label, cfg, name, form.get("article_id", ""),
                                        form.get("label") == "1", "web")
                note = {"labelled": f"{form.get('article_id', '')}:{form.get('label')}"}
            except labels.LabelError as e:
                note = {"label_error": str(e)}
        parts = urlsplit(back)
        query = [(k, v) for k, v in parse_qsl(parts.query)
                 if k not in ("labelled", "label_error")]
        anchor = f"#m-{form.get('article_id', '')}" if "labelled" in note else ""
        return RedirectResponse(f"{parts.path}?{urlencode(query + list(note.items()))}{anchor}",
                                status_code=303)

    routes = [
        Route("/", guarded(overview)),
        Route("/topics/{name}", guarded(topic_page)),
        Route("/topics/{name}/label", label, methods=["POST"]),
        Route("/stories/{story_id}", guarded(story_page)),
        Route("/feeds", guarded(feeds_page)),
        Route("/search", guarded(search_page)),
    ]
    return Starlette(routes=routes)


class ServerTiming:
    """Adds `Server-Timing: app;dur=MS` to every response: the time spent in the app, which
    bench/web_bench.py reads."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()

        async def timed(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - started) * 1000
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"server-timing", f"app;dur={ms:.1f}".encode())]}
            await send(message)

        await self.app(scope, receive, timed if scope["type"] == "http" else send)


def trusted(app: Any, host: str) -> Any:
    """Bound to loopback, only loopback Host headers are served: a page on another site cannot
    reach this server through a DNS name rebound to 127.0.0.1."""
    if host_warning(host) is not None:
        return app
    return TrustedHostMiddleware(app, allowed_hosts=["127.0.0.1", "localhost", "[::1]", "::1"])


def serve(cfg: Config, host: str, port: int) -> None:
    import uvicorn

    app = trusted(ServerTiming(create_app(cfg)), host)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
