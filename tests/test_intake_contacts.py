"""A firm's contact fields are private unless the firm opted in (``contact_public``).

Staff, analysts and the firm itself read them; another firm's key reads them only for a firm
that opted in, and null otherwise (docs/service.md, "What a firm key may learn").
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ketnoi import graph

TINY = Path(__file__).parent.parent / "fixtures" / "tiny"
CONTACTS = {
    # S1 opted in; S2 did not.
    "S1": ("12 Phố Huế, Hai Bà Trưng", "0243 555 0101", "sales@s1.example.vn", "true"),
    "S2": ("9 Ngõ Trạm, Hoàn Kiếm", "0243 555 0202", "info@s2.example.vn", "false"),
}


@pytest.fixture(scope="module")
def service(
    tmp_path_factory: pytest.TempPathFactory, start_service: Any
) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("contacts")
    data = root / "data"
    shutil.copytree(TINY, data)
    firms = pd.read_csv(data / "firms.csv", dtype=str, keep_default_na=False)
    for column in ("address", "phone", "email", "contact_public"):
        firms[column] = ""
    for firm_id, (address, phone, email, public) in CONTACTS.items():
        row = firms["firm_id"] == firm_id
        firms.loc[row, ["address", "phone", "email", "contact_public"]] = [
            address,
            phone,
            email,
            public,
        ]
    firms.to_csv(data / "firms.csv", index=False)
    keys = {"staff": ("staff", None), "b1": ("firm", "B1"), "s2": ("firm", "S2")}
    with start_service(root, dataset=data, keys=keys, evaluate=False, precompute=False) as s:
        yield s


def _firm(service: dict[str, Any], who: str, firm_id: str) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {service['keys'][who]}"}
    response = service["client"].get(f"/v1/firms/{firm_id}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_contact_fields_are_in_the_contract_and_load() -> None:
    names = graph.CONTRACT["firms"].column_names
    assert {"address", "phone", "email", "website", "contact_person", "contact_public"} <= set(
        names
    )
    assert graph.CONTRACT["firms"].column("contact_public").default is False


def test_another_firm_reads_contacts_only_where_the_firm_opted_in(
    service: dict[str, Any],
) -> None:
    opted_in = _firm(service, "b1", "S1")
    assert opted_in["phone"] == "0243 555 0101" and opted_in["email"] == "sales@s1.example.vn"
    kept = _firm(service, "b1", "S2")
    assert kept["phone"] is None and kept["address"] is None and kept["email"] is None
    assert "contact_public" not in kept  # a private field itself


def test_staff_and_the_firm_itself_read_every_contact(service: dict[str, Any]) -> None:
    for who in ("staff", "s2"):
        own = _firm(service, who, "S2")
        assert own["phone"] == "0243 555 0202" and own["address"] == "9 Ngõ Trạm, Hoàn Kiếm"
        assert own["contact_public"] is False


def test_a_firm_may_opt_in_and_out(service: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {service['keys']['s2']}"}
    client = service["client"]
    try:
        answer = client.patch("/v1/firms/S2", headers=headers, json={"contact_public": True})
        assert answer.status_code == 200, answer.text
        assert _firm(service, "b1", "S2")["email"] == "info@s2.example.vn"
    finally:
        client.patch("/v1/firms/S2", headers=headers, json={"contact_public": False})
    assert _firm(service, "b1", "S2")["email"] is None
