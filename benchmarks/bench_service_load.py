"""Load on loopback: the HTTP service under ``wrk``, recommendations against ``/v1/health``.

Starts ``uvicorn --factory api.service:create_app`` on a free loopback port, with a temporary
data folder loaded with a dataset (default ``fixtures/hanoi``; recommendations precomputed at
start-up, as ``ketnoi serve`` does), makes a staff key, and runs ``wrk`` (``-t2``, ``--latency``,
bounded by ``-d``) against ``/v1/health`` and ``/v1/buyers/{id}/suppliers?k=10`` at 10 and 50
connections, one after the other, on the same server. The server is stopped at the end.

Targets (from the issue):

* recommendations at 50 connections: zero errors (non-2xx answers and socket errors), and at
  least a third of the requests/s the same server gives ``/v1/health`` at 50 connections;
* recommendations at 10 connections: p99 latency under 50 ms.

Without ``wrk`` (``apt-get install wrk``) a Python load generator (httpx, one thread per
connection) is used instead, and the output says so; its figures are lower than wrk's (the
generator is slower than the server), so only wrk figures are comparable with the targets.

Usage::

    python benchmarks/bench_service_load.py [--dataset fixtures/hanoi] [--buyer hn-b001]
        [--duration 10] [--connections 10 50] [--workers 1] [--json-out FILE] [--python-load]

Prints a markdown table (and the machine, date and load average) to stdout. The exit status is
0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from ketnoi import graph
from ketnoi.api import storage

ROOT = Path(__file__).resolve().parents[1]


DEFAULT = ROOT / "fixtures" / "hanoi"
P99_TARGET_MS = 50.0
RATIO_TARGET = 1 / 3


# -- the server -----------------------------------------------------------------------------------
class Server:
    """The service under uvicorn on a free loopback port.

    ``--host``/``--port`` as ``ketnoi serve`` does, not a socket handed over with ``--fd``:
    uvicorn wraps such a socket as AF_UNIX, so asyncio never sets TCP_NODELAY on its
    connections, and Nagle's algorithm with delayed ACKs adds about 40 ms to every answer.
    """

    def __init__(self, data_dir: Path, workers: int, kind: str = "uvicorn") -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KETNOI_")}
        env |= {"KETNOI_DATA_DIR": str(data_dir), "KETNOI_PRECOMPUTE": "true"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "uvicorn", "--factory", "ketnoi.api.service:create_app"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        command += ["--no-access-log", "--backlog", "1024"]
        if workers > 1:
            command += ["--workers", str(workers)]
        if kind == "gunicorn":  # as ``ketnoi serve --workers N``: forked, one model shared
            command = [sys.executable, "-c", _GUNICORN.format(port=port, workers=workers)]
        self.log_path = data_dir / "server.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, timeout: float = 180) -> float:
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=5).json()["model_loaded"]:
                    return time.perf_counter() - start
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"the server was not ready in {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_GUNICORN = (
    "from ketnoi.api._cli_serve import serve_workers; "
    "from ketnoi.api.service import ServiceSettings; "
    "serve_workers(ServiceSettings(), '127.0.0.1', {port}, {workers})"
)


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def memory(pid: int) -> list[dict[str, Any]]:
    """RSS, PSS and USS (private pages) in MB of the server process and its workers (Linux)."""
    rows = []
    for each in [pid, *_children(pid)]:
        try:
            text = Path(f"/proc/{each}/smaps_rollup").read_text()
        except OSError:
            continue
        kb = {
            line.split(":")[0]: int(line.split()[1])
            for line in text.splitlines()[1:]
            if line.split()[-1] == "kB"
        }
        private = kb.get("Private_Clean", 0) + kb.get("Private_Dirty", 0)
        rows.append(
            {
                "pid": each,
                "role": "parent" if each == pid else "worker",
                "rss_mb": round(kb.get("Rss", 0) / 1024, 1),
                "pss_mb": round(kb.get("Pss", 0) / 1024, 1),
                "uss_mb": round(private / 1024, 1),
            }
        )
    return rows


# -- load generators ------------------------------------------------------------------------------
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> dict[str, Any]:
    """Requests/s, latency percentiles (ms), answers, non-2xx answers and socket errors."""
    out: dict[str, Any] = {"non_2xx": 0, "socket_errors": 0}
    out["requests_per_s"] = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    out["requests"] = int(re.search(r"(\d+) requests in", output)[1])  # type: ignore[index]
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE):
        out[f"p{pct}_ms"] = _ms(value)
    if match := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        out["non_2xx"] = int(match[1])
    if match := re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    ):
        out["socket_errors"] = sum(int(g) for g in match.groups())
    return out


def rotating_script(paths: list[str], folder: Path) -> Path:
    """A wrk script asking ``paths`` in turn (one list per wrk thread, each from its own
    offset), so that few requests repeat a recent question."""
    script = folder / "rotate.lua"
    quoted = ",".join(json.dumps(p) for p in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\n"
        "local i = 0\n"
        "function init(args) i = math.random(#paths) end\n"
        "function request()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(nil, paths[i])\n"
        "end\n"
    )
    return script


def run_wrk(
    url: str,
    key: str | None,
    connections: int,
    duration: int,
    threads: int,
    script: Path | None = None,
) -> dict:
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s"]
    command += ["--latency", "--timeout", "5s"]
    if script is not None:
        command += ["-s", str(script)]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    return parse_wrk(output) | {"raw": output}


def run_python(url: str, key: str | None, connections: int, duration: int, threads: int) -> dict:
    """One thread and one keep-alive connection per ``connections``, for ``duration`` s."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    stop_at = time.perf_counter() + duration

    def worker(i: int) -> None:
        with httpx.Client(headers=headers, timeout=5) as client:
            while (start := time.perf_counter()) < stop_at:
                try:
                    ok = client.get(url).status_code < 300
                except httpx.HTTPError:
                    ok = False
                latencies[i].append((time.perf_counter() - start) * 1000)
                errors[i] += not ok

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    begin = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - begin
    values = sorted(v for per in latencies for v in per)

    def pct(p: float) -> float:
        return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else 0.0

    return {
        "requests_per_s": len(values) / elapsed,
        "requests": len(values),
        **{f"p{p}_ms": pct(p) for p in (50, 75, 90, 99)},
        "non_2xx": sum(errors),
        "socket_errors": 0,
    }


