"""Jobs: long work (backtests, retrains, large imports and match lists) tracked in a table.

A job row says what is being done (``kind``, ``params``), for whom (``owner_*``: the key that
asked), by which process (``worker``: host, process id and a token of that process's start),
how far it got (``step``, ``done`` of ``total``), when that process last said it was alive
(``heartbeat_at``), and how it ended (``result`` or ``error``).

States: ``queued`` -> ``running`` -> ``finished`` or ``failed``. A process that dies leaves
its jobs unfinished: :func:`fail_stale_jobs` marks failed those whose worker has stopped
beating (another live worker's jobs are never touched), at start-up and whenever a job is read.

Job rows are bookkeeping that no cache of the service reads: their writes are not counted in
the write generation (:func:`~._engine.write_generation`), so a heartbeat retires no cached
answer. What a job writes as its work (a load, a match list) is counted as any write is.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Engine, String, Text, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ketnoi.api.storage._engine import transaction
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._models import Base, utcnow

__all__ = [
    "JOB_STATES",
    "STALE_AFTER",
    "Job",
    "JobRow",
    "create_job",
    "fail_stale_jobs",
    "finish_job",
    "get_job",
    "job_progress",
    "list_jobs",
    "running_job",
    "worker_name",
    "worker_alive",
]

#: Every state a job can be in; the last two are final.
JOB_STATES = ("queued", "running", "finished", "failed")
#: A job whose worker has not beaten for this long (seconds) is taken for dead.
STALE_AFTER = 120.0
_UNFINISHED = ("queued", "running")

#: This process, as a worker: host, process id, and a token of this start (a pid is reused).
_WORKER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def worker_name() -> str:
    """This process's name in the ``worker`` column."""
    # Forked workers (uvicorn --workers) inherit the parent's module state: check the pid.
    global _WORKER
    if _WORKER.split(":")[1] != str(os.getpid()):
        _WORKER = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    return _WORKER


def worker_alive(worker: str) -> bool | None:
    """Whether the process named ``worker`` runs: True or False on this host, None elsewhere
    (then only its heartbeat can tell)."""
    host, _, rest = worker.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return None
    if worker == worker_name():
        return True
    if int(pid_text) == os.getpid():  # an earlier start of this process id (a container's 1)
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


class Job(Base):
    """One piece of long work and how far it got."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), index=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedup_key: Mapped[str] = mapped_column(String, default="", index=True)
    owner: Mapped[str] = mapped_column(String, default="")
    owner_key_id: Mapped[int | None] = mapped_column(default=None)
    owner_role: Mapped[str] = mapped_column(String(16), default="")
    owner_firm_id: Mapped[str | None] = mapped_column(String, default=None)
    worker: Mapped[str] = mapped_column(String, default="")
    step: Mapped[str] = mapped_column(String, default="")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    result_url: Mapped[str] = mapped_column(String, default="")
    error: Mapped[str] = mapped_column(Text, default="")


@dataclass(frozen=True)
class JobRow:
    """A job as read back (a plain value: no session attached)."""

    id: str
    kind: str
    state: str
    params: dict[str, Any]
    owner: str
    owner_key_id: int | None
    owner_role: str
    owner_firm_id: str | None
    worker: str
    step: str
    done: int
    total: int | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime
    result: dict[str, Any] | None
    result_url: str
    error: str

    @classmethod
    def of(cls, job: Job) -> JobRow:
        return cls(**{name: getattr(job, name) for name in cls.__dataclass_fields__})


def _owner(actor: KeyInfo | str) -> dict[str, Any]:
    if isinstance(actor, KeyInfo):
        return {
            "owner": f"key:{actor.id}",
            "owner_key_id": actor.id,
            "owner_role": actor.role,
            "owner_firm_id": actor.firm_id,
        }
    return {"owner": actor, "owner_key_id": None, "owner_role": "", "owner_firm_id": None}


def create_job(
    engine: Engine,
    kind: str,
    actor: KeyInfo | str,
    params: dict[str, Any] | None = None,
    *,
    dedup_key: str = "",
) -> tuple[JobRow, bool]:
    """A new queued job run by this process, or the unfinished one with the same
    ``dedup_key`` (any worker's); returns it and whether it is new."""

    def work(session: Session) -> tuple[JobRow, bool]:
        if dedup_key:
            same = session.scalars(
                select(Job)
                .where(Job.dedup_key == dedup_key, Job.state.in_(_UNFINISHED))
                .order_by(Job.created_at.desc())
                .limit(1)
            ).first()
            if same is not None:
                return JobRow.of(same), False
        job = Job(
            id=secrets.token_hex(16),
            kind=kind,
            state="queued",
            params=params or {},
            dedup_key=dedup_key,
            worker=worker_name(),
            heartbeat_at=utcnow(),
            created_at=utcnow(),
            **_owner(actor),
        )
        session.add(job)
        session.flush()
        return JobRow.of(job), True

    return transaction(engine, work, counted=False)


def get_job(engine: Engine, job_id: str) -> JobRow | None:
    """The job ``job_id``, or None."""
    with Session(engine) as session:
        job = session.get(Job, job_id)
        return None if job is None else JobRow.of(job)


def running_job(engine: Engine, kind: str) -> JobRow | None:
    """The newest unfinished job of ``kind``, or None."""
    with Session(engine) as session:
        job = session.scalars(
            select(Job)
            .where(Job.kind == kind, Job.state.in_(_UNFINISHED))
            .order_by(Job.created_at.desc())
            .limit(1)
        ).first()
        return None if job is None else JobRow.of(job)


def list_jobs(
    engine: Engine, page: int, page_size: int, *, firm_id: str | None = None
) -> tuple[list[JobRow], int]:
    """Jobs newest first (only those a firm's keys asked for, with ``firm_id``), and the total."""
    query = select(Job)
    if firm_id is not None:
        query = query.where(Job.owner_firm_id == firm_id)
    with Session(engine) as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(Job.created_at.desc(), Job.id)
            .offset((page - 1) * page_size)
            .limit(page_size)
        ).all()
        return [JobRow.of(job) for job in rows], int(total)


