"""ketnoi.api.storage: the database behind the service.

SQLite (a file in the data folder) by default, PostgreSQL through ``KETNOI_DATABASE_URL``; the
schema is kept by Alembic migrations shipped in this package. See :mod:`api.storage._models`
for how the contract's files are stored.

Examples
--------
>>> from ketnoi import graph
>>> from ketnoi.api.storage import dataset_from_db, load_into, make_engine, upgrade
>>> engine = make_engine("sqlite://")  # in memory; default: .ketnoi/ketnoi.db
>>> upgrade(engine)
>>> from pathlib import Path
>>> tiny = graph.load_dataset(Path(graph.__file__).parents[1] / "fixtures" / "tiny")
>>> load_into(engine, tiny)["firms"]["inserted"] == len(tiny.firms)
True
>>> dataset_from_db(engine).fingerprint() == tiny.fingerprint()
True
"""

from ketnoi.api.storage._audit import record
from ketnoi.api.storage._engine import (
    BUSY_TIMEOUT_MS,
    Settings,
    alembic_config,
    data_dir_of,
    is_locked,
    make_engine,
    transaction,
    upgrade,
    write_generation,
)
from ketnoi.api.storage._events import (
    EventRecord,
    create_event,
    get_event,
    list_events,
    scheduled_meetings,
    update_event,
)
from ketnoi.api.storage._keys import (
    KEY_PREFIX,
    KEY_ROLES,
    KeyInfo,
    create_key,
    revoke_key,
    server_secret,
    verify_key,
)
from ketnoi.api.storage._load import LoadCounts, dataset_from_db, dump, load_into, search_firms
from ketnoi.api.storage._matching import match_list_rankings, register_model, save_match_list
from ketnoi.api.storage._models import (
    ApiKey,
    AuditEntry,
    Base,
    Capability,
    Category,
    CategoryInput,
    Demand,
    Event,
    Firm,
    Link,
    MatchList,
    MatchListRow,
    ModelRecord,
    Outcome,
    Park,
)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "BUSY_TIMEOUT_MS",
    "Base",
    "Capability",
    "Category",
    "CategoryInput",
    "Demand",
    "Event",
    "EventRecord",
    "Firm",
    "KEY_PREFIX",
    "KEY_ROLES",
    "KeyInfo",
    "Link",
    "LoadCounts",
    "MatchList",
    "MatchListRow",
    "ModelRecord",
    "Outcome",
    "Park",
    "Settings",
    "alembic_config",
    "create_event",
    "create_key",
    "data_dir_of",
    "dataset_from_db",
    "dump",
    "get_event",
    "is_locked",
    "list_events",
    "load_into",
    "make_engine",
    "match_list_rankings",
    "record",
    "register_model",
    "revoke_key",
    "save_match_list",
    "scheduled_meetings",
    "search_firms",
    "server_secret",
    "transaction",
    "update_event",
    "upgrade",
    "verify_key",
    "write_generation",
]
