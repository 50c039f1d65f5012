"""Prefect flows: wiring, schedules and summaries. The work is in tasks/."""
