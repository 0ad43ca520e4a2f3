"""Every example in a docstring runs and shows what it says (numpydoc ``Examples``).

Modules are found by walking the four packages, so a new module's examples are checked without
being listed here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("ketnoi.graph", "ketnoi.matcher", "ketnoi.programme", "ketnoi.api")
#: Modules whose functions draw or build what people look at: each must show an example.
WITH_EXAMPLES = {
    "ketnoi.graph._analysis",
    "ketnoi.graph._figures",
    "ketnoi.graph._network_html",
    "ketnoi.graph._plot",
    "ketnoi.graph._taxonomy",
    "ketnoi.matcher._collaborative",
    "ketnoi.matcher._match_list",
    "ketnoi.matcher._plot",
    "ketnoi.programme._event_participants",
    "ketnoi.programme._plot_events",
    "ketnoi.programme._plot_programme",
}


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        for found in pkgutil.walk_packages(module.__path__, f"{package}."):
            # Alembic's migration scripts run only inside Alembic's own context.
            if ".migrations" not in found.name:
                names.append(found.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
    if name in WITH_EXAMPLES:
        assert result.attempted > 0, f"{name} lost its examples"