def job_progress(
    engine: Engine,
    job_ids: list[str],
    *,
    progress: dict[str, tuple[str, int, int | None]] | None = None,
    wait: float = 5.0,
) -> None:
    """The heartbeat of this worker's unfinished jobs ``job_ids``, with their progress
    (``step``, ``done``, ``total``) where given; a started job is marked running.

    Waits at most ``wait`` seconds for the database (a long import holds SQLite's write lock):
    a beat missed is made up by the next one.
    """
    if not job_ids:
        return
    now = utcnow()
    progress = progress or {}

    def work(session: Session) -> None:
        session.execute(
            update(Job)
            .where(Job.id.in_(job_ids), Job.state.in_(_UNFINISHED))
            .values(heartbeat_at=now)
        )
        for job_id, (step, done, total) in progress.items():
            session.execute(
                update(Job)
                .where(Job.id == job_id, Job.state.in_(_UNFINISHED))
                .values(state="running", step=step, done=done, total=total)
            )
            session.execute(
                update(Job).where(Job.id == job_id, Job.started_at.is_(None)).values(started_at=now)
            )

    transaction(engine, work, wait=wait, counted=False)


def finish_job(
    engine: Engine,
    job_id: str,
    *,
    result: dict[str, Any] | None = None,
    result_url: str = "",
    error: str = "",
    progress: tuple[str, int, int | None] | None = None,
) -> None:
    """Record how a job ended: ``finished`` with its result, or ``failed`` with ``error``
    (and the last ``(step, done, total)`` it reported)."""
    now = utcnow()
    values: dict[str, Any] = {
        "state": "failed" if error else "finished",
        "finished_at": now,
        "heartbeat_at": now,
        "result": result,
        "result_url": result_url,
        "error": error,
    }
    if progress is not None:
        values.update(step=progress[0], done=progress[1], total=progress[2])

    def work(session: Session) -> None:
        session.execute(update(Job).where(Job.id == job_id).values(**values))
        session.execute(
            update(Job).where(Job.id == job_id, Job.started_at.is_(None)).values(started_at=now)
        )

    transaction(engine, work, counted=False)


def fail_stale_jobs(
    engine: Engine,
    *,
    stale_after: float = STALE_AFTER,
    workers: tuple[str, ...] = (),
    only: tuple[str, ...] | None = None,
    reason: str = "",
) -> list[str]:
    """Mark failed the unfinished jobs whose worker is gone; returns their ids.

    A worker is gone when it is a process of this host that no longer runs (or one of
    ``workers``, this process's own at shutdown), or, on another host, when it has not beaten
    for ``stale_after`` seconds. Jobs of a live worker are never touched, however old. With
    ``only``, just those jobs are looked at.
    """
    cutoff = utcnow() - dt.timedelta(seconds=stale_after)
    query = select(Job.id, Job.worker, Job.heartbeat_at).where(Job.state.in_(_UNFINISHED))
    if only is not None:
        query = query.where(Job.id.in_(only))
    with Session(engine) as session:
        candidates = session.execute(query).all()
    gone = []
    for job_id, worker, beat in candidates:
        alive = worker_alive(worker)
        if worker in workers or alive is False or (alive is None and beat < cutoff):
            gone.append(job_id)
    if not gone:
        return []
    message = reason or "the process running this job stopped before it ended; start it again"
    now = utcnow()

    def work(session: Session) -> None:
        session.execute(
            update(Job)
            .where(Job.id.in_(gone), Job.state.in_(_UNFINISHED))
            .values(state="failed", error=message, finished_at=now)
        )

    transaction(engine, work, counted=False)
    return gone
