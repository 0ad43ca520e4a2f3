"""The documentation lists what the code has: every HTTP route in docs/service.md, every
command in the README's command list."""

from __future__ import annotations

import re
from pathlib import Path

from ketnoi.api.cli import app as cli_app
from ketnoi.api.service import create_app
from ketnoi.api.storage import make_engine

ROOT = Path(__file__).resolve().parents[1]


def test_every_route_is_in_the_service_doc() -> None:
    app = create_app(engine=make_engine("sqlite://"))
    routes = {
        (method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops
    }
    text = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| (GET|POST|PATCH|PUT|DELETE) \| `([^`]+)` \|", text, re.M))
    assert routes - documented == set(), "routes missing from docs/service.md"
    assert documented - routes == set(), "docs/service.md lists routes that do not exist"


def test_every_command_is_in_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [c.name or c.callback.__name__.replace("_", "-") for c in cli_app.registered_commands]
    names += [g.name for g in cli_app.registered_groups if g.name]
    missing = [n for n in names if f"ketnoi {n}" not in text]
    assert missing == [], f"commands missing from README.md: {missing}"
