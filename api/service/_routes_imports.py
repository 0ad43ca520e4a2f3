"""Imports over HTTP: a zip of contract CSV files or an XLSX workbook, loaded all or nothing.

``POST /v1/imports`` (staff) takes the file as ``multipart/form-data`` (field ``file``) or as
the raw request body (``Content-Type: application/zip`` or the XLSX type). The upload is
bounded (:data:`MAX_UPLOAD_BYTES`, else 413), unpacked safely into a temporary folder (no
``..``, no absolute paths, no symbolic links, at most one folder deep, bounded unpacked size),
validated exactly as ``ketnoi validate`` does (422 with every problem, in the same JSON as
``ketnoi validate --json``), and loaded with :func:`api.storage.load_into` in one transaction:
a refused or failed import leaves the database as it was. The load is in the audit log. The
served model learns the new data when staff retrain it.

The multipart body is read with the standard library's MIME parser, so the service needs no
extra dependency for uploads.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable
from email import policy
from email.parser import BytesParser
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import Engine

from ketnoi import graph
from ketnoi.api.service._deps import EngineDep, SettingsDep, StaffKey
from ketnoi.api.service._jobs import JobFailed, JobResult, Progress, RunnerDep, accepted
from ketnoi.api.service._routes_jobs import ACCEPTED
from ketnoi.api.service._schemas import UNPROCESSABLE, Error
from ketnoi.api.service._schemas_service import ImportRefused, ImportResult
from ketnoi.api.storage import KeyInfo, load_into

__all__ = [
    "MAX_UNPACKED_BYTES",
    "MAX_UPLOAD_BYTES",
    "Refused",
    "clean_stale_uploads",
    "problem_json",
    "read_upload",
    "refusal",
    "router",
    "unpack_upload",
    "upload_folder",
]

log = logging.getLogger("ketnoi.service")

router = APIRouter(prefix="/v1", tags=["imports"])

#: The largest upload accepted (the file itself), in bytes: 20 MiB.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: The most a zip may unpack to, in bytes (a zip bomb is refused before it is unpacked).
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
#: The most files a zip may hold.
MAX_MEMBERS = 1000
#: Room for the multipart envelope around the file.
_ENVELOPE = 64 * 1024

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_RAW_TYPES = {
    "application/zip",
    "application/x-zip-compressed",
    "application/octet-stream",
    XLSX,
}
_S_IFMT, _S_IFLNK = 0o170000, 0o120000
#: Uploads are unpacked in ``<temp>/ketnoi-import-<pid>-<random>`` (the process that owns it).
_UPLOAD_PREFIX = "ketnoi-import-"
#: An upload folder older than this is stale whoever made it (a day, in seconds).
_STALE_AFTER = 24 * 3600
#: What reading a damaged zip member raises: a bad CRC, broken deflate data, a cut stream.
_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)
_TOO_LARGE = 413  # Content Too Large


class Refused(Exception):
    """The upload cannot be loaded; ``problems`` says why (answered 422)."""

    def __init__(self, detail: str, problems: list[graph.Problem]):
        super().__init__(detail)
        self.detail = detail
        self.problems = problems


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB"


def _too_large(what: str, limit: int) -> HTTPException:
    return HTTPException(
        _TOO_LARGE,
        f"{what} is larger than {_megabytes(limit)} ({limit} bytes): split the dataset and"
        " import it in parts (re-loading updates rows by key)",
    )


# -- the request body -----------------------------------------------------------------------------
async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is longer than ``limit``."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise _too_large("the upload", limit - _ENVELOPE)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large("the upload", limit - _ENVELOPE)
        chunks.append(chunk)
    return b"".join(chunks)


def _safe_name(name: str, default: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .")[:100]
    return base or default


def _upload(body: bytes, content_type: str, filename: str | None) -> tuple[bytes, str]:
    """The uploaded file and its name, from a multipart or a raw body."""
    kind = content_type.split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
        message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
        if message.is_multipart():
            for part in message.iter_parts():
                name = part.get_param("name", header="content-disposition")
                if name == "file" or (name is None and part.get_filename()):
                    payload = part.get_payload(decode=True)
                    data = payload if isinstance(payload, bytes) else b""
                    return data, _safe_name(str(part.get_filename() or ""), "upload")
        raise HTTPException(UNPROCESSABLE, "the multipart body has no 'file' field")
    if kind in _RAW_TYPES:
        return body, _safe_name(filename or "", "upload")
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        "send the file as multipart/form-data (field 'file') or as the body with"
        f" Content-Type application/zip or {XLSX}",
    )


async def read_upload(request: Request, filename: str | None) -> tuple[bytes, str]:
    """The uploaded file and its name: multipart (field ``file``) or the raw body, bounded by
    :data:`MAX_UPLOAD_BYTES` (413 past it), as an import reads it."""
    body = await _read_body(request, MAX_UPLOAD_BYTES + _ENVELOPE)
    data, label = _upload(body, request.headers.get("content-type", ""), filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large("the upload", MAX_UPLOAD_BYTES)
    return data, label


# -- unpacking ------------------------------------------------------------------------------------
def _unsafe(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member may not be unpacked, or None."""
    name = info.filename.replace("\\", "/")
    parts = [p for p in name.split("/") if p]
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in parts:
        return "a path out of the zip ('..')"
    if (info.external_attr >> 16) & _S_IFMT == _S_IFLNK:
        return "a symbolic link"
    if info.flag_bits & 0x1:
        return "encrypted"
    if _skipped(info.filename):  # never unpacked, so any depth will do
        return None
    if len(parts) > 2 or (info.is_dir() and len(parts) > 1):
        return "more than one folder deep (put the CSV files at the top or in one folder)"
    return None