# -- the run --------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("uvicorn", "fastapi", "starlette", "sqlalchemy"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # pragma: no cover - reporting only
            versions[name] = "?"
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        **versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT)
    parser.add_argument("--buyer", default=None, help="default: hn-b001, else the first buyer")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (-t)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--server",
        choices=["uvicorn", "gunicorn"],
        default="uvicorn",
        help="uvicorn (workers spawned, a model each) or gunicorn (forked, one model shared)",
    )
    parser.add_argument(
        "--rotate",
        action="store_true",
        help="also every buyer with k 1-50 in turn (few repeats: the answer cache misses)",
    )
    parser.add_argument("--json-out", type=Path, default=None)
    parser.add_argument("--python-load", action="store_true", help="use the Python generator")
    parser.add_argument(
        "--ready-timeout", type=float, default=180.0, help="s to wait for the model (a busy host)"
    )
    args = parser.parse_args(argv)

    use_wrk = not args.python_load and shutil.which("wrk") is not None
    generator = "wrk " + _wrk_version() if use_wrk else "python httpx threads (wrk not used)"
    if not use_wrk and not args.python_load:
        print("wrk not found: falling back to the Python load generator", file=sys.stderr)
    run = run_wrk if use_wrk else run_python

    dataset = graph.load_dataset(args.dataset)
    buyers = sorted(dataset.buyer_ids)
    buyer = args.buyer or ("hn-b001" if "hn-b001" in buyers else buyers[0])
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ketnoi-bench-") as tmp:
        folder = Path(tmp)
        os.environ.pop("KETNOI_SECRET", None)  # the server reads the secret file we make here
        engine = storage.make_engine(f"sqlite:///{folder / 'ketnoi.db'}", data_dir=folder)
        storage.upgrade(engine)
        storage.load_into(engine, dataset)
        key = storage.create_key(engine, "staff", label="bench_service_load")
        engine.dispose()
        server = Server(folder, args.workers, args.server)
        try:
            startup = server.wait_ready(args.ready_timeout)
            urls = {
                "health": f"{server.url}/v1/health",
                "recommendations": f"{server.url}/v1/buyers/{buyer}/suppliers?k=10",
            }
            check = httpx.get(
                urls["recommendations"], headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            if check.status_code != 200 or not check.json()["items"]:
                raise SystemExit(f"no recommendations for {buyer}: {check.text[:300]}")
            for url in urls.values():  # warm up both paths
                for _ in range(20):
                    httpx.get(url, headers={"Authorization": f"Bearer {key}"}, timeout=30)
            scripts: dict[str, Path | None] = {name: None for name in urls}
            if args.rotate and use_wrk:
                paths = [f"/v1/buyers/{b}/suppliers?k={k}" for k in range(1, 51) for b in buyers]
                urls["recommendations, rotating"] = server.url + paths[0]
                scripts["recommendations, rotating"] = rotating_script(paths, folder)
            results = []
            for connections in args.connections:
                for name, url in urls.items():
                    auth = key if name != "health" else None
                    if scripts[name] is not None:
                        figures = run_wrk(
                            url, auth, connections, args.duration, args.threads, scripts[name]
                        )
                    else:
                        figures = run(url, auth, connections, args.duration, args.threads)
                    figures.pop("raw", None)
                    results.append({"route": name, "connections": connections, **figures})
                    time.sleep(1)
            processes = memory(server.process.pid)
        finally:
            server.stop()
    load_after = os.getloadavg()

    report = {
        "machine": machine(),
        "generator": generator,
        "dataset": str(args.dataset),
        "firms": len(dataset.firms),
        "buyer": buyer,
        "duration_s": args.duration,
        "threads": args.threads,
        "workers": args.workers,
        "server": args.server,
        "memory": processes,
        "startup_s": round(startup, 2),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "results": results,
    }
    report["targets"] = targets(results)
    print(markdown(report))
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(t["pass"] for t in report["targets"]) else 1


def _wrk_version() -> str:
    text = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    match = re.search(r"wrk (\S+)", text)
    return match[1] if match else "?"


def _find(results: list[dict], route: str, connections: int) -> dict | None:
    for r in results:
        if r["route"] == route and r["connections"] == connections:
            return r
    return None


def targets(results: list[dict]) -> list[dict[str, Any]]:
    out = []
    rec50, health50 = _find(results, "recommendations", 50), _find(results, "health", 50)
    rec10 = _find(results, "recommendations", 10)
    if rec50 is not None:
        errors = rec50["non_2xx"] + rec50["socket_errors"]
        out.append(
            {"target": "recommendations, 50 connections: zero errors", "value": errors,
             "pass": errors == 0}
        )  # fmt: skip
    if rec50 is not None and health50 is not None:
        ratio = rec50["requests_per_s"] / health50["requests_per_s"]
        out.append(
            {"target": "recommendations / health requests/s, 50 connections >= 1/3",
             "value": round(ratio, 3), "pass": ratio >= RATIO_TARGET}
        )  # fmt: skip
    if rec10 is not None:
        out.append(
            {"target": f"recommendations, 10 connections: p99 < {P99_TARGET_MS:g} ms",
             "value": round(rec10["p99_ms"], 2), "pass": rec10["p99_ms"] < P99_TARGET_MS}
        )  # fmt: skip
    return out


def markdown(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"Service load, {m['date']}: {m['cpu']} ({m['cpus']} CPUs), {m['platform']}, "
        f"Python {m['python']}, uvicorn {m['uvicorn']} ({report['workers']} worker, "
        f"{report['server']}), "
        f"load generator {report['generator']} (-t{report['threads']}, "
        f"{report['duration_s']} s per run, on the same machine).",
        f"Dataset {report['dataset']} ({report['firms']} firms), buyer {report['buyer']}, "
        f"k=10; server ready in {report['startup_s']} s (fit and precompute).",
        f"Load average before {report['load_average_before']}, "
        f"after {report['load_average_after']}.",
        "",
        "| route | connections | requests/s | p50 ms | p75 ms | p90 ms | p99 ms | requests "
        "| non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report["results"]:
        lines.append(
            f"| {r['route']} | {r['connections']} | {r['requests_per_s']:.0f} "
            f"| {r.get('p50_ms', 0):.2f} | {r.get('p75_ms', 0):.2f} | {r.get('p90_ms', 0):.2f} "
            f"| {r.get('p99_ms', 0):.2f} | {r['requests']} | {r['non_2xx']} "
            f"| {r['socket_errors']} |"
        )
    lines += ["", "| process | RSS MB | PSS MB | USS MB |", "| --- | ---: | ---: | ---: |"]
    for r in report["memory"]:
        lines.append(f"| {r['role']} {r['pid']} | {r['rss_mb']} | {r['pss_mb']} | {r['uss_mb']} |")
    lines += ["", "| target | value | result |", "| --- | ---: | --- |"]
    for t in report["targets"]:
        lines.append(f"| {t['target']} | {t['value']} | {'pass' if t['pass'] else 'FAIL'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
