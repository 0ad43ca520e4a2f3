"""ketnoi.graph: the data contract, loading and validation, and the supply graph.

This package depends on neither :mod:`matcher` nor :mod:`api`.
"""

from ._contract import (
    BUYER_ROLES,
    CONTRACT,
    FILE_ORDER,
    INTERNATIONAL_CERTIFICATIONS,
    LOCAL_OWNERSHIPS,
    SUPPLIER_ROLES,
    Column,
    FileSpec,
)
from ._dataset import Dataset, ValidationReport, load_dataset, validate_dataset
from ._normalise import fold, nfc, normalise_certification, split_list
from ._problems import DatasetError, Problem

__all__ = [
    "BUYER_ROLES",
    "CONTRACT",
    "FILE_ORDER",
    "INTERNATIONAL_CERTIFICATIONS",
    "LOCAL_OWNERSHIPS",
    "SUPPLIER_ROLES",
    "Column",
    "Dataset",
    "DatasetError",
    "FileSpec",
    "Problem",
    "ValidationReport",
    "fold",
    "load_dataset",
    "nfc",
    "normalise_certification",
    "split_list",
    "validate_dataset",
]
