"""What the columns of a file to hand out are called, and what kind of number each holds.

One vocabulary for every export (see :mod:`ketnoi.api._tables`): a table keeps its columns'
code names (``linked_rate``) from the report that made it, and the writer shows them to people
in their language. Columns ending in ``_id`` keep their code name in both languages: they are
the keys that ``ketnoi conversion --match-list/--meetings`` and people's lookups read back.
"""

from __future__ import annotations

import re

__all__ = ["SHARE_COLUMNS", "YEAR_COLUMNS", "has_header", "header", "is_key_column"]

#: Columns holding a share from 0 to 1: percentages wherever a person reads them.
SHARE_COLUMNS = frozenset(
    {
        "localisation_rate",
        "linked_rate",
        "rate_if_near_misses_gained",
        "rate_if_gained",
        "top_share",
        "local_share",
        "share_of_contracts_from_top_k",
        "contract_rate_recommended",
        "contract_rate_other",
    }
)
#: Columns holding a year, written without a thousands separator.
YEAR_COLUMNS = frozenset({"since", "year", "founded"})

#: English headers that differ from the code name (the others are shown as they are, so that
#: English files keep the names the JSON answers and the docs use).
_EN = {
    "list_of": "list of",
    "buyer_name": "buyer",
    "supplier_name": "supplier",
    "category_name": "category",
    "top_supplier_name": "top supplier",
}

_VI = {
    # names and groups
    "list_of": "danh sách của",
    "buyer_name": "bên mua",
    "supplier_name": "nhà cung cấp",
    "category_name": "nhóm sản phẩm",
    "firm_name": "doanh nghiệp",
    "counterpart_name": "đối tác",
    "country_of_origin": "quốc gia đầu tư",
    "sector": "ngành",
    "side": "bên",
    # match lists
    "tier": "cấp",
    "rank": "thứ hạng",
    "score": "điểm",
    "pinned": "ghim",
    "reasons": "lý do",
    # localisation and near misses
    "demands": "số nhu cầu",
    "demands_without_volume": "nhu cầu không có khối lượng",
    "volume": "khối lượng",
    "weighting": "cách tính",
    "qualified_local_suppliers": "nhà cung cấp trong nước đủ điều kiện",
    "linked_local_suppliers": "nhà cung cấp trong nước đã liên kết",
    "demands_covered": "nhu cầu được đáp ứng",
    "volume_covered": "khối lượng được đáp ứng",
    "localisation_rate": "tỷ lệ nội địa hoá",
    "demands_linked": "nhu cầu đã liên kết",
    "volume_linked": "khối lượng đã liên kết",
    "linked_rate": "tỷ lệ đã liên kết",
    "rate_if_near_misses_gained": "tỷ lệ nếu nhà cung cấp gần đạt bổ sung đủ",
    "gap_demands": "nhu cầu chưa có nhà cung cấp",
    "gap": "khoảng trống",
    "lacking_kind": "loại còn thiếu",
    "lacking": "còn thiếu",
    "suppliers": "số nhà cung cấp",
    "supplier_ids": "mã nhà cung cấp",
    "demands_newly_covered": "nhu cầu mới được đáp ứng",
    "rate_if_gained": "tỷ lệ nếu bổ sung đủ",
    "demand_covered": "nhu cầu đã được đáp ứng",
    # concentration
    "links": "số liên kết",
    "buyers": "số bên mua",
    "hhi": "chỉ số HHI",
    "top_supplier_name": "nhà cung cấp lớn nhất",
    "top_share": "thị phần của nhà cung cấp lớn nhất",
    "local_share": "thị phần trong nước",
    "single_sourced_buyers": "bên mua chỉ có một nguồn",
    "supplier_local": "nhà cung cấp trong nước",
    "since": "từ năm",
    "sole_source_pairs": "số cặp chỉ có một nguồn",
    "categories": "số nhóm sản phẩm",
    "active_links": "liên kết đang hoạt động",
    # indicators
    "year": "năm",
    "indicator": "chỉ tiêu",
    "basis": "cơ sở",
    "value": "giá trị",
    "target": "mục tiêu",
    "on_track": "đúng tiến độ",
    # conversion
    "start": "ngày bắt đầu",
    "pairs": "số cặp",
    "contacted": "đã liên hệ",
    "met": "đã gặp",
    "negotiating": "đang đàm phán",
    "contracted": "đã ký hợp đồng",
    "declined": "đã từ chối",
    "ranked": "được xếp hạng",
    "recommended": "được gợi ý",
    "recommended_met": "được gợi ý, đã gặp",
    "recommended_negotiating": "được gợi ý, đang đàm phán",
    "recommended_contracted": "được gợi ý, đã ký hợp đồng",
    "contracts_from_top_k": "hợp đồng từ top k",
    "share_of_contracts_from_top_k": "tỷ lệ hợp đồng từ top k",
    "contract_rate_recommended": "tỷ lệ ký hợp đồng khi được gợi ý",
    "contract_rate_other": "tỷ lệ ký hợp đồng khi không được gợi ý",
    "scheduled": "đã xếp lịch gặp",
    "scheduled_met": "đã xếp lịch, đã gặp",
    "scheduled_contracted": "đã xếp lịch, đã ký hợp đồng",
    # events
    "slot": "lượt",
    "slot_label": "giờ",
    "table": "bàn",
    "language": "ngôn ngữ",
    "interpreter": "phiên dịch",
    "locked": "đã chốt",
    # the "about" sheet
    "about": "",
    "about_value": "giá trị",
}
_EN_ABOUT = {"about": "", "about_value": "value"}
_TABLE_N = re.compile(r"table (\d+)")


def is_key_column(column: str) -> bool:
    """Whether ``column`` holds ids that files are joined on (its header never changes)."""
    return column.endswith("_id")


def header(column: str, lang: str) -> str:
    """The header people read for ``column`` in ``lang`` (``en`` or ``vi``).

    Examples
    --------
    >>> header("linked_rate", "vi"), header("linked_rate", "en"), header("buyer_id", "vi")
    ('tỷ lệ đã liên kết', 'linked_rate', 'buyer_id')
    >>> header("table 3", "vi")
    'bàn 3'
    """
    if is_key_column(column):
        return column
    if lang == "vi":
        grid = _TABLE_N.fullmatch(column)
        if grid:
            return f"bàn {grid.group(1)}"
        return _VI.get(column, column)
    return _EN.get(column, _EN_ABOUT.get(column, column))


def has_header(column: str, lang: str) -> bool:
    """Whether ``column`` has a header of its own in ``lang`` (a test keeps every export's
    columns covered in Vietnamese)."""
    return is_key_column(column) or header(column, lang) != column or lang == "en"
