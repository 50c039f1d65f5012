"""What the extraction workers' forkserver imports before it forks any worker (tasks/extract.py):
trafilatura with our charset rules and tokeniser (`tasks.pagetext`) and feedparser
(`tasks.parse`), and extraction's lazy state built once (`pagetext.warm`), so every worker
starts warm, in the time a fork takes. Imported for that effect, by the forkserver only."""

from tasks import pagetext, parse  # noqa: F401 (imported for the workers)

pagetext.warm()
