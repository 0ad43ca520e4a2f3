"""New and changed firms are scored from the database's current rows, without a retrain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def _auth(service: dict[str, Any], role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys'][role]}"}


def test_a_firm_added_through_the_api_is_scored_at_once(
    tmp_path: Path, start_service: Callable[..., Any]
) -> None:
    with start_service(tmp_path, evaluate=False) as service:
        client, staff = service["client"], _auth(service, "staff")
        version = client.get("/v1/model", headers=staff).json()["version"]
        # A new buyer with a demand for printed circuit boards, and a new supplier making them.
        buyer = {"firm_id": "B9", "name": "Công ty TNHH Điện tử Mới", "role": "buyer"}
        supplier = {"firm_id": "S9", "name": "Công ty TNHH Mạch in Mới", "role": "supplier"}
        for firm in (buyer, supplier):
            assert client.post("/v1/firms", headers=staff, json=firm).status_code == 201
        demand = {"firm_id": "B9", "category_id": "pcb", "volume": 1000}
        assert client.post("/v1/demands", headers=staff, json=demand).status_code == 201
        made = {"firm_id": "S9", "category_id": "pcb", "capacity": 50000}
        assert client.post("/v1/capabilities", headers=staff, json=made).status_code == 201

        answer = client.get("/v1/buyers/B9/suppliers", headers=staff, params={"k": 20})
        assert answer.status_code == 200, answer.text
        assert "S9" in [row["supplier_id"] for row in answer.json()["items"]]
        for_b1 = client.get("/v1/buyers/B1/suppliers", headers=staff, params={"k": 20}).json()
        suggested = client.get("/v1/suppliers/S9/buyers", headers=staff, params={"k": 20})
        assert suggested.status_code == 200, suggested.text
        # The same fitted scorer answered: no retrain happened.
        assert client.get("/v1/model", headers=staff).json()["version"] == version
        assert for_b1["model_version"] == version

        # A deleted firm is gone from the answers as soon as it is deleted.
        assert client.delete("/v1/firms/S9", headers=staff).status_code == 204
        after = client.get("/v1/buyers/B9/suppliers", headers=staff, params={"k": 20})
        assert "S9" not in [row["supplier_id"] for row in after.json()["items"]]
