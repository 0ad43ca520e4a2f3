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
>>> tiny = graph.load_dataset(Path(graph.__file__).resolve().parents[1] / "fixtures" / "tiny")
>>> load_into(engine, tiny)["firms"]["inserted"] == len(tiny.firms)
True
>>> dataset_from_db(engine).fingerprint() == tiny.fingerprint()
True
"""

from ketnoi.api.storage._audit import record
from ketnoi.api.storage._crud import (
    CAPABILITIES,
    CATEGORIES,
    DEMANDS,
    FIRMS,
    LINKS,
    PARKS,
    Conflict,
    Invalid,
    NotFound,
    PageOfRows,
    Table,
    all_rows,
    append_outcome,
    audit_entries,
    create_row,
    delete_row,
    get_row,
    list_rows,
    update_row,
)
from ketnoi.api.storage._engine import (
    BUSY_TIMEOUT_MS,
    Busy,
    StorageSettings,
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
from ketnoi.api.storage._key_info import KeyInfo
from ketnoi.api.storage._keys import (
    KEY_PREFIX,
    KEY_ROLES,
    create_key,
    revoke_key,
    server_secret,
    verify_key,
)
from ketnoi.api.storage._load import LoadCounts, dataset_from_db, dump, load_into, search_firms
from ketnoi.api.storage._matching import (
    declined_pairs,
    get_match_list,
    hidden_firms,
    list_match_lists,
    match_list_rankings,
    missing_firms,
    register_model,
    save_match_list,
    update_match_list,
)
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
    utcnow,
)
from ketnoi.api.storage._queries import (
    capabilities_of,
    capability_query,
    category_names,
    category_tree,
    confidential_demands,
    demand_query,
    firm_query,
    firm_sectors,
    link_query,
    outcome_query,
)

__all__ = [
    "ApiKey",
    "AuditEntry",
    "BUSY_TIMEOUT_MS",
    "Base",
    "Busy",
    "CAPABILITIES",
    "CATEGORIES",
    "Capability",
    "Category",
    "CategoryInput",
    "Conflict",
    "DEMANDS",
    "Demand",
    "Event",
    "EventRecord",
    "FIRMS",
    "Firm",
    "Invalid",
    "KEY_PREFIX",
    "KEY_ROLES",
    "KeyInfo",
    "LINKS",
    "Link",
    "LoadCounts",
    "MatchList",
    "MatchListRow",
    "ModelRecord",
    "NotFound",
    "Outcome",
    "PARKS",
    "PageOfRows",
    "Park",
    "StorageSettings",
    "Table",
    "alembic_config",
    "all_rows",
    "append_outcome",
    "audit_entries",
    "capabilities_of",
    "capability_query",
    "category_names",
    "category_tree",
    "confidential_demands",
    "create_event",
    "create_key",
    "create_row",
    "data_dir_of",
    "dataset_from_db",
    "declined_pairs",
    "delete_row",
    "demand_query",
    "dump",
    "firm_query",
    "firm_sectors",
    "get_event",
    "get_match_list",
    "get_row",
    "hidden_firms",
    "is_locked",
    "link_query",
    "list_events",
    "list_match_lists",
    "list_rows",
    "load_into",
    "make_engine",
    "match_list_rankings",
    "missing_firms",
    "outcome_query",
    "record",
    "register_model",
    "revoke_key",
    "save_match_list",
    "scheduled_meetings",
    "search_firms",
    "server_secret",
    "transaction",
    "update_event",
    "update_match_list",
    "update_row",
    "upgrade",
    "utcnow",
    "verify_key",
    "write_generation",
]
