"""What story clustering needs of an article's text: its near-duplicate fingerprint and its
weighted terms. Pure functions of the text, so the extraction workers compute them in parallel
(see tasks/extract.py) and the stories stage only computes those it was not given."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from tasks.near_dup import Fingerprint, fingerprint
from tasks.topics import stem, tokens

TITLE_WEIGHT = 3  # a headline names the event in few words: count its terms three times

# Function words and newsroom boilerplate: frequent everywhere, they say nothing of the event.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own same she should so some such than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with would you your yours yourself yourselves said says say told according
reported report reports news reuters ap afp associated press mr mrs ms dr one two three new
year years week day days time monday tuesday wednesday thursday friday saturday sunday last
first people would could may might must
""".split())  # noqa: SIM905


def terms(title: str, text: str, words: list[str] | None = None) -> Counter[str]:
    """Stemmed content words of an article, the title's counted TITLE_WEIGHT times.
    `words`: the text's tokens when the caller has them."""
    counts: Counter[str] = Counter()
    for weight, part in ((TITLE_WEIGHT, tokens(title)),
                         (1, tokens(text) if words is None else words)):
        for t in part:
            if len(t) > 2 and not t.isdigit() and t not in STOPWORDS:
                counts[stem(t)] += weight
    return counts


@dataclass(frozen=True)
class StoryFeatures:
    key: str  # of the title and text they were computed from
    fingerprint: Fingerprint
    terms: Counter[str]


def feature_key(title: str, text: str) -> str:
    return hashlib.blake2b(f"{title}\0{text}".encode(), digest_size=16).hexdigest()


def content_hash(text: str, words: list[str] | None = None) -> str:
    """Hash of the words only: case, accents, punctuation and spacing do not make new text."""
    words = tokens(text) if words is None else words
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:32]


def story_features(title: str, text: str, num_perm: int, bands: int,
                   words: list[str] | None = None) -> StoryFeatures:
    """`words`: the text's tokens when the caller has them (it is tokenised once for all)."""
    words = tokens(text) if words is None else words
    return StoryFeatures(feature_key(title, text), fingerprint(text, num_perm, bands, words),
                         terms(title, text, words))
