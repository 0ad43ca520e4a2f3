"""The three synthetic world families: valid contract files, seeded, and different in kind."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from ketnoi import graph

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def worlds():
    spec = importlib.util.spec_from_file_location("ketnoi_worlds", ROOT / "fixtures" / "worlds.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("family", ["quality", "attachment", "tiers"])
@pytest.mark.parametrize("profiles", [True, False], ids=["profiles", "links-only"])
def test_a_world_is_a_valid_dataset_on_disk(worlds, tmp_path, family, profiles):
    world = worlds.make_world(family, 300, 60, 1200, 3, profiles=profiles)
    for name, frame in world.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    report = graph.validate_dataset(tmp_path)
    errors = [p for p in report.problems if p.severity == "error"]
    assert report.ok and not errors, errors[:5]
    dataset = report.dataset
    assert len(dataset.links) >= 800
    assert not dataset.links.duplicated(["supplier_id", "buyer_id"]).any()
    if not profiles:
        assert set(world) == {"firms", "links"}
        assert list(world["firms"].columns) == ["firm_id", "name", "role"]


@pytest.mark.parametrize("family", ["quality", "attachment", "tiers"])
def test_a_world_is_seeded(worlds, family):
    one = worlds.make_world(family, 200, 40, 800, 5)
    two = worlds.make_world(family, 200, 40, 800, 5)
    other = worlds.make_world(family, 200, 40, 800, 6)
    pd.testing.assert_frame_equal(one["links"], two["links"])
    assert not one["links"].equals(other["links"])


def test_the_families_differ_in_mechanism(worlds):
    # Attachment grows by triadic closure: far more of its links close a length-3 path than
    # in the quality world, where a buyer picks suppliers by hidden quality and distance.
    def closed_share(links: pd.DataFrame) -> float:
        links = links.sort_values("since", kind="stable")
        seen: set[tuple[str, str]] = set()
        by_buyer: dict[str, set[str]] = {}
        by_supplier: dict[str, set[str]] = {}
        closed = 0
        for s, b in zip(links["supplier_id"], links["buyer_id"], strict=True):
            peers = {b2 for s2 in by_buyer.get(b, ()) for b2 in by_supplier.get(s2, ())}
            closed += any(s in by_buyer.get(b2, ()) for b2 in peers)
            seen.add((s, b))
            by_buyer.setdefault(b, set()).add(s)
            by_supplier.setdefault(s, set()).add(b)
        return closed / len(links)

    attachment = closed_share(worlds.make_world("attachment", 600, 80, 3000, 1)["links"])
    quality = closed_share(worlds.make_world("quality", 600, 80, 3000, 1)["links"])
    assert attachment > quality + 0.1, (attachment, quality)


def test_an_unknown_family_is_refused(worlds):
    with pytest.raises(ValueError, match="family"):
        worlds.make_world("galaxy")
