"""Matchmaking events over HTTP: who may do what, locks and re-runs, exports, bad input."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ketnoi.api import storage

PEOPLE = [{"firm_id": f} for f in ("B1", "B2", "S1", "S2", "S3", "S4", "S5")]
EVENT = {"name": "fair", "participants": PEOPLE, "slots": 2, "tables": 2, "max_meetings": 2}


def auth(service: dict[str, Any], role: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {service['keys'][role]}"} if role else {}


def post(service: dict[str, Any], url: str, body: Any, role: str = "staff") -> Any:
    return service["client"].post(url, headers=auth(service, role), json=body)


@pytest.fixture(scope="module")
def event_id(service: dict[str, Any]) -> int:
    response = post(service, "/v1/events", EVENT)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


ROUTES = [
    ("post", "/v1/events", EVENT, {"staff"}),
    ("get", "/v1/events", None, {"staff", "analyst"}),
    ("get", "/v1/events/{id}", None, {"staff", "analyst"}),
    ("get", "/v1/events/{id}?format=xlsx", None, {"staff", "analyst"}),
    ("get", "/v1/events/{id}/grid?format=csv", None, {"staff", "analyst"}),
    ("get", "/v1/events/{id}/agendas/B1", None, {"staff", "analyst", "firm_b1"}),
    ("get", "/v1/events/{id}/agendas/S1?format=csv", None, {"staff", "analyst", "firm_s1"}),
    ("post", "/v1/events/{id}/locks", {"add": []}, {"staff"}),
    ("post", "/v1/events/{id}/schedule", None, {"staff"}),
]


@pytest.mark.parametrize(("method", "url", "body", "allowed"), ROUTES)
@pytest.mark.parametrize("role", [None, "staff", "analyst", "firm_b1", "firm_s1"])
def test_roles(
    service: dict[str, Any],
    event_id: int,
    method: str,
    url: str,
    body: Any,
    allowed: set[str],
    role: str | None,
) -> None:
    response = service["client"].request(
        method, url.format(id=event_id), headers=auth(service, role), json=body
    )
    if role is None:
        assert response.status_code == 401
    elif role in allowed:
        assert response.status_code in {200, 201}, response.text
    else:
        assert response.status_code == 403
        assert response.json()["detail"]


def pairs(body: dict[str, Any]) -> set[tuple[str, str]]:
    return {(m["buyer_id"], m["supplier_id"]) for m in body["meetings"]}


def test_event_schedule_and_record(service: dict[str, Any], event_id: int) -> None:
    body = service["client"].get(f"/v1/events/{event_id}", headers=auth(service, "analyst"))
    body = body.json()
    # As in the library test on the same data: B1-S5 declined and B1-S2 linked stay out.
    assert pairs(body) == {("B1", "S1"), ("B1", "S3"), ("B2", "S5")}
    assert body["summary"]["status"] == "optimal" and body["summary"]["covered"] == 3
    assert [p["side"] for p in body["spec"]["participants"]][:3] == ["buyer", "buyer", "supplier"]
    with Session(service["engine"]) as session:
        audit = session.scalars(
            select(storage.AuditEntry).where(
                storage.AuditEntry.entity == "events",
                storage.AuditEntry.entity_key == str(event_id),
            )
        ).all()
    assert [a.action for a in audit][:1] == ["create"] and audit[0].actor_role == "staff"


def test_lock_then_unlock(service: dict[str, Any]) -> None:
    created = post(service, "/v1/events", EVENT).json()
    url = f"/v1/events/{created['id']}/locks"
    locked = post(service, url, {"add": [{"buyer_id": "B1", "supplier_id": "S4", "slot": 2}]})
    assert locked.status_code == 200, locked.text
    rows = [m for m in locked.json()["meetings"] if m["supplier_id"] == "S4"]
    assert [(r["buyer_id"], r["slot"], r["locked"]) for r in rows] == [("B1", 2, True)]
    # The agendas are out: only B1's slot-2 meeting makes way (B1 is at its cap of two, so it
    # is cancelled), and the answer says so; the other meetings stay where they were.
    place = {
        (m["buyer_id"], m["supplier_id"]): (m["slot"], m["table"]) for m in created["meetings"]
    }
    (gone,) = [pair for pair, (slot, _) in place.items() if pair[0] == "B1" and slot == 2]
    changes = {(c["change"], c["buyer_id"], c["supplier_id"]) for c in locked.json()["changes"]}
    assert changes == {("cancelled", *gone), ("added", "B1", "S4")}
    assert locked.json()["summary"]["cancelled"] == 1
    assert pairs(locked.json()) == {("B1", "S4")} | (pairs(created) - {gone})
    unlocked = post(service, url, {"remove": [{"buyer_id": "B1", "supplier_id": "S4"}]})
    # Unlocking does not reshuffle the day. S4 is unlisted: without its lock the pair may not
    # meet, so that meeting is cancelled (and its slot may be filled); every other stays.
    after = unlocked.json()
    changes = {(c["change"], c["buyer_id"], c["supplier_id"]) for c in after["changes"]}
    assert ("cancelled", "B1", "S4") in changes
    assert not {c for c in changes if c[0] == "moved"}
    kept = {(m["buyer_id"], m["supplier_id"], m["slot"], m["table"]) for m in after["meetings"]}
    before = {
        (m["buyer_id"], m["supplier_id"], m["slot"], m["table"]) for m in locked.json()["meetings"]
    }
    assert before - kept == {next(b for b in before if b[1] == "S4")}
    query = select(storage.AuditEntry.action).where(
        storage.AuditEntry.entity == "events", storage.AuditEntry.entity_key == str(created["id"])
    )
    with Session(service["engine"]) as session:
        actions = set(session.scalars(query))
    assert actions == {"create", "lock"}


def test_lock_that_cannot_be_held_changes_nothing(service: dict[str, Any], event_id: int) -> None:
    before = service["client"].get(f"/v1/events/{event_id}", headers=auth(service, "staff")).json()
    clash = [
        {"buyer_id": "B1", "supplier_id": "S1", "slot": 1},
        {"buyer_id": "B1", "supplier_id": "S3", "slot": 1},
    ]
    response = post(service, f"/v1/events/{event_id}/locks", {"add": clash})
    assert response.status_code == 422
    assert "B1 has two meetings locked in slot 1" in response.json()["detail"]
    after = service["client"].get(f"/v1/events/{event_id}", headers=auth(service, "staff")).json()
    assert (
        after["spec"]["locks"] == before["spec"]["locks"]
        and after["meetings"] == before["meetings"]
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"participants": [{"firm_id": "NOPE"}]}, "request.participants:1: firm_id: 'NOPE'"),
        (
            {"participants": [{"firm_id": "B1", "side": "supplier"}]},
            "'B1' is a buyer in the data and cannot take part as a supplier",
        ),
        ({"locks": [{"buyer_id": "S1", "supplier_id": "S2"}]}, "'S1' is not a buyer at this event"),
    ],
)
def test_bad_events_are_422_with_the_place(
    service: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    response = post(service, "/v1/events", {**EVENT, **change})
    assert response.status_code == 422
    assert message in response.json()["detail"]


@pytest.mark.parametrize("field", ["slots", "tables", "max_meetings"])
def test_limits_below_one_are_422(service: dict[str, Any], field: str) -> None:
    response = post(service, "/v1/events", {**EVENT, field: 0})
    assert response.status_code == 422
    assert field in str(response.json()["detail"])


def test_exports(service: dict[str, Any], event_id: int) -> None:
    client, headers = service["client"], auth(service, "analyst")
    book = client.get(f"/v1/events/{event_id}?format=xlsx", headers=headers)
    sheets = pd.read_excel(io.BytesIO(book.content), sheet_name=None)
    assert list(sheets) == ["meetings", "agendas", "grid"]
    assert len(sheets["meetings"]) == 3 and list(sheets["grid"].columns) == [
        "slot",
        "table 1",
        "table 2",
    ]
    grid = client.get(f"/v1/events/{event_id}/grid?format=csv", headers=headers)
    assert grid.headers["content-type"].startswith("text/csv")
    lines = grid.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "slot,table 1,table 2" and len(lines) == 3
    agenda = client.get(f"/v1/events/{event_id}/agendas/B1", headers=auth(service, "firm_b1"))
    items = agenda.json()["items"]
    assert [(i["slot"], i["counterpart_id"]) for i in items] in (
        [(1, "S1"), (2, "S3")],
        [(1, "S3"), (2, "S1")],
    )
    missing = client.get(f"/v1/events/{event_id}/agendas/T1", headers=headers)
    assert missing.status_code == 404
    assert client.get("/v1/events/99999", headers=headers).status_code == 404
