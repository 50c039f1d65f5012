"""Build the seed fixture from the seed article text.

    python seeds/build_fixture.py [path/to/seed.txt]

Writes `seeds/fixture/`: three outlets' article pages (each with its own template full of
navigation, captions, related links and footers that extraction must drop) and the feeds that
list them. The seed is a Reuters report reprinted by The Daily Meridian; Northern Ledger runs a
trimmed copy, Capital Wire a copy with an extra paragraph. Unrelated articles and one article
that names Trump and Putin without any contact between them complete the set.

Every page opens with a `newswatch-fixture` comment holding what the pipeline must find in it;
every feed says how many entries it lists. Tests read those comments, so the fixture describes
itself. The output is committed; `tests/test_fixture.py` checks it is what this script builds.
"""

from __future__ import annotations

import html
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "fixture"
DEFAULT_SEED = HERE.parent.parent / "shared" / "seed" / "000_b6bb972f326920af.txt"
TOPIC = "trump-putin-contacts"


@dataclass
class Story:
    slug: str
    outlet: str
    host: str
    section: str
    title: str
    published: str  # ISO 8601, UTC
    author: str
    paragraphs: list[str]
    caption: str = ""
    topics: list[str] = field(default_factory=list)
    role: str = "unrelated"
    summary: str = ""

    @property
    def path(self) -> str:
        return f"sites/{self.host}/{self.section}/{self.published[:10].replace('-', '/')}/{self.slug}.html"

    @property
    def canonical(self) -> str:
        return f"https://{self.host}/{self.section}/{self.published[:10].replace('-', '/')}/{self.slug}"

    @property
    def expected_text(self) -> str:
        return "\n".join(self.paragraphs)


def read_seed(path: Path) -> tuple[str, str, list[str]]:
    """Return (date, photo caption, body paragraphs) from the seed file."""
    raw = path.read_text(encoding="utf-8").strip()
    blocks = [b.strip() for b in raw.split("\n\n") if b.strip()]
    first = blocks[0]
    if not first.startswith("date "):
        raise SystemExit(f"{path}: expected the first line to start with 'date YYYY-MM-DD'")
    date, caption = first[5:15], first[16:].strip()
    return date, caption, blocks[1:]


def esc(s: str) -> str:
    return html.escape(s, quote=True)


def expect_comment(s: Story) -> str:
    meta = {
        "role": s.role,
        "title": s.title,
        "outlet": s.outlet,
        "published": s.published,
        "canonical_url": s.canonical,
        "topics": s.topics,
        "text_starts": s.paragraphs[0][:60],
        "text_ends": s.paragraphs[-1][-60:],
        "paragraphs": len(s.paragraphs),
        "must_not_contain": [s.caption[:50]] if s.caption else [],
    }
    return "<!-- newswatch-fixture " + json.dumps(meta, ensure_ascii=False) + " -->"


def head(s: Story) -> str:
    return f"""<head>
<meta charset="utf-8">
<title>{esc(s.title)} | {esc(s.outlet)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="canonical" href="{s.canonical}">
<meta property="og:type" content="article">
<meta property="og:title" content="{esc(s.title)}">
<meta property="og:site_name" content="{esc(s.outlet)}">
<meta property="og:url" content="{s.canonical}">
<meta property="article:published_time" content="{s.published}">
<meta name="author" content="{esc(s.author)}">
<meta name="description" content="{esc(s.summary)}">
<link rel="alternate" type="application/rss+xml" href="/feeds/">
</head>"""


def body_paragraphs(s: Story) -> str:
    return "\n".join(f"<p>{esc(p)}</p>" for p in s.paragraphs)


def page_meridian(s: Story, related: list[Story]) -> str:
    rel = "\n".join(
        f'<li><a href="/{r.path}">{esc(r.title)}</a></li>' for r in related
    )
    figure = (
        f'<figure class="lead-image"><img src="/img/{s.slug}.jpg" alt="">'
        f"<figcaption>{esc(s.caption)}</figcaption></figure>"
        if s.caption
        else ""
    )
    return f"""<!DOCTYPE html>
{expect_comment(s)}
<html lang="en">
{head(s)}
<body>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
<header class="masthead"><a class="logo" href="/">The Daily Meridian</a>
<nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/business">Business</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/opinion">Opinion</a></li><li><a href="/subscribe">Subscribe</a></li></ul></nav>
</header>
<main>
<div class="breadcrumbs"><a href="/">Home</a> › <a href="/{s.section}">{s.section.title()}</a></div>
<article class="story">
<h1 class="headline">{esc(s.title)}</h1>
<div class="meta"><span class="byline">By {esc(s.author)}</span>
<time datetime="{s.published}">{s.published[:10]}</time></div>
{figure}
<div class="story-body">
{body_paragraphs(s)}
</div>
<div class="share">Share this story: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">Email</a></div>
</article>
<aside class="related"><h2>Related stories</h2><ul>
{rel}
</ul></aside>
<div class="newsletter"><h3>Morning Briefing</h3>
<p>Get the day's top stories in your inbox every morning. Sign up now.</p></div>
</main>
<footer class="site-footer"><p>© 2025 The Daily Meridian. All rights reserved.</p>
<ul><li><a href="/about">About us</a></li><li><a href="/privacy">Privacy policy</a></li>
<li><a href="/terms">Terms of use</a></li><li><a href="/contact">Contact</a></li></ul></footer>
</body>
</html>
"""


