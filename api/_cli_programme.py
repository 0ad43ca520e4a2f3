"""Localisation gaps, near-miss suppliers, concentration and programme indicators.

Registered on the top-level ``ketnoi`` application by :mod:`api.cli`.
"""

from __future__ import annotations

import typer

app = typer.Typer()
