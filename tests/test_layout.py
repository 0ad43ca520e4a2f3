"""The shape of the code: imports go one way, and every package's __all__ is honest."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("graph", ("matcher", "api")), ("matcher", ("api",))],
)
def test_imports_never_go_upward(package: str, forbidden: tuple[str, ...]) -> None:
    code = f"import sys, {package}; print(','.join(m for m in {forbidden!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "", f"{package} imports {done.stdout.strip()}"


@pytest.mark.parametrize("package", ["graph", "matcher", "api.storage", "api.service"])
def test_all_names_exist_and_public_ones_are_listed(package: str) -> None:
    module = importlib.import_module(package)
    names = module.__all__
    assert len(names) == len(set(names))
    missing = [name for name in names if not hasattr(module, name)]
    assert not missing, f"{package}.__all__ names what it does not define: {missing}"
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(package)
    }
    assert public <= set(names), f"{package} exports without listing: {sorted(public - set(names))}"
