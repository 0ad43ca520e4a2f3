"""The feedback loop: ``ketnoi conversion``.

Registered on the top-level ``ketnoi`` application by :mod:`api.cli`.
"""

from __future__ import annotations

import typer

app = typer.Typer()
