"""Problems found in a dataset, reported as ``file:line: column: reason``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Problem", "DatasetError", "sort_key"]


@dataclass(frozen=True)
class Problem:
    """One problem in a dataset.

    Parameters
    ----------
    file : str
        File name as the user knows it (``firms.csv``, ``world.xlsx[firms]``).
    line : int or None
        Line number as a spreadsheet shows it (header = 1); None for a whole-file problem.
    column : str or None
        Column name, None for a whole-row or whole-file problem.
    reason : str
        Plain words: what is wrong and, where it helps, what would be right.
    severity : str
        ``error`` (the dataset is refused) or ``warning`` (it loads).
    """

    file: str
    line: int | None
    column: str | None
    reason: str
    severity: str = "error"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        prefix = "warning: " if self.severity == "warning" else ""
        if self.column:
            return f"{where}: {self.column}: {prefix}{self.reason}"
        return f"{where}: {prefix}{self.reason}"


def sort_key(problem: Problem) -> tuple[str, int, str, str]:
    """Order problems by file, line, column, as a reader scans them."""
    return (problem.file, problem.line or 0, problem.column or "", problem.reason)


class DatasetError(ValueError):
    """A dataset failed validation; ``problems`` lists every error found, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted((p for p in problems if p.severity == "error"), key=sort_key)
        shown = "\n".join(str(p) for p in self.problems[:50])
        more = len(self.problems) - 50
        if more > 0:
            shown += f"\n... and {more} more"
        super().__init__(f"{len(self.problems)} problem(s) in the dataset:\n{shown}")
