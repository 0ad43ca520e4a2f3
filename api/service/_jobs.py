"""Long work as jobs: the one place the service runs work off the request path.

A route whose work is long by its kind (a backtest, a retrain, a large import or match list)
hands a function to :meth:`JobRunner.submit` and answers ``202 Accepted`` with the job and
``Location: /v1/jobs/{id}`` (:func:`accepted`); the function runs on the runner's threads and
reports progress through the :class:`Progress` it is given; its :class:`JobResult` is stored,
and ``GET /v1/jobs/{id}/result`` answers it. The runner is generic: it knows nothing of what a
job does, so imports, pages and later kinds of work use it as they are.

Every job carries its owner (the key that asked) and the worker (process) running it. The
runner beats for its worker's unfinished jobs every :data:`HEARTBEAT_SECONDS`; a job whose
worker stopped is marked failed (:func:`ketnoi.api.storage.fail_stale_jobs`) at start-up and
when it is read, and the runner fails its own unfinished jobs when the service stops: after a
restart a job is finished or failed, never left running. Several workers share the table and
never fail each other's live jobs.

Progress is kept in memory as the work reports it and written with the heartbeat: a long
import holds SQLite's write lock, so writing every step would make the job wait on itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from ketnoi.api import storage
from ketnoi.api.service._access import is_reader
from ketnoi.api.storage import Busy, Conflict, Invalid, JobRow, KeyInfo, NotFound

__all__ = [
    "HEARTBEAT_SECONDS",
    "JobFailed",
    "JobResult",
    "JobRunner",
    "Progress",
    "RunnerDep",
    "accepted",
    "job_public",
    "job_visible_to",
    "visible_job",
]

log = logging.getLogger("ketnoi.service")

#: Seconds between two heartbeats of a worker's unfinished jobs.
HEARTBEAT_SECONDS = 10.0
#: Seconds the service waits, when it stops, for its running jobs to end before failing them.
SHUTDOWN_WAIT = 5.0


@dataclass(frozen=True)
class JobResult:
    """What a finished job answers: a JSON ``body``, the ``tables`` of the same result for
    ``format=csv|xlsx`` (name -> records), or the ``url`` where the result lives."""

    body: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    url: str = ""


class JobFailed(Exception):
    """The work cannot be done as asked: ``detail`` for people, ``body`` the answer the
    request would have had (an import's problems), kept as the job's result."""

    def __init__(self, detail: str, body: dict[str, Any] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.body = body


class Progress:
    """How far a job got: the step it is in and ``done`` of ``total`` units of it.

    Called as ``progress(done, total)``, it fits the ``progress=`` arguments of the library
    (``programme.backtest_rankings``, ``matcher.build_match_list``), so the service and the
    command line report the same steps of the same work.
    """

    def __init__(self, step: str = "") -> None:
        self._lock = threading.Lock()
        self._state: tuple[str, int, int | None] = (step, 0, None)

    def step(self, name: str, done: int = 0, total: int | None = None) -> None:
        """Enter the step ``name``."""
        with self._lock:
            self._state = (name, done, total)

    def __call__(self, done: int, total: int | None) -> None:
        with self._lock:
            self._state = (self._state[0], int(done), None if total is None else int(total))

    @property
    def state(self) -> tuple[str, int, int | None]:
        """``(step, done, total)``."""
        with self._lock:
            return self._state


Work = Callable[[Progress], JobResult]


def _failure(exc: BaseException) -> tuple[str, dict[str, Any] | None]:
    if isinstance(exc, JobFailed):
        return exc.detail, exc.body
    if isinstance(exc, Invalid | NotFound | Conflict | Busy):
        return str(exc.args[0]) if exc.args else str(exc), None
    # The cause goes to the log, never to the client, as a 500's does.
    return "the job failed (the error is logged); try again later", None


class JobRunner:
    """Runs jobs on a few threads and keeps their rows up to date.

    Parameters
    ----------
    engine : Engine
        The database holding the jobs table.
    threads : int
        Jobs run at once; later ones wait, ``queued``.
    heartbeat : float
        Seconds between heartbeats.
    """

    def __init__(self, engine: Engine, *, threads: int = 2, heartbeat: float = HEARTBEAT_SECONDS):
        self.engine = engine
        self.heartbeat = heartbeat
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ketnoi-job")
        self._lock = threading.Lock()
        self._live: dict[str, Progress] = {}
        self._stop = threading.Event()
        self._beater: threading.Thread | None = None

    # -- life -------------------------------------------------------------------------------------
    def start(self) -> list[str]:
        """Fail the jobs that dead workers left, and start beating; returns the failed ids."""
        failed = storage.fail_stale_jobs(self.engine)
        if failed:
            log.warning("%d job(s) left unfinished by a stopped worker marked failed", len(failed))
        self._beater = threading.Thread(target=self._beat, name="ketnoi-jobs-beat", daemon=True)
        self._beater.start()
        return failed

    def stop(self, wait: float = SHUTDOWN_WAIT) -> None:
        """Wait at most ``wait`` seconds for running jobs, then fail those still unfinished."""
        deadline = time.monotonic() + wait
        while self.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        try:
            storage.fail_stale_jobs(
                self.engine,
                workers=(storage.worker_name(),),
                reason="the service stopped before this job ended; start it again",
            )
        except Exception:  # stopping must not fail: the next start-up fails them as stale
            log.exception("could not mark this worker's unfinished jobs failed")

    def running(self) -> list[str]:
        """Ids of this worker's unfinished jobs."""
        with self._lock:
            return list(self._live)

    def progress_of(self, job_id: str) -> tuple[str, int, int | None] | None:
        """The live ``(step, done, total)`` of a job of this worker, or None."""
        with self._lock:
            live = self._live.get(job_id)
        return None if live is None else live.state

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            self.beat()

    def beat(self) -> None:
        """Write the heartbeat and progress of this worker's unfinished jobs now."""
        with self._lock:
            live = {job_id: p.state for job_id, p in self._live.items()}
        try:
            storage.job_progress(self.engine, list(live), progress=live)
        except Busy:
            pass  # a long write holds the database: the next beat makes it up
        except Exception:
            log.exception("job heartbeat failed")

    # -- work -------------------------------------------------------------------------------------
    def submit(
        self,
        kind: str,
        actor: KeyInfo | str,
        work: Work,
        *,
        params: dict[str, Any] | None = None,
        dedup_key: str = "",
        step: str = "",
    ) -> JobRow:
        """Record a job and run ``work`` on the runner's threads; returns the job.

        With ``dedup_key``, an unfinished job with the same key is returned instead of a new
        one (the same backtest asked twice runs once).
        """
        job, new = storage.create_job(self.engine, kind, actor, params, dedup_key=dedup_key)
        if new:
            with self._lock:
                self._live[job.id] = Progress(step)
            self._pool.submit(self._run, job.id, work)
        return job

    def _run(self, job_id: str, work: Work) -> None:
        with self._lock:
            progress = self._live[job_id]
        try:
            storage.job_progress(self.engine, [job_id], progress={job_id: progress.state})
            outcome = work(progress)
        except BaseException as exc:
            detail, body = _failure(exc)
            if not isinstance(exc, JobFailed | Invalid | NotFound | Conflict | Busy):
                log.error("job %s failed", job_id, exc_info=exc)
            self._end(job_id, result=body, error=detail)
        else:
            result = {"body": outcome.body, "tables": outcome.tables} if not outcome.url else None
            self._end(job_id, result=result, url=outcome.url)

    def _end(
        self, job_id: str, *, result: dict[str, Any] | None, url: str = "", error: str = ""
    ) -> None:
        with self._lock:
            live = self._live.get(job_id)
        try:
            storage.finish_job(
                self.engine,
                job_id,
                result=result,
                result_url=url,
                error=error,
                progress=None if live is None else live.state,
            )
        except Exception:
            log.exception("could not record the end of job %s", job_id)
        finally:
            with self._lock:
                self._live.pop(job_id, None)

    def wait(self, job_id: str, timeout: float = 60.0) -> JobRow | None:
        """Wait for a job of this worker to end (tests, the command line); returns its row."""
        deadline = time.monotonic() + timeout
        while self.progress_of(job_id) is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        return storage.get_job(self.engine, job_id)


def get_runner(request: Request) -> JobRunner:
    runner: JobRunner = request.app.state.jobs
    return runner


#: The service's job runner (started in ``lifespan``).
RunnerDep = Annotated[JobRunner, Depends(get_runner)]


# -- what a key sees of a job ------------------------------------------------------------------
def job_visible_to(key: KeyInfo, job: JobRow) -> bool:
    """Staff and analysts see every job; a firm key only the jobs its firm's keys asked for."""
    if is_reader(key):
        return True
    return key.firm_id is not None and job.owner_firm_id == key.firm_id


def visible_job(engine: Engine, key: KeyInfo, job_id: str) -> JobRow:
    """The job, as ``key`` may see it: 404 alike for absent and someone else's."""
    job = storage.get_job(engine, job_id)
    # A job whose worker died is failed when read, not left running until a restart.
    unfinished = job is not None and job.state in {"queued", "running"}
    if unfinished and storage.fail_stale_jobs(engine, only=(job_id,)):
        job = storage.get_job(engine, job_id)
    if job is None or not job_visible_to(key, job):
        raise NotFound(f"no job with id {job_id}")
    return job


def job_public(job: JobRow, runner: JobRunner | None = None) -> dict[str, Any]:
    """A job as the service shows it (and pages will): state, the step and how far it got
    (live from ``runner`` when this worker runs it), and where its result is."""
    step, done, total = job.step, job.done, job.total
    live = runner.progress_of(job.id) if runner is not None else None
    state = job.state
    if live is not None and state in {"queued", "running"}:
        step, done, total = live
        state = "running" if job.started_at is not None or done or step else state
    share = None
    if state == "finished":
        share = 1.0
    elif total:
        share = round(min(max(done / total, 0.0), 1.0), 4)
    result_url = None
    if state == "finished":
        result_url = job.result_url or f"/v1/jobs/{job.id}/result"
    elif state == "failed" and job.result:
        result_url = f"/v1/jobs/{job.id}/result"
    return {
        "id": job.id,
        "kind": job.kind,
        "state": state,
        "step": step,
        "done": done,
        "total": total,
        "progress": share,
        "params": job.params,
        "owner": job.owner,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "heartbeat_at": job.heartbeat_at,
        "result_url": result_url,
        "error": job.error or None,
    }


def accepted(job: JobRow, runner: JobRunner | None = None) -> JSONResponse:
    """The ``202 Accepted`` answer of a route that started (or joined) a job."""
    from fastapi.encoders import jsonable_encoder

    return JSONResponse(
        jsonable_encoder(job_public(job, runner)),
        status_code=status.HTTP_202_ACCEPTED,
        headers={"Location": f"/v1/jobs/{job.id}"},
    )
