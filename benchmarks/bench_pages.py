"""The workbench's pages on the demo world: server time of every page, and each page's first load.

Starts the service (uvicorn, one worker, as ``ketnoi serve`` does) on a free loopback port with a
fresh data folder loaded with ``fixtures/hanoi`` (recommendations precomputed), makes a staff
key and a firm key (a buyer), saves one event and one match list through the JSON API, signs a
browser-like client in (session cookie, CSRF) in each language, and then times, one request
after another on one keep-alive connection:

* every main page, in Vietnamese and in English, with the staff session, and the pages a firm
  opens (its portal, the firm search, a profile, its own suppliers, its agenda) with the firm's
  session;
* as baselines, in the same run and the same way: ``/v1/health`` and the JSON routes the pages
  call (``/v1/firms``, ``/v1/buyers/{id}/suppliers``, ``/v1/programme/indicators``...).

A time is the client's round trip on loopback (send to last byte read), which bounds the
server's time from above; the baselines carry the same overhead. Each page and route is asked
``--requests`` times (at least 200) after ``--warm-up`` untimed requests; the figures are p50,
p95 and max in milliseconds. Requests are interleaved round by round (each round asks every
page once), so a burst of load from elsewhere on the machine hits every page alike.

Then each main page's first load: its HTML and every stylesheet, script and image it references
(fetched once each), in bytes uncompressed and gzip-compressed (level 6, as a server would),
against the aim of 300 KB.

Aims (from issue 13): every page's p95 under 150 ms; every first load under 300 KB.

Usage::

    python benchmarks/bench_pages.py [--requests 200] [--warm-up 10] [--json-out FILE]
        [--only PATH ...]

Prints markdown tables (with the machine, date and load average) to stdout; the exit status is
0 when every aim is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from ketnoi import graph
from ketnoi.api import storage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service_load import Server, machine  # noqa: E402 - a sibling script

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT / "fixtures" / "hanoi"
P95_AIM_MS = 150.0
FIRST_LOAD_AIM = 300 * 1024
CSRF = re.compile(r'name="csrf" value="([^"]+)"')

BUYER = "hn-b001"
SUPPLIER = "hn-s0001"
TWO_SIDED = "hn-t001"


def staff_pages(event_id: int, list_id: int, why: str) -> list[str]:
    """The main pages staff open (the page list of issue 13), filled for the demo world."""
    return [
        "/",
        "/firms",
        "/firms?q=co+khi",
        f"/firms/{TWO_SIDED}",
        f"/buyers/{BUYER}/suppliers",
        f"/suppliers/{SUPPLIER}/buyers",
        "/match-lists",
        f"/match-lists/{list_id}",
        "/events",
        f"/events/{event_id}",
        f"/events/{event_id}/agendas/{BUYER}",
        "/gaps",
        "/imports",
        "/audit",
    ]


def panels(why: str) -> list[str]:
    """What a page asks for after it is shown (htmx): the buyer's tier chain, and "why not
    yet" for a supplier."""
    return [f"/buyers/{BUYER}/chain", f"/pairs/{why}/{BUYER}"]


def firm_pages(event_id: int) -> list[str]:
    """What a buyer's key opens: its portal, search, a profile, its suppliers, its agenda."""
    return [
        "/",
        "/firms?q=co+khi",
        f"/firms/{SUPPLIER}",
        f"/buyers/{BUYER}/suppliers",
        f"/events/{event_id}/agendas/{BUYER}",
    ]


def json_routes(event_id: int, why: str) -> list[str]:
    """The JSON routes behind the pages, and health: the baselines."""
    return [
        "/v1/health",
        "/v1/firms?q=co+khi",
        f"/v1/firms/{TWO_SIDED}",
        f"/v1/buyers/{BUYER}/suppliers?k=10",
        f"/v1/suppliers/{SUPPLIER}/buyers?k=10",
        f"/v1/buyers/{BUYER}/chain?depth=2&k=3",
        f"/v1/suppliers/{why}/buyers/{BUYER}/explanation",
        "/v1/programme/indicators",
        f"/v1/events/{event_id}",
        "/v1/audit",
    ]


# -- sessions ----------------------------------------------------------------------------------
def signed_in(url: str, key: str, lang: str) -> httpx.Client:
    """A client holding a signed-in page session in ``lang`` (as a browser would)."""
    client = httpx.Client(base_url=url, timeout=60, follow_redirects=True)
    token = CSRF.search(client.get("/sign-in").text)
    assert token, "no CSRF token on the sign-in page"
    answer = client.post("/sign-in", data={"csrf": token[1], "api_key": key, "next": "/"})
    assert answer.status_code == 200, answer.text[:300]
    token = CSRF.search(answer.text)
    assert token, "no CSRF token on the home page"
    client.post("/lang", data={"csrf": token[1], "lang": lang, "next": "/"})
    assert client.cookies.get("ketnoi_lang") == lang
    client.follow_redirects = False
    return client


def api_client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": key})


# -- timing ------------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    rank = max(1, int(round(p / 100 * len(ordered) + 0.4999)))
    return ordered[min(rank, len(ordered)) - 1]


def time_all(targets: list[tuple[str, httpx.Client, str]], requests: int, warm_up: int) -> dict:
    """``requests`` timed answers of each (label, client, path), round by round."""
    times: dict[str, list[float]] = {label: [] for label, _, _ in targets}
    sizes: dict[str, int] = {}
    for round_number in range(warm_up + requests):
        for label, client, path in targets:
            start = time.perf_counter()
            answer = client.get(path)
            body = answer.content
            elapsed = (time.perf_counter() - start) * 1000
            if answer.status_code != 200:
                raise SystemExit(f"{label} {path}: {answer.status_code} {body[:300]!r}")
            if round_number >= warm_up:
                times[label].append(elapsed)
            sizes[label] = len(body)
    return {
        label: {
            "n": len(values),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "max": max(values),
            "bytes": sizes[label],
        }
        for label, values in times.items()
    }


# -- first load --------------------------------------------------------------------------------
class _Assets(HTMLParser):
    """The stylesheets, scripts and images a page references."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        link = None
        if (
            tag == "link"
            and "stylesheet" in (values.get("rel") or "")
            or tag == "link"
            and ("icon" in (values.get("rel") or ""))
        ):
            link = values.get("href")
        elif tag in ("script", "img", "source"):
            link = values.get("src")
        if link and not link.startswith("data:"):
            self.found.append(link)


def first_load(client: httpx.Client, path: str) -> dict[str, Any]:
    """The bytes of ``path`` and every asset it references, raw and gzip-compressed."""
    answer = client.get(path)
    parser = _Assets()
    parser.feed(answer.text)
    files = {path: answer.content}
    for link in dict.fromkeys(parser.found):
        asset = client.get(urljoin(str(answer.url), link))
        if asset.status_code != 200:
            raise SystemExit(f"{path} references {link}: {asset.status_code}")
        files[link] = asset.content
    raw = sum(len(b) for b in files.values())
    packed = sum(len(gzip.compress(b, 6)) for b in files.values())
    return {"files": {k: len(v) for k, v in files.items()}, "raw": raw, "gzip": packed}


# -- the run -----------------------------------------------------------------------------------
def _load_average() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux
        return "?"


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.url:
        # A server already running (while working on a page): its keys are given.
        return measure(args.url, args.staff_key, args.firm_key, args, 0.0)
    dataset = graph.load_dataset(args.dataset)
    with tempfile.TemporaryDirectory(prefix="bench_pages_") as tmp:
        folder = Path(tmp)
        engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
        storage.upgrade(engine)
        storage.load_into(engine, dataset)
        staff_key = storage.create_key(engine, "staff", label="bench_pages")
        firm_key = storage.create_key(engine, "firm", BUYER, label="bench_pages")
        engine.dispose()
        server = Server(folder, workers=1)
        try:
            ready = server.wait_ready(args.ready_timeout)
            return measure(server.url, staff_key, firm_key, args, ready)
        except (AssertionError, SystemExit):
            print(server.log_path.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            server.stop()


def measure(
    url: str, staff_key: str, firm_key: str, args: argparse.Namespace, ready: float
) -> dict[str, Any]:
    api = api_client(url, staff_key)
    suppliers = api.get(f"/v1/buyers/{BUYER}/suppliers?k=10").json()["items"]
    why = suppliers[-1]["supplier_id"]
    participants = [{"firm_id": b, "side": "buyer"} for b in (BUYER, "hn-b002", "hn-b003")]
    participants += [{"firm_id": s["supplier_id"], "side": "supplier"} for s in suppliers[:8]]
    event = api.post(
        "/v1/events",
        json={
            "name": "bench_pages",
            "participants": participants,
            "slots": 6,
            "tables": 4,
            "max_meetings": 4,
        },
    )
    assert event.status_code == 201, event.text
    event_id = event.json()["id"]
    made = api.post(
        "/v1/match-lists",
        json={"label": "bench_pages", "buyer_ids": [BUYER, "hn-b002", "hn-b003"], "k": 5},
    )
    assert made.status_code in (200, 201), made.text
    list_id = made.json()["id"]

    targets: list[tuple[str, httpx.Client, str]] = []
    keep: list[httpx.Client] = [api]
    for lang in ("vi", "en"):
        staff = signed_in(url, staff_key, lang)
        firm = signed_in(url, firm_key, lang)
        keep += [staff, firm]
        visitor = httpx.Client(base_url=url, timeout=60, cookies={"ketnoi_lang": lang})
        keep.append(visitor)
        if lang == "vi":
            load_by = {"staff": staff, "visitor": visitor}
        targets.append((f"page visitor {lang} /sign-in", visitor, "/sign-in"))
        for path in staff_pages(event_id, list_id, why):
            targets.append((f"page staff {lang} {path}", staff, path))
        for path in firm_pages(event_id):
            targets.append((f"page firm {lang} {path}", firm, path))
        if not args.no_panels:
            for path in panels(why):
                targets.append((f"panel staff {lang} {path}", staff, path))
    for path in json_routes(event_id, why):
        targets.append((f"json staff {path}", api, path))
    if args.only:
        targets = [t for t in targets if any(o in t[0] for o in args.only)]

    before = _load_average()
    started = time.perf_counter()
    timed = time_all(targets, args.requests, args.warm_up)
    seconds = time.perf_counter() - started
    after = _load_average()
    loads = {}
    for path in ["/sign-in", *staff_pages(event_id, list_id, why)]:
        if not args.only or any(o in path for o in args.only):
            loads[path] = first_load(load_by["visitor" if path == "/sign-in" else "staff"], path)
    for client in keep:
        client.close()
    return {
        "machine": machine(),
        "ready_seconds": round(ready, 1),
        "load_before": before,
        "load_after": after,
        "seconds": round(seconds, 1),
        "requests": args.requests,
        "warm_up": args.warm_up,
        "times": timed,
        "first_load": loads,
    }


def aims(report: dict[str, Any]) -> list[tuple[str, str, bool]]:
    out = []
    for label, t in report["times"].items():
        if label.startswith("p"):
            out.append((f"{label}: p95 under 150 ms", f"{t['p95']:.1f} ms", t["p95"] < P95_AIM_MS))
    for path, load in report["first_load"].items():
        ok = load["raw"] < FIRST_LOAD_AIM
        out.append((f"{path}: first load under 300 KB", f"{load['raw'] / 1024:.1f} KB", ok))
    return out


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"{m['date']}; {m['cpu']} ({m['cpus']} cores), Python {m['python']}, uvicorn "
        f"{m['uvicorn']}, FastAPI {m['fastapi']}; server ready in {report['ready_seconds']} s; "
        f"{report['requests']} timed requests each after {report['warm_up']} untimed, "
        f"{report['seconds']} s in all; load average {report['load_before']} before, "
        f"{report['load_after']} after.",
        "",
        "| what | session | lang | path | p50 ms | p95 ms | max ms | bytes |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for label, t in report["times"].items():
        parts = label.split(" ", 3) if label.startswith("p") else label.split(" ", 2)
        if label.startswith("p"):
            kind, who, lang, path = parts
        else:
            kind, who, path = parts
            lang = ""
        lines.append(
            f"| {kind} | {who} | {lang} | `{path}` | {t['p50']:.1f} | {t['p95']:.1f} | "
            f"{t['max']:.1f} | {t['bytes']:,} |"
        )
    lines += [
        "",
        "| page (staff, Vietnamese) | files | first load KB | gzip KB |",
        "| --- | ---: | ---: | ---: |",
    ]
    for path, load in report["first_load"].items():
        lines.append(
            f"| `{path}` | {len(load['files'])} | {load['raw'] / 1024:.1f} | "
            f"{load['gzip'] / 1024:.1f} |"
        )
    missed = [a for a in aims(report) if not a[2]]
    lines += ["", f"Aims met: {len(aims(report)) - len(missed)} of {len(aims(report))}."]
    lines += [f"- missed: {name} ({value})" for name, value, _ in missed]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warm-up", type=int, default=10)
    parser.add_argument("--ready-timeout", type=float, default=600)
    parser.add_argument("--only", nargs="*", default=None, help="labels containing any of these")
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--no-panels", action="store_true", help="leave the htmx panels out")
    parser.add_argument("--url", default=None, help="measure this running server instead")
    parser.add_argument("--staff-key", default=None, help="with --url")
    parser.add_argument("--firm-key", default=None, help=f"with --url: a key of {BUYER}")
    args = parser.parse_args(argv)
    report = run(args)
    print(markdown(report))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    return 0 if all(ok for _, _, ok in aims(report)) else 1


if __name__ == "__main__":
    sys.exit(main())
