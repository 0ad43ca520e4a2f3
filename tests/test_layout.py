"""The shape of the code: one import root, layers that go one way, honest ``__all__`` lists.

The layers themselves (api -> programme -> matcher -> graph) are checked statically by
import-linter in ``.ci/run`` (``lint-imports``); here the same contract runs from the suite too,
so that a local ``pytest`` catches an upward import, lazy ones included.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"graph": "ketnoi.graph", "matcher": "ketnoi.matcher", "programme": "ketnoi.programme",
           "api": "ketnoi.api"}  # fmt: skip
PACKAGES = [
    "ketnoi.graph",
    "ketnoi.matcher",
    "ketnoi.programme",
    "ketnoi.api.storage",
    "ketnoi.api.service",
]


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter is not installed")
def test_layers_go_one_way() -> None:
    done = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("package", PACKAGES)
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


def test_the_folders_load_under_the_ketnoi_root_only() -> None:
    modules = "ketnoi.api.cli, ketnoi.api.service, ketnoi.programme"
    code = f"import sys, {modules}; print(sorted(set(sys.modules) & {set(FOLDERS)!r}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", f"a folder loaded under its bare name: {done.stdout}"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{done.stderr[-2000:]}")
    (path,) = out.glob("ketnoi-*.whl")
    return zipfile.ZipFile(path)


@pytest.mark.slow
def test_the_wheel_installs_one_root(wheel: zipfile.ZipFile) -> None:
    tops = {name.split("/", 1)[0] for name in wheel.namelist()}
    roots = {top for top in tops if not top.endswith((".dist-info", ".data"))}
    assert roots == {"ketnoi"}, f"the wheel writes {sorted(roots)} into site-packages"


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_data_file(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    expected = set()
    for folder, package in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            inside = path.relative_to(ROOT / folder).as_posix()
            expected.add(f"{package.replace('.', '/')}/{inside}")
    missing = sorted(expected - names)
    assert not missing, f"the wheel lacks {missing[:10]}"
