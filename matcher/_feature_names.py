"""What each feature means, in the words of the trade, in English and Vietnamese.

:data:`ketnoi.matcher.FEATURES` says how each feature is computed, for analysts; these names
say what it tells about a pair, for the officers and firms who read an explanation, a report
or a chart ("meets the buyer's required certifications", not ``required_certs_met``). JSON keeps
the ids: programs read them.
"""

from __future__ import annotations

__all__ = ["FEATURE_NAMES", "feature_name"]

#: Feature id -> (English, Vietnamese) in plain words.
FEATURE_NAMES: dict[str, tuple[str, str]] = {
    "fit_level": (
        "makes what the buyer needs (2), or a related category (1)",
        "sản xuất đúng nhóm sản phẩm bên mua cần (2) hoặc nhóm gần (1)",
    ),
    "taxonomy_distance": (
        "how far what it makes is from what is needed (category tree)",
        "khoảng cách giữa sản phẩm làm được và sản phẩm cần (cây nhóm sản phẩm)",
    ),
    "demand_source": (
        "the need is filed (1) or inferred from what the buyer makes (0.5)",
        "nhu cầu đã đăng ký (1) hoặc suy ra từ sản phẩm bên mua làm (0,5)",
    ),
    "required_certs_met": (
        "meets the buyer's required certifications",
        "đáp ứng chứng chỉ bên mua yêu cầu",
    ),
    "required_processes_met": (
        "does the buyer's required processes",
        "làm được các công đoạn bên mua yêu cầu",
    ),
    "n_certifications": ("certifications held", "số chứng chỉ đang có"),
    "n_international_certs": (
        "international-standard certifications held",
        "số chứng chỉ theo tiêu chuẩn quốc tế",
    ),
    "distance_km": ("distance between the firms (km)", "khoảng cách giữa hai doanh nghiệp (km)"),
    "same_park": ("in the same industrial park", "cùng khu công nghiệp"),
    "capacity_ratio": (
        "capacity against the buyer's volume",
        "năng lực sản xuất so với khối lượng bên mua cần",
    ),
    "log_employees": ("size of the supplier (staff)", "quy mô nhà cung cấp (số lao động)"),
    "supplier_age": ("years in business", "số năm hoạt động"),
    "text_similarity": (
        "its description matches what is needed",
        "mô tả doanh nghiệp khớp với sản phẩm cần",
    ),
    "supplier_popularity": ("buyers it already supplies", "số bên mua đang được cung cấp"),
    "buyer_activity": ("suppliers the buyer already has", "số nhà cung cấp bên mua đang có"),
    "l3_paths": (
        "links through shared partners in the network",
        "liên kết qua các đối tác chung trong mạng lưới",
    ),
    "l3_normalised": (
        "links through shared partners, weighted by how rare",
        "liên kết qua đối tác chung, có trọng số theo độ hiếm",
    ),
    "similar_buyers_aa": (
        "supplies buyers that source like this one",
        "đang cung cấp cho các bên mua có cách mua tương tự",
    ),
    "similar_suppliers_aa": (
        "resembles the buyer's current suppliers",
        "giống các nhà cung cấp hiện có của bên mua",
    ),
    "l3_share": (
        "share of the buyer's network links that lead to it",
        "tỷ trọng liên kết mạng lưới của bên mua dẫn tới nhà cung cấp này",
    ),
    "similar_buyers_share": (
        "share of similar buyers' sourcing that goes to it",
        "tỷ trọng mua hàng của các bên mua tương tự dành cho nhà cung cấp này",
    ),
    "similar_demand_buyers": (
        "supplies buyers with the same need",
        "đang cung cấp cho các bên mua có cùng nhu cầu",
    ),
    "same_origin_buyers": (
        "supplies buyers from the buyer's home country",
        "đang cung cấp cho các bên mua cùng quốc gia đầu tư",
    ),
    "same_sector_buyers": (
        "supplies buyers of the buyer's sector",
        "đang cung cấp cho các bên mua cùng ngành",
    ),
    "ease_score": (
        "buyers that source like this one buy from it (EASE)",
        "các bên mua có cách mua tương tự mua từ nhà cung cấp này (EASE)",
    ),
    "ease_rank": (
        "its place on the list of buyers alike (EASE)",
        "thứ hạng trong danh sách của các bên mua tương tự (EASE)",
    ),
    "rp3_score": (
        "reached from the buyer's suppliers through their buyers (RP3beta)",
        "liên hệ qua nhà cung cấp và bên mua của họ (RP3beta)",
    ),
    "rp3_share": (
        "share of that reach that goes to it (RP3beta)",
        "tỷ trọng liên hệ đó dành cho nhà cung cấp này (RP3beta)",
    ),
    "outcome_good": (
        "an earlier meeting went well",
        "lần gặp trước có kết quả tốt",
    ),
    "outcome_declined": ("declined before", "đã từ chối trước đây"),
}


def feature_name(feature: str, lang: str = "en") -> str:
    """A feature in plain words in ``lang`` (``en`` or ``vi``); an unknown id as it is.

    Examples
    --------
    >>> feature_name("required_certs_met"), feature_name("required_certs_met", "vi")
    ("meets the buyer's required certifications", 'đáp ứng chứng chỉ bên mua yêu cầu')
    """
    names = FEATURE_NAMES.get(feature)
    if names is None:
        return feature
    return names[1] if lang == "vi" else names[0]