def page_ledger(s: Story, related: list[Story]) -> str:
    rel = "\n".join(
        f'<div class="card"><a href="/{r.path}"><span>{esc(r.title)}</span></a></div>'
        for r in related
    )
    figure = (
        f'<div class="media"><picture><img src="/media/{s.slug}.webp" alt="Photo"></picture>'
        f'<p class="media-caption">{esc(s.caption)}</p></div>'
        if s.caption
        else ""
    )
    return f"""<!DOCTYPE html>
{expect_comment(s)}
<html lang="en-GB">
{head(s)}
<body class="ledger">
<div id="top-bar"><a href="/login">Sign in</a> | <a href="/register">Register</a> | Edition: UK</div>
<div id="menu" role="navigation"><a href="/">Northern Ledger</a> <a href="/news">News</a>
<a href="/world">World</a> <a href="/politics">Politics</a> <a href="/weather">Weather</a></div>
<div id="content">
<div class="article-wrapper">
<h1>{esc(s.title)}</h1>
<p class="dateline">{esc(s.author)} · Published {s.published[:10]}</p>
{figure}
<div class="article-text" itemprop="articleBody">
{body_paragraphs(s)}
</div>
<p class="tags">Topics: <a href="/t/world">World</a>, <a href="/t/politics">Politics</a></p>
</div>
<div class="sidebar"><h4>Most read</h4>
{rel}
</div>
</div>
<div id="comments"><h3>Comments (0)</h3><p>Comments are closed for this article.</p></div>
<div id="footer">Northern Ledger Ltd, registered in England. Copyright 2025.
<a href="/privacy">Privacy</a> <a href="/cookies">Cookies</a> <a href="/accessibility">Accessibility</a></div>
</body>
</html>
"""


def page_capital(s: Story, related: list[Story]) -> str:
    rel = "\n".join(f'<li><a href="/{r.path}">{esc(r.title)}</a></li>' for r in related)
    return f"""<!DOCTYPE html>
{expect_comment(s)}
<html lang="en-US">
{head(s)}
<body>
<nav class="navbar"><a class="brand" href="/">CAPITAL WIRE</a>
<a href="/latest">Latest</a> <a href="/markets">Markets</a> <a href="/world">World</a>
<a href="/tech">Tech</a> <a href="/search">Search</a></nav>
<section class="ticker">DOW 44,303 ▲0.3% · S&amp;P 6,026 ▲0.4% · BRENT $74.66</section>
<div class="container">
<header class="article-header"><p class="kicker">{esc(s.section.title())}</p>
<h1>{esc(s.title)}</h1>
<p class="by">{esc(s.author)}</p><p class="ts">{s.published}</p></header>
<div class="article-content">
{body_paragraphs(s)}
</div>
<div class="read-more"><h3>Read more</h3><ul>
{rel}
</ul></div>
<div class="ad-slot">Advertisement</div>
</div>
<footer><p>Capital Wire is a service of Capital Media Group. © 2025 Capital Media Group.</p>
<p><a href="/editorial-standards">Editorial standards</a> · <a href="/corrections">Corrections</a></p></footer>
</body>
</html>
"""


TEMPLATES = {
    "The Daily Meridian": page_meridian,
    "Northern Ledger": page_ledger,
    "Capital Wire": page_capital,
}


