"""The service's settings, read from ``KETNOI_*`` environment variables."""

from __future__ import annotations

from ketnoi.api.storage import StorageSettings

__all__ = ["ServiceSettings"]


class ServiceSettings(StorageSettings):
    """Settings of the HTTP service: the storage settings and the service's own.

    One family: ``KETNOI_DATA_DIR``, ``KETNOI_DATABASE_URL`` and ``KETNOI_SECRET`` are read by
    :class:`ketnoi.api.storage.StorageSettings`, which this extends, so the service and the
    storage layer can never read them differently.

    Attributes
    ----------
    data_dir, database_url, secret
        Inherited: see :class:`~ketnoi.api.storage.StorageSettings`.
    precompute : bool
        ``KETNOI_PRECOMPUTE``: rank every active buyer once after fitting, so that requests
        answer from memory.
    evaluate : bool
        ``KETNOI_EVALUATE``: after each fit, hold out links, refit and measure the model against
        two baselines (``ketnoi evaluate`` with one seed); the figures show on ``/v1/model``.
    import_job_bytes : int
        ``KETNOI_IMPORT_JOB_BYTES``: an upload larger than this is imported as a job (``202``);
        a smaller one within the request.
    match_list_job_firms : int
        ``KETNOI_MATCH_LIST_JOB_FIRMS``: a match list for more firms than this (or for every
        buyer) is made as a job (``202``); a smaller one within the request.
    event_job_participants : int
        ``KETNOI_EVENT_JOB_PARTICIPANTS``: the workbench schedules an event with more
        participants than this as a job (its page shows the job's progress).
    """

    precompute: bool = True
    evaluate: bool = True
    import_job_bytes: int = 1024 * 1024
    match_list_job_firms: int = 50
    event_job_participants: int = 40
