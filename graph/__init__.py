"""ketnoi.graph: the data contract, loading and validation, and the supply graph.

This package depends on neither :mod:`matcher` nor :mod:`api`.
"""

from ketnoi.graph._analysis import (
    HUB_MEASURES,
    communities,
    community_summary,
    degree_table,
    firm_counts,
    hubs,
    unlinked_firms,
)
from ketnoi.graph._build import (
    EDGE_KINDS,
    NODE_KINDS,
    build_supply_graph,
    category_node,
    edges_of_kind,
    link_graph,
    nodes_of_kind,
    park_node,
)
from ketnoi.graph._category_choices import (
    category_choices,
    load_category_choices,
    save_category_choices,
)
from ketnoi.graph._contract import (
    BUYER_ROLES,
    CONTRACT,
    FILE_ORDER,
    INTERNATIONAL_CERTIFICATIONS,
    LOCAL_OWNERSHIPS,
    SUPPLIER_ROLES,
    Column,
    FileSpec,
)
from ketnoi.graph._dataset import Dataset, ValidationReport, load_dataset, validate_dataset
from ketnoi.graph._export import EXPORT_FORMATS, export_graph
from ketnoi.graph._intake import (
    FIELD_SYNONYMS,
    ColumnChoice,
    IntakeResult,
    SheetMapping,
    SourceRecord,
    load_mappings,
    parse_vn_number,
    propose_mapping,
    read_intake,
    save_mappings,
)
from ketnoi.graph._link_prediction import (
    l3_paths,
    similar_buyers_adamic_adar,
    similar_suppliers_adamic_adar,
    split_bipartite,
)
from ketnoi.graph._network_html import network_html, write_network_html
from ketnoi.graph._normalise import fold, nfc, normalise_certification, split_list
from ketnoi.graph._plot import (
    plot_degree_distribution,
    plot_firm_counts,
    plot_firm_map,
    plot_hubs,
    plot_tiers,
    tier_layout,
)
from ketnoi.graph._problems import DatasetError, Problem
from ketnoi.graph._products import (
    CategorySuggester,
    RecordSuggestions,
    Suggestion,
    suggest_categories,
    suggest_hs,
    suggest_record_categories,
)
from ketnoi.graph._resolve_blocking import candidate_pairs, firm_keys
from ketnoi.graph._resolve_compare import COMPARISONS as RESOLUTION_COMPARISONS
from ketnoi.graph._resolve_names import FirmKey, normalise_firm
from ketnoi.graph._resolve_scoring import FirmResolver, decide, name_only_pairs
from ketnoi.graph._stats import graph_summary
from ketnoi.graph._taxcode import TaxCode, parse_tax_code, valid_tax_code
from ketnoi.graph._taxonomy import category_ancestors
from ketnoi.graph._tiers import fdi_buyer_ids, firm_tiers, tier_edges, tier_graph, tiers_upstream

__all__ = [
    "BUYER_ROLES",
    "CONTRACT",
    "CategorySuggester",
    "Column",
    "ColumnChoice",
    "Dataset",
    "DatasetError",
    "EDGE_KINDS",
    "EXPORT_FORMATS",
    "FIELD_SYNONYMS",
    "FILE_ORDER",
    "FileSpec",
    "FirmKey",
    "FirmResolver",
    "HUB_MEASURES",
    "INTERNATIONAL_CERTIFICATIONS",
    "IntakeResult",
    "LOCAL_OWNERSHIPS",
    "NODE_KINDS",
    "Problem",
    "RESOLUTION_COMPARISONS",
    "RecordSuggestions",
    "SUPPLIER_ROLES",
    "SheetMapping",
    "SourceRecord",
    "Suggestion",
    "TaxCode",
    "ValidationReport",
    "build_supply_graph",
    "candidate_pairs",
    "category_ancestors",
    "category_choices",
    "category_node",
    "communities",
    "community_summary",
    "decide",
    "degree_table",
    "edges_of_kind",
    "export_graph",
    "fdi_buyer_ids",
    "firm_counts",
    "firm_keys",
    "firm_tiers",
    "fold",
    "graph_summary",
    "hubs",
    "l3_paths",
    "link_graph",
    "load_category_choices",
    "load_dataset",
    "load_mappings",
    "name_only_pairs",
    "network_html",
    "nfc",
    "nodes_of_kind",
    "normalise_certification",
    "normalise_firm",
    "park_node",
    "parse_tax_code",
    "parse_vn_number",
    "plot_degree_distribution",
    "plot_firm_counts",
    "plot_firm_map",
    "plot_hubs",
    "plot_tiers",
    "propose_mapping",
    "read_intake",
    "save_category_choices",
    "save_mappings",
    "similar_buyers_adamic_adar",
    "similar_suppliers_adamic_adar",
    "split_bipartite",
    "split_list",
    "suggest_categories",
    "suggest_hs",
    "suggest_record_categories",
    "tier_edges",
    "tier_graph",
    "tier_layout",
    "tiers_upstream",
    "unlinked_firms",
    "valid_tax_code",
    "validate_dataset",
    "write_network_html",
]