def rss_feed(title: str, site: str, stories: list[Story], ttl: int) -> str:
    items = "\n".join(
        f"""<item>
<title>{esc(s.title)}</title>
<link>../{s.path}</link>
<guid isPermaLink="false">{s.host}:{s.slug}</guid>
<pubDate>{rfc822(s.published)}</pubDate>
<dc:creator>{esc(s.author)}</dc:creator>
<description>{esc(s.summary)}</description>
</item>"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- newswatch-fixture {{"entries": {len(stories)}}} -->
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{esc(title)}</title>
<link>https://{site}/</link>
<description>Latest stories from {esc(title)}</description>
<language>en</language>
<ttl>{ttl}</ttl>
{items}
</channel>
</rss>
"""


def atom_feed(title: str, site: str, stories: list[Story]) -> str:
    entries = "\n".join(
        f"""<entry>
<title>{esc(s.title)}</title>
<link rel="alternate" type="text/html" href="../{s.path}"/>
<id>tag:{s.host},2025:{s.slug}</id>
<updated>{s.published}</updated>
<published>{s.published}</published>
<author><name>{esc(s.author)}</name></author>
<summary>{esc(s.summary)}</summary>
</entry>"""
        for s in stories
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<!-- newswatch-fixture {{"entries": {len(stories)}}} -->
<feed xmlns="http://www.w3.org/2005/Atom">
<title>{esc(title)}</title>
<link rel="alternate" href="https://{site}/"/>
<id>https://{site}/</id>
<updated>{max(s.published for s in stories)}</updated>
{entries}
</feed>
"""


def rfc822(iso: str) -> str:
    from datetime import datetime

    dt = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return dt.strftime("%a, %d %b %Y %H:%M:%S GMT")


def stories(date: str, caption: str, body: list[str]) -> list[Story]:
    seed_summary = (
        "US President Donald Trump said he has spoken to Russian President Vladimir Putin "
        "by phone about ending the war in Ukraine."
    )
    seed = Story(
        slug="trump-says-he-has-spoken-to-putin-about-ending-ukraine-war",
        outlet="The Daily Meridian",
        host="www.dailymeridian.example",
        section="world",
        title="Trump says he has spoken to Putin about ending Ukraine war",
        published=f"{date}T06:12:00Z",
        author="Reuters",
        paragraphs=body,
        caption=caption,
        topics=[TOPIC],
        role="seed",
        summary=seed_summary,
    )
    trimmed = Story(
        slug="trump-putin-phone-call-new-york-post",
        outlet="Northern Ledger",
        host="northernledger.example",
        section="world",
        title="Trump tells New York Post he spoke with Putin by phone",
        published=f"{date}T07:40:00Z",
        author="Reuters staff",
        paragraphs=body[:8],
        caption="Donald Trump and Vladimir Putin in a file photo. — Reuters",
        topics=[TOPIC],
        role="syndicated-trimmed",
        summary="Trump says he and Putin have talked about ending the war; the Kremlin "
        "neither confirms nor denies.",
    )
    extra = Story(
        slug="trump-putin-call-ukraine-war-kremlin",
        outlet="Capital Wire",
        host="www.capitalwire.example",
        section="world",
        title="Trump and Putin discussed ending the war by phone, Trump says",
        published=f"{date}T09:05:00Z",
        author="Reuters",
        paragraphs=[
            *body,
            "Ukraine's foreign ministry said on Sunday that any talks about ending the war "
            "must include Kyiv, and that it had not been told of the contents of the call. "
            "European officials said they would discuss the report at a meeting in Brussels "
            "later in the week.",
        ],
        topics=[TOPIC],
        role="syndicated-extra-paragraph",
        summary=seed_summary,
    )
    negative = Story(
        slug="european-shares-slip-tariffs-gas-duties",
        outlet="Capital Wire",
        host="www.capitalwire.example",
        section="markets",
        title="European shares slip as tariff threats and Russian gas duties weigh",
        published=f"{date}T11:30:00Z",
        author="Capital Wire markets desk",
        paragraphs=[
            "European shares fell for a second session on Sunday in thin pre-market trading "
            "as investors weighed Donald Trump's plans for new tariffs on steel and aluminium "
            "imports against signs of slowing growth in the euro zone.",
            "In Moscow, Vladimir Putin's government raised export duties on pipeline gas for "
            "the second time this year, a move analysts said would add to pressure on "
            "European utilities already paying more for liquefied natural gas.",
            "Carmakers and steel producers led the declines. Shares in Nordstahl fell 3.1% "
            "and Vellmar Motors lost 2.4%, while utilities slipped 1.2% on the gas news.",
            "Strategists at Harrow Capital said the tariff plans, if enacted as described, "
            "could cut half a percentage point from euro zone growth next year, and that "
            "markets had yet to price in retaliation from Brussels.",
            "The euro was little changed against the dollar at $1.033, and German ten-year "
            "bond yields eased two basis points to 2.37%.",
        ],
        role="names-both-no-contact",
        summary="Tariff threats from Washington and higher Russian gas export duties "
        "weigh on European shares.",
    )
    cycle = Story(
        slug="council-approves-cycle-lanes",
        outlet="The Daily Meridian",
        host="www.dailymeridian.example",
        section="local",
        title="Council approves new cycle lanes after two-year debate",
        published="2025-02-08T15:00:00Z",
        author="Anna Keller",
        paragraphs=[
            "The city council voted 31 to 18 on Saturday to build eleven kilometres of "
            "protected cycle lanes along the river, ending a debate that has run for more "
            "than two years and filled four public hearings.",
            "Supporters said the lanes would cut traffic injuries and give families a safe "
            "route to the new schools on the east bank. Opponents, mostly shop owners on "
            "Harbour Street, warned that losing parking would hurt trade.",
            "Work on the first section is due to begin in May and to be finished before the "
            "autumn term. The council said it would count cyclists and measure shop takings "
            "before and after, and publish the figures.",
            "The plan costs 14 million euros, two thirds of it from a regional transport fund.",
        ],
        summary="Eleven kilometres of protected lanes will run along the river.",
    )
    rates = Story(
        slug="central-bank-holds-rates-as-inflation-eases",
        outlet="Northern Ledger",
        host="northernledger.example",
        section="business",
        title="Central bank holds rates steady as inflation eases",
        published=f"{date}T05:00:00Z",
        author="Tom Reid",
        paragraphs=[
            "The central bank kept its main interest rate at 4.5% on Sunday, saying that "
            "inflation was easing more slowly than it had hoped and that wage growth "
            "remained too strong for a cut this quarter.",
            "Seven of the nine members of the rate-setting committee voted to hold. Two "
            "voted for a quarter-point cut, citing weak retail sales and a softer jobs "
            "market in the north.",
            "The bank now expects inflation to fall to its 2% target by the middle of next "
            "year, six months later than it forecast in November.",
            "Mortgage lenders said fixed-rate deals were likely to stay close to current "
            "levels until the next meeting in March.",
        ],
        summary="Seven of nine committee members voted to keep the rate at 4.5%.",
    )
    chess = Story(
        slug="chess-federation-names-championship-venue",
        outlet="Capital Wire",
        host="www.capitalwire.example",
        section="sport",
        title="Chess federation names venue for next world championship match",
        published="2025-02-10T08:00:00Z",
        author="Lena Ortiz",
        paragraphs=[
            "The international chess federation said on Monday that the next world "
            "championship match will be played in Lisbon in November, after three cities "
            "bid to host the fourteen-game contest.",
            "The champion will defend the title against the winner of the candidates "
            "tournament, which starts in April. The prize fund is 2.5 million euros, the "
            "largest in the history of the event.",
            "Organisers said games would start at 3 p.m. local time and that a fan zone "
            "with free analysis boards would open beside the playing hall.",
            "The federation also confirmed new rules on rest days, giving each player two "
            "extra days to use at any point during the match.",
        ],
        summary="Lisbon will host the fourteen-game match in November.",
    )
    return [seed, trimmed, extra, negative, cycle, rates, chess]


def build(seed_path: Path, out: Path = OUT) -> dict[str, str]:
    """Return {relative path: content} for the whole fixture."""
    date, caption, body = read_seed(seed_path)
    all_stories = stories(date, caption, body)
    by_outlet: dict[str, list[Story]] = {}
    for s in all_stories:
        by_outlet.setdefault(s.outlet, []).append(s)
    files: dict[str, str] = {}
    for outlet, items in by_outlet.items():
        for s in items:
            related = [r for r in items if r is not s]
            files[s.path] = TEMPLATES[outlet](s, related)
    files["feeds/daily-meridian-world.xml"] = rss_feed(
        "The Daily Meridian", "www.dailymeridian.example", by_outlet["The Daily Meridian"], 15
    )
    files["feeds/northern-ledger.atom"] = atom_feed(
        "Northern Ledger", "northernledger.example", by_outlet["Northern Ledger"]
    )
    files["feeds/capital-wire.xml"] = rss_feed(
        "Capital Wire", "www.capitalwire.example", by_outlet["Capital Wire"], 30
    )
    return files


def main(argv: list[str]) -> int:
    seed_path = Path(argv[1]) if len(argv) > 1 else DEFAULT_SEED
    files = build(seed_path)
    for rel, content in files.items():
        target = OUT / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    print(f"wrote {len(files)} files under {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