def _skipped(name: str) -> bool:
    parts = name.replace("\\", "/").split("/")
    return parts[0] == "__MACOSX" or parts[-1].startswith(".") or parts[-1] == ""


def _wanted(name: str) -> bool:
    return name.lower().endswith((".csv", ".xlsx"))


def _check_sizes(archive: zipfile.ZipFile, label: str) -> None:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise Refused(
            "the zip holds too many files",
            [
                graph.Problem(
                    label, None, None, f"holds {len(infos)} files, more than {MAX_MEMBERS}"
                )
            ],
        )
    if sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
        raise _too_large("the unpacked upload", MAX_UNPACKED_BYTES)


def _damaged(label: str, info: zipfile.ZipInfo, exc: BaseException) -> Refused:
    reason = str(exc) or type(exc).__name__
    return Refused(
        f"'{info.filename}' in {label} is damaged",
        [
            graph.Problem(
                label,
                None,
                None,
                f"'{info.filename}' is damaged ({reason}); make the file again and re-send it",
            )
        ],
    )


def _copy(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path | None, budget: int, label: str
) -> int:
    """Unpack one member (or only check it, where ``target`` is None), counting the bytes
    really read (a zip can lie about sizes); a damaged member is refused by name."""
    written = 0
    with contextlib.ExitStack() as stack:
        sink = stack.enter_context(target.open("wb")) if target is not None else None
        try:
            source = stack.enter_context(archive.open(info))
            while chunk := source.read(1 << 16):
                written += len(chunk)
                if written > budget:
                    raise _too_large("the unpacked upload", MAX_UNPACKED_BYTES)
                if sink is not None:
                    sink.write(chunk)
        except _DAMAGED as exc:
            raise _damaged(label, info, exc) from None
    return written


def _unpack(data: bytes, label: str, folder: Path) -> Path:
    """Write the upload into ``folder``; returns the dataset source to validate."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise Refused(
            "the upload is neither a zip file nor an .xlsx workbook",
            [graph.Problem(label, None, None, "expected a zip of CSV files or an .xlsx workbook")],
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _DAMAGED as exc:
        raise Refused(
            "the upload is a damaged zip file",
            [graph.Problem(label, None, None, f"a damaged zip file ({exc})")],
        ) from None
    with archive:
        _check_sizes(archive, label)
        names = set(archive.namelist())
        if "xl/workbook.xml" in names:  # an XLSX workbook is a zip too
            # Every part is checked whole first (bounded by the sizes above): openpyxl reads
            # them lazily and would fail midway on a bad CRC with no word of which part.
            budget = MAX_UNPACKED_BYTES
            for info in archive.infolist():
                budget -= _copy(archive, info, None, budget, label)
            stem = label[:-5] if label.lower().endswith(".xlsx") else label
            workbook = folder / f"{stem}.xlsx"
            workbook.write_bytes(data)
            return workbook
        problems, members = [], []
        for info in archive.infolist():
            reason = _unsafe(info)
            if reason is not None:
                problems.append(graph.Problem(label, None, None, f"'{info.filename}': {reason}"))
            elif not info.is_dir() and not _skipped(info.filename) and _wanted(info.filename):
                members.append(info)
        if problems:
            raise Refused("the zip holds paths that cannot be unpacked safely", problems)
        folders = {
            tuple(m.filename.replace("\\", "/").split("/")[:-1]) for m in members
        }  # () for the top
        if not members:
            raise Refused(
                "the zip holds no CSV files",
                [graph.Problem(label, None, None, "no .csv or .xlsx file in the zip")],
            )
        if len(folders) > 1:
            shown = ", ".join(sorted("/".join(f) or "(top)" for f in folders))
            raise Refused(
                "the zip holds files in more than one folder",
                [graph.Problem(label, None, None, f"files in more than one folder: {shown}")],
            )
        budget = MAX_UNPACKED_BYTES
        for info in members:
            target = folder / PurePosixPath(info.filename.replace("\\", "/")).name
            budget -= _copy(archive, info, target, budget, label)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def clean_stale_uploads(folder: Path | None = None, *, now: float | None = None) -> list[Path]:
    """Remove upload folders that a killed import left behind; returns those removed.

    An import unpacks the upload (confidential demands included) into a folder of its own and
    removes it when done, but a process killed midway cannot. At start-up, a folder is stale
    when the process named in it is gone (several workers share the temporary folder, so a
    live one's import is never touched), or when it is older than a day whoever made it.

    Parameters
    ----------
    folder : Path, optional
        Where uploads are unpacked; default the system's temporary folder.
    now : float, optional
        The time to compare ages against (``time.time()``).
    """
    base = Path(folder) if folder is not None else Path(tempfile.gettempdir())
    now = time.time() if now is None else now
    removed = []
    for path in base.glob(f"{_UPLOAD_PREFIX}*"):
        pid_text = path.name[len(_UPLOAD_PREFIX) :].split("-", 1)[0]
        try:
            if not path.is_dir() or path.is_symlink() or path.stat().st_uid != os.getuid():
                continue
            old = now - path.stat().st_mtime > _STALE_AFTER
        except OSError:
            continue
        pid = int(pid_text) if pid_text.isdigit() else None
        if old or pid is None or (pid != os.getpid() and not _alive(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    if removed:
        log.warning("removed %d upload folder(s) left by killed imports", len(removed))
    return removed


def upload_folder() -> Path:
    """A new folder for an upload, 0700 (it may hold confidential data), named so that
    :func:`clean_stale_uploads` finds it if the process is killed before removing it."""
    return Path(tempfile.mkdtemp(prefix=f"{_UPLOAD_PREFIX}{os.getpid()}-"))


def unpack_upload(data: bytes, label: str, folder: Path) -> Path:
    """Check an upload whole (sizes, damaged parts, unsafe paths) and write it into ``folder``:
    the workbook's path, or the folder of a zip's CSV files; :class:`Refused` otherwise."""
    return _unpack(data, label, folder)


# -- the import -----------------------------------------------------------------------------------
def _problem_json(problem: graph.Problem) -> dict[str, Any]:
    # The same fields as ``ketnoi validate --json``.
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "reason": problem.reason,
        "severity": problem.severity,
    }


def _refusal(detail: str, problems: list[graph.Problem]) -> JSONResponse:
    body = {"detail": detail, "ok": False, "problems": [_problem_json(p) for p in problems]}
    return JSONResponse(body, status_code=UNPROCESSABLE)


def refusal(detail: str, problems: list[graph.Problem]) -> JSONResponse:
    """The 422 answer of an upload that was not loaded, with every problem."""
    return _refusal(detail, problems)


def problem_json(problem: graph.Problem) -> dict[str, Any]:
    """A problem as ``ketnoi validate --json`` writes it."""
    return _problem_json(problem)


#: The steps of an import, in order (a job's ``step``).
IMPORT_STEPS = ("unpacking the upload", "validating the dataset", "loading it")


def import_upload(
    engine: Engine,
    data: bytes,
    label: str,
    *,
    replace: bool,
    actor: KeyInfo | str,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any] | JSONResponse:
    """Unpack, validate and load an upload; the 422 answer where it cannot be loaded.

    ``progress`` is told each step's name (:data:`IMPORT_STEPS`) as it starts.
    """
    step = progress or (lambda name: None)
    # mkdtemp makes the folder 0700: the upload may hold confidential demands.
    folder = Path(tempfile.mkdtemp(prefix=f"{_UPLOAD_PREFIX}{os.getpid()}-"))
    try:
        step(IMPORT_STEPS[0])
        try:
            source = _unpack(data, label, folder)
        except Refused as exc:
            return _refusal(f"{exc.detail}; nothing was loaded", exc.problems)
        step(IMPORT_STEPS[1])
        report = graph.validate_dataset(source)
        if report.dataset is None:
            n = len(report.errors)
            return _refusal(f"{n} problem(s) in {label}; nothing was loaded", list(report.problems))
        dataset = dataclasses.replace(report.dataset, source=f"upload:{label}")
        step(IMPORT_STEPS[2])
        try:
            counts = load_into(engine, dataset, replace=replace, actor=actor)
        except graph.DatasetError as exc:
            return _refusal(
                "the database with this dataset merged in would not be valid; nothing was loaded"
                + ("" if replace else " (replace=true drops the rows the dataset lacks)"),
                list(exc.problems),
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "source": label,
        "replace": replace,
        "fingerprint": dataset.fingerprint(),
        "counts": counts,
        "warnings": [_problem_json(p) for p in report.warnings],
    }


def _import_job(
    engine: Engine, data: bytes, label: str, replace: bool, key: KeyInfo
) -> Callable[[Progress], JobResult]:
    def work(progress: Progress) -> JobResult:
        step = progress.step
        done = import_upload(engine, data, label, replace=replace, actor=key, progress=step)
        if isinstance(done, JSONResponse):  # refused: the job fails with the 422's problems
            body = json.loads(bytes(done.body))
            raise JobFailed(str(body["detail"]), body)
        return JobResult(body=done)

    return work


@router.post(
    "/imports",
    response_model=ImportResult,
    responses={
        **ACCEPTED,
        401: {"model": Error},
        403: {"model": Error},
        413: {"model": Error},
        415: {"model": Error},
        422: {"model": ImportRefused},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
    summary="Import a dataset (zip of CSV files or XLSX workbook)",
)
async def import_dataset(
    request: Request,
    key: StaffKey,
    engine: EngineDep,
    settings: SettingsDep,
    runner: RunnerDep,
    replace: Annotated[
        bool, Query(description="Soft-delete rows the dataset lacks (outcomes are kept).")
    ] = False,
    filename: Annotated[
        str | None, Query(max_length=200, description="The file's name, for a raw body.")
    ] = None,
) -> Any:
    """Validate an uploaded dataset and load it in one transaction (staff).

    A zip of contract CSV files (at the top or in one folder) or an XLSX workbook with a sheet
    per file, at most 20 MB. Every problem is reported at once (422, as ``ketnoi validate
    --json``); nothing is loaded unless everything is. Answers the rows inserted, updated,
    unchanged and deleted per file.

    An upload larger than ``KETNOI_IMPORT_JOB_BYTES`` (1 MiB) is imported as a job: ``202``
    with ``Location: /v1/jobs/{id}``; its result (or its problems, 422) at the job's
    ``result_url`` once it ends.
    """
    body = await _read_body(request, MAX_UPLOAD_BYTES + _ENVELOPE)
    data, label = _upload(body, request.headers.get("content-type", ""), filename)
    if len(data) > MAX_UPLOAD_BYTES:
        raise _too_large("the upload", MAX_UPLOAD_BYTES)
    if len(data) > settings.import_job_bytes:
        params = {"source": label, "replace": replace, "bytes": len(data)}
        work = _import_job(engine, data, label, replace, key)
        job = await run_in_threadpool(
            runner.submit, "import", key, work, params=params, step=IMPORT_STEPS[0]
        )
        return accepted(job, runner)
    return await run_in_threadpool(import_upload, engine, data, label, replace=replace, actor=key)
