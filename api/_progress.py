"""The steps of long work, in one place: the service's jobs and the command line name them
alike, so that a job's ``step`` on ``/v1/jobs/{id}`` and the bar ``ketnoi`` draws for the same
work read the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

__all__ = ["BACKTEST_STEP", "MATCH_LIST_STEP", "progress_bar"]

#: A backtest refits the matcher once per year of outcomes.
BACKTEST_STEP = "refitting the matcher for each year of outcomes"
#: A match list ranks its buyers one by one.
MATCH_LIST_STEP = "ranking buyers"


@contextmanager
def progress_bar(console: Console, step: str) -> Iterator[Callable[[int, int], None]]:
    """A transient bar named ``step`` on ``console``; yields the ``progress(done, total)``
    callback the library's long functions take (as a job's progress does)."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(step, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance
