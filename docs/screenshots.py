"""Screenshots of the workbench's main pages, in Vietnamese and English, for the docs.

Starts a real ``ketnoi serve`` on a free loopback port with a fresh data folder loaded with a
world (default ``fixtures/hanoi``, the demo world), saves an event and a match list through the
JSON API so that their pages have something to show, signs Debian's Chromium in (driven by
playwright: ``/usr/bin/chromium``, never ``playwright install``) and saves a PNG of each page in
:data:`PAGES` in both languages, 1280x800, into ``docs/screenshots/`` (``<name>-<lang>.png``),
reduced to a 64-colour palette when Pillow is there (a page is text and flat colours).

``tests/test_browser.py`` imports this module: its server, the page list and the sign-in are the
same, so a page listed here that breaks fails a test.

Usage::

    python docs/screenshots.py [--dataset fixtures/hanoi] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("KETNOI_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
LANGS = ("vi", "en")

#: The main pages: a name (the screenshot's file) and the path, with ``{buyer}``,
#: ``{supplier}``, ``{firm}``, ``{why}``, ``{event}`` and ``{list}`` filled for a world.
PAGES: list[tuple[str, str]] = [
    ("home", "/"),
    ("firms", "/firms?q=co+khi"),
    ("firm", "/firms/{firm}"),
    ("suppliers", "/buyers/{buyer}/suppliers?why={why}"),
    ("buyers", "/suppliers/{supplier}/buyers"),
    ("match-lists", "/match-lists"),
    ("match-list", "/match-lists/{list}"),
    ("events", "/events"),
    ("event", "/events/{event}"),
    ("gaps", "/gaps"),
    ("imports", "/imports"),
    ("audit", "/audit"),
]
#: The pages saved as screenshots (a handful: the docs need no more).
SHOWN = ("home", "firms", "suppliers", "match-lists", "event", "gaps")

#: The firms each world's pages show.
WORLDS: dict[str, dict[str, str]] = {
    "tiny": {"buyer": "B1", "supplier": "S1", "firm": "S2", "why": "S4"},
    "hanoi": {"buyer": "hn-b001", "supplier": "hn-s0001", "firm": "hn-t001", "why": ""},
}


def filled(path: str, values: dict[str, Any]) -> str:
    """``path`` with its ``{names}`` filled.

    Examples
    --------
    >>> filled("/events/{event}", {"event": 3})
    '/events/3'
    """
    return path.format(**values)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(
    folder: Path, dataset: Path, *, timeout: float = 600, firms: tuple[str, ...] = ()
) -> Iterator[dict[str, Any]]:
    """``ketnoi serve`` on ``dataset`` in ``folder`` (fresh), on a free loopback port.

    Yields ``{"base", "keys", "folder"}``: keys ``staff`` and ``analyst``, and ``firm_<id>`` (in
    lower case) for each of ``firms``.
    """
    from ketnoi import graph
    from ketnoi.api import storage

    env = {k: v for k, v in os.environ.items() if not k.startswith("KETNOI_")}
    env.update(KETNOI_DATA_DIR=str(folder), KETNOI_EVALUATE="false")
    saved_secret = os.environ.pop("KETNOI_SECRET", None)
    try:
        engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
        storage.upgrade(engine)
        storage.load_into(engine, graph.load_dataset(dataset))
        keys = {
            "staff": storage.create_key(engine, "staff"),
            "analyst": storage.create_key(engine, "analyst"),
        }
        for firm in firms:
            keys[f"firm_{firm.lower()}"] = storage.create_key(engine, "firm", firm)
        engine.dispose()
    finally:
        if saved_secret is not None:
            os.environ["KETNOI_SECRET"] = saved_secret
    port = _free_port()
    command = [sys.executable, "-c", "from ketnoi.api.cli import main; main()", "serve"]
    command += ["--port", str(port), "--data-dir", str(folder)]
    log_path = folder / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/v1/health", timeout=2) as answer:
                        if json.load(answer)["model_loaded"]:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("ketnoi serve did not start:\n" + log_path.read_text())
                time.sleep(0.3)
            yield {"base": base, "keys": keys, "folder": folder}
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def api(server: dict[str, Any], method: str, path: str, body: Any = None) -> Any:
    """A JSON API call with the staff key."""
    request = urllib.request.Request(
        server["base"] + path,
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"X-API-Key": server["keys"]["staff"], "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        return json.load(answer)


def seed(server: dict[str, Any], world: dict[str, str]) -> dict[str, Any]:
    """Save an event and a match list around the world's buyer; the page list's values."""
    buyer = world["buyer"]
    suppliers = api(server, "GET", f"/v1/buyers/{buyer}/suppliers?k=6")["items"]
    firms = api(server, "GET", "/v1/firms?role=buyer&page_size=3")["items"]
    buyers = list(dict.fromkeys([buyer, *(f["firm_id"] for f in firms)]))[:3]
    participants = [{"firm_id": b, "side": "buyer"} for b in buyers]
    participants += [{"firm_id": s["supplier_id"], "side": "supplier"} for s in suppliers]
    event = api(
        server,
        "POST",
        "/v1/events",
        {
            "name": "Hội chợ công nghiệp hỗ trợ",
            "participants": participants,
            "slots": 4,
            "tables": 3,
            "max_meetings": 3,
        },
    )
    made = api(server, "POST", "/v1/match-lists", {"label": "Demo", "buyer_ids": buyers, "k": 3})
    return {
        **world,
        "why": world["why"] or suppliers[-1]["supplier_id"],
        "event": event["id"],
        "list": made["id"],
    }


def launch(playwright: Any) -> Any:
    """Debian's Chromium, headless (never a browser playwright downloads)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def sign_in(page: Any, key: str, lang: str = "en") -> None:
    """Sign ``page`` in with ``key`` on the sign-in page, then switch to ``lang``."""
    page.goto("/")
    assert "/sign-in" in page.url, page.url
    page.fill("#api_key", key)
    page.click("form[action='/sign-in'] button[type=submit]")
    page.wait_for_url("**/")
    if page.get_attribute("html", "lang") != lang:
        page.click(f"form.lang button[value='{lang}']")
        page.wait_for_selector(f"html[lang='{lang}']")


def small_png(data: bytes) -> bytes:
    """``data`` (a PNG) with a 64-colour palette, when Pillow is there."""
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return data
    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.quantize(64, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue() if out.tell() < len(data) else data


def shoot(server: dict[str, Any], values: dict[str, Any], out: Path) -> list[Path]:
    """Save the :data:`SHOWN` pages in each language into ``out``; the files written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for lang in LANGS:
            context = browser.new_context(
                base_url=server["base"], viewport=VIEWPORT, locale="vi-VN"
            )
            page = context.new_page()
            page.set_default_timeout(60_000)
            sign_in(page, server["keys"]["staff"], lang)
            for name, path in PAGES:
                if name not in SHOWN:
                    continue
                answer = page.goto(filled(path, values))
                if answer is None or answer.status != 200:
                    raise RuntimeError(f"{path}: {answer.status if answer else 'no answer'}")
                target = out / f"{name}-{lang}.png"
                target.write_bytes(small_png(page.screenshot()))
                written.append(target)
            context.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "fixtures" / "hanoi")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    import tempfile

    world = WORLDS.get(args.dataset.name, WORLDS["hanoi"])
    with (
        tempfile.TemporaryDirectory(prefix="ketnoi-shots-") as tmp,
        serve(Path(tmp), args.dataset) as server,
    ):
        for path in shoot(server, seed(server, world), args.out):
            print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
