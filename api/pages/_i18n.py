"""Every string of the workbench in English and Vietnamese, and numbers and dates by locale.

One catalogue, :data:`MESSAGES`: a key names a string, its value holds the English and the
Vietnamese text (written as Vietnamese, not word for word). A template asks ``t("key")``; an
unknown key raises, so that a page can never show a key in place of words (the page tests
render every page in both languages). Numbers, shares and times are formatted by Babel in the
page's locale: ``1,234.5`` in English, ``1.234,5`` in Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from babel import dates as babel_dates
from babel import numbers as babel_numbers

__all__ = [
    "LANGS",
    "MESSAGES",
    "Translator",
    "format_number",
    "format_share",
    "format_when",
    "pick_lang",
]

#: The workbench's languages; the first is the default.
LANGS: tuple[str, ...] = ("vi", "en")
_LOCALES = {"vi": "vi_VN", "en": "en_GB"}
#: Times are shown in Hanoi's time.
_ZONE = babel_dates.get_timezone("Asia/Ho_Chi_Minh")

#: key -> (English, Vietnamese).
MESSAGES: dict[str, tuple[str, str]] = {
    # the frame
    "app_name": ("ketnoi workbench", "Bàn làm việc ketnoi"),
    "skip_to_content": ("Skip to the content", "Chuyển đến nội dung chính"),
    "main_menu": ("Main menu", "Danh mục chính"),
    "nav_home": ("Home", "Trang chủ"),
    "nav_firms": ("Firms", "Doanh nghiệp"),
    "nav_match_lists": ("Match lists", "Danh sách kết nối"),
    "nav_events": ("Events", "Sự kiện"),
    "nav_imports": ("Imports", "Nhập dữ liệu"),
    "nav_gaps": ("Gaps", "Khoảng trống cung ứng"),
    "nav_audit": ("Audit log", "Nhật ký thay đổi"),
    "nav_my_firm": ("My firm", "Doanh nghiệp của tôi"),
    "nav_my_suppliers": ("Suppliers for us", "Nhà cung cấp cho chúng tôi"),
    "nav_my_buyers": ("Buyers for us", "Khách hàng cho chúng tôi"),
    "language": ("Language", "Ngôn ngữ"),
    "lang_en": ("English", "English"),
    "lang_vi": ("Tiếng Việt", "Tiếng Việt"),
    "switch_language": ("Switch language", "Đổi ngôn ngữ"),
    "signed_in_as": ("Signed in: {role}", "Đã đăng nhập: {role}"),
    "role_staff": ("programme staff", "cán bộ chương trình"),
    "role_analyst": ("analyst", "chuyên viên phân tích"),
    "role_firm": ("firm {firm}", "doanh nghiệp {firm}"),
    # signing in
    "sign_in": ("Sign in", "Đăng nhập"),
    "sign_out": ("Sign out", "Đăng xuất"),
    "api_key": ("API key", "Khóa API"),
    "sign_in_help": (
        "Paste the API key you were given (it starts with kn_). The key stays on the server; "
        "this browser keeps only a session cookie, which ends when you sign out or after "
        "{hours} hours.",
        "Dán khóa API được cấp cho bạn (bắt đầu bằng kn_). Khóa chỉ được lưu trên máy chủ; "
        "trình duyệt này chỉ giữ một cookie phiên, hết hiệu lực khi bạn đăng xuất hoặc sau "
        "{hours} giờ.",
    ),
    "bad_key": (
        "That key is not valid: unknown, expired or revoked.",
        "Khóa này không hợp lệ: không tồn tại, đã hết hạn hoặc đã bị thu hồi.",
    ),
    "signed_out": ("You have signed out.", "Bạn đã đăng xuất."),
    # errors
    "error_title": ("Something went wrong", "Đã xảy ra lỗi"),
    "error_401": ("Please sign in first.", "Vui lòng đăng nhập trước."),
    "error_403": (
        "Your key may not open this page.",
        "Khóa của bạn không được phép mở trang này.",
    ),
    "error_404": ("Not found.", "Không tìm thấy."),
    "error_409": ("This changed meanwhile: try again.", "Dữ liệu vừa thay đổi: hãy thử lại."),
    "error_422": ("The request is not valid.", "Yêu cầu không hợp lệ."),
    "error_503": (
        "The service is busy or has no model yet: try again shortly.",
        "Hệ thống đang bận hoặc chưa có mô hình: hãy thử lại sau ít phút.",
    ),
    "error_other": ("The request failed.", "Yêu cầu không thực hiện được."),
    "csrf_failed": (
        "This form has expired or did not come from this site: reload the page and try again.",
        "Biểu mẫu đã hết hạn hoặc không được gửi từ trang này: hãy tải lại trang và thử lại.",
    ),
    "back_home": ("Back to the home page", "Về trang chủ"),
    "details": ("Details from the service", "Chi tiết từ hệ thống"),
    # common words
    "none": ("None", "Không có"),
    "any": ("Any", "Tất cả"),
    "yes": ("yes", "có"),
    "no": ("no", "không"),
    "apply": ("Apply", "Áp dụng"),
    "filters": ("Filters", "Bộ lọc"),
    "previous": ("Previous page", "Trang trước"),
    "next": ("Next page", "Trang sau"),
    "page_of": ("Page {page} of {pages}", "Trang {page}/{pages}"),
    "export": ("Export", "Xuất tệp"),
    "download_xlsx": ("Download XLSX", "Tải tệp XLSX"),
    "download_csv": ("Download CSV", "Tải tệp CSV"),
    "print": ("Print", "In"),
    "firm": ("Firm", "Doanh nghiệp"),
    "firm_id": ("Firm ID", "Mã doanh nghiệp"),
    "name": ("Name", "Tên"),
    "name_en": ("English name", "Tên tiếng Anh"),
    "role": ("Role", "Vai trò"),
    "buyer": ("Buyer", "Bên mua"),
    "supplier": ("Supplier", "Nhà cung cấp"),
    "both": ("Buyer and supplier", "Vừa mua vừa cung cấp"),
    "sector": ("Sector", "Ngành"),
    "park": ("Industrial park", "Khu công nghiệp"),
    "certification": ("Certification", "Chứng nhận"),
    "certifications": ("Certifications", "Chứng nhận"),
    "process": ("Process", "Công đoạn"),
    "processes": ("Processes", "Công đoạn sản xuất"),
    "category": ("Category", "Mặt hàng"),
    "categories": ("Categories", "Mặt hàng"),
    "ownership": ("Ownership", "Loại hình sở hữu"),
    "own_local": ("local (all but FDI)", "trong nước (trừ FDI)"),
    "own_domestic": ("domestic private", "tư nhân trong nước"),
    "own_soe": ("state-owned", "nhà nước"),
    "own_jv": ("joint venture", "liên doanh"),
    "own_fdi": ("foreign-invested (FDI)", "có vốn đầu tư nước ngoài (FDI)"),
    "country": ("Country of origin", "Quốc gia xuất xứ"),
    "country_hint": ("Two letters: VN, JP, KR", "Hai chữ cái: VN, JP, KR"),
    "category_or_hs": ("Category or HS code", "Mặt hàng hoặc mã HS"),
    "tax_code": ("Tax code", "Mã số thuế"),
    "employees": ("Employees", "Số lao động"),
    "founded": ("Founded", "Năm thành lập"),
    "languages": ("Working languages", "Ngôn ngữ làm việc"),
    "description": ("Description", "Giới thiệu"),
    "location": ("Location", "Vị trí"),
    "listed": ("Listed for matching", "Hiển thị để kết nối"),
    "volume": ("Volume", "Khối lượng"),
    "capacity": ("Capacity", "Công suất"),
    "since": ("Since", "Từ năm"),
    "status": ("Status", "Trạng thái"),
    "active": ("active", "đang hoạt động"),
    "ended": ("ended", "đã kết thúc"),
    "confidential": ("confidential", "bảo mật"),
    "required": ("Requires", "Yêu cầu"),
    "score": ("Score", "Điểm"),
    "rank": ("Rank", "Hạng"),
    "tier": ("Tier", "Cấp"),
    "tier_n": ("Tier {n}", "Cấp {n}"),
    "k": ("How many", "Số lượng"),
    "reasons": ("Why", "Lý do"),
    "when": ("When", "Thời điểm"),
    "label": ("Label", "Nhãn"),
    # home
    "home_title": ("The programme at a glance", "Tổng quan chương trình"),
    "indicators": ("Indicators against targets", "Các chỉ tiêu so với mục tiêu"),
    "indicators_none": ("No indicator can be computed yet.", "Chưa tính được chỉ tiêu nào."),
    "year": ("Year", "Năm"),
    "value": ("Value", "Giá trị"),
    "target": ("Target", "Mục tiêu"),
    "on_track": ("on track", "đạt tiến độ"),
    "behind": ("behind", "chậm tiến độ"),
    "no_target": ("no target", "chưa có mục tiêu"),
    "chart_of": ("{what} by year", "{what} theo năm"),
    "ind_local_supporting_firms": (
        "Local supporting-industry firms",
        "Doanh nghiệp công nghiệp hỗ trợ trong nước",
    ),
    "ind_certified_share": (
        "Share with an international certification",
        "Tỷ lệ doanh nghiệp có chứng nhận quốc tế",
    ),
    "ind_tier_1_firms": ("Local firms at Tier 1", "Doanh nghiệp trong nước ở cấp 1"),
    "ind_tier_2_firms": ("Local firms at Tier 2", "Doanh nghiệp trong nước ở cấp 2"),
    "ind_tier_3plus_firms": (
        "Local firms at Tier 3 and beyond",
        "Doanh nghiệp trong nước từ cấp 3 trở xuống",
    ),
    "ind_new_links": ("New links", "Liên kết mới"),
    "ind_new_local_links": (
        "New links with local suppliers",
        "Liên kết mới với nhà cung cấp trong nước",
    ),
    "ind_localisation_rate": ("Localisation rate", "Tỷ lệ nội địa hóa"),
    "ind_linked_rate": ("Sourced locally today", "Tỷ lệ đang mua từ nhà cung cấp trong nước"),
    "model_title": ("The served model", "Mô hình đang phục vụ"),
    "model_none": ("No model is loaded yet.", "Chưa có mô hình nào được nạp."),
    "model_version": ("Model version", "Phiên bản mô hình"),
    "trained_at": ("Trained", "Thời điểm huấn luyện"),
    "ranker": ("Ranker", "Bộ xếp hạng"),
    "training_pairs": ("Training pairs", "Số cặp huấn luyện"),
    "holdout": (
        "Measured on {pairs} held-out links ({kind} hold-out, top {k})",
        "Đánh giá trên {pairs} liên kết giữ lại (cách giữ lại: {kind}, top {k})",
    ),
    "holdout_temporal": ("by year", "theo năm"),
    "holdout_random": ("random", "ngẫu nhiên"),
    "method": ("Method", "Phương pháp"),
    "method_model": ("ketnoi model", "Mô hình ketnoi"),
    "method_l3": ("L3 paths (baseline)", "Đường đi L3 (mốc so sánh)"),
    "method_popular": ("Most linked (baseline)", "Nhiều liên kết nhất (mốc so sánh)"),
    "recall_at_k": ("Recall", "Độ phủ (recall)"),
    "ndcg_at_k": ("NDCG", "NDCG"),
    "recent_activity": ("Recent activity", "Hoạt động gần đây"),
    "portal_title": ("{name}", "{name}"),
    "portal_intro": (
        "What the programme suggests for your firm. Other firms see only your public profile.",
        "Những gợi ý của chương trình dành cho doanh nghiệp của bạn. Doanh nghiệp khác chỉ "
        "thấy hồ sơ công khai của bạn.",
    ),
    # firms
    "firms_title": ("Firms", "Doanh nghiệp"),
    "search_name": ("Name contains", "Tên có chứa"),
    "search_hint": (
        "Accents are optional: “co khi” finds “Cơ khí”.",
        "Có thể gõ không dấu: “co khi” cũng tìm ra “Cơ khí”.",
    ),
    "search": ("Search", "Tìm kiếm"),
    "n_firms": ("{n} firms found", "Tìm thấy {n} doanh nghiệp"),
    "profile": ("Profile", "Hồ sơ"),
    "capabilities": ("What it supplies", "Mặt hàng cung ứng"),
    "demands": ("What it buys", "Nhu cầu mua"),
    "links": ("Existing links", "Liên kết hiện có"),
    "links_as_buyer": ("Its suppliers", "Nhà cung cấp của doanh nghiệp"),
    "links_as_supplier": ("Its buyers", "Khách hàng của doanh nghiệp"),
    "links_private": (
        "A firm's links are shown only to the firm itself and to programme staff.",
        "Liên kết của doanh nghiệp chỉ hiển thị cho chính doanh nghiệp và cán bộ chương trình.",
    ),
    "masked_demand": ("{summary}", "{summary}"),
    "see_suppliers": ("New suppliers for this buyer", "Nhà cung cấp mới cho bên mua này"),
    "see_buyers": ("Buyers for this supplier", "Khách hàng tiềm năng cho nhà cung cấp này"),
    # a buyer's suppliers
    "suppliers_title": ("New suppliers for {name}", "Nhà cung cấp mới cho {name}"),
    "suppliers_none": (
        "No supplier to suggest with these filters.",
        "Không có nhà cung cấp nào phù hợp với bộ lọc này.",
    ),
    "record_outcome": ("Record what came of it", "Ghi nhận kết quả"),
    "outcome_contacted": ("Contacted", "Đã liên hệ"),
    "outcome_met": ("Met", "Đã gặp"),
    "outcome_negotiating": ("Negotiating", "Đang đàm phán"),
    "outcome_contracted": ("Contracted", "Đã ký hợp đồng"),
    "outcome_declined": ("Declined", "Từ chối"),
    "outcome_recorded": (
        "Recorded: {outcome}, {supplier} and {buyer}.",
        "Đã ghi nhận: {outcome}, {supplier} và {buyer}.",
    ),
    "outcomes": ("Outcomes recorded", "Kết quả đã ghi nhận"),
    "outcomes_none": ("No outcome recorded yet.", "Chưa ghi nhận kết quả nào."),
    "recorded_by": ("Recorded by", "Người ghi nhận"),
    "why_not_yet": ("Why not yet?", "Vì sao chưa kết nối?"),
    "why_not_yet_help": (
        "Any supplier: what stands between it and this buyer, and what the score is made of.",
        "Với bất kỳ nhà cung cấp nào: điều gì đang cản trở việc kết nối với bên mua này, và "
        "điểm số được tạo thành từ đâu.",
    ),
    "supplier_id": ("Supplier ID", "Mã nhà cung cấp"),
    "buyer_id": ("Buyer ID", "Mã bên mua"),
    "explain": ("Explain", "Giải thích"),
    "blockers": ("To act on", "Cần khắc phục"),
    "no_blockers": ("Nothing blocks this pair.", "Không có gì cản trở cặp này."),
    "existing_link": ("They already work together.", "Hai bên đã có quan hệ cung ứng."),
    "not_candidate": (
        "Not among the candidates the model ranks.",
        "Chưa nằm trong nhóm ứng viên mà mô hình xếp hạng.",
    ),
    "contributions": ("What the score is made of", "Thành phần của điểm số"),
    "feature": ("Feature", "Yếu tố"),
    "contribution": ("Contribution", "Mức đóng góp"),
    "value_unknown": ("unknown", "không rõ"),
    "value_withheld": ("not shown", "không hiển thị"),
    "chain_show": ("Show the tier chain", "Xem chuỗi cung ứng theo cấp"),
    "chain": ("The supply chain, tier by tier", "Chuỗi cung ứng theo từng cấp"),
    "chain_none": ("No chain to show.", "Chưa có chuỗi cung ứng để hiển thị."),
    "existing": ("existing", "hiện có"),
    "recommended": ("suggested", "đề xuất"),
    # a supplier's buyers
    "buyers_title": ("Buyers for {name} to approach", "Bên mua mà {name} nên tiếp cận"),
    "buyers_none": ("No buyer to suggest.", "Chưa có bên mua nào để gợi ý."),
    "masked_buyer": ("A buyer (kept confidential)", "Một bên mua (thông tin được bảo mật)"),
    # introductions to a masked demand's buyer
    "intro_ask": ("Ask staff for an introduction", "Nhờ cán bộ chương trình giới thiệu"),
    "intro_message_label": ("Message to staff (optional)", "Lời nhắn cho cán bộ (không bắt buộc)"),
    "intro_sent": (
        "Request sent: programme staff will introduce you if the buyer agrees.",
        "Đã gửi yêu cầu: cán bộ chương trình sẽ giới thiệu nếu bên mua đồng ý.",
    ),
    "intro_requested": ("Request sent", "Đã gửi yêu cầu"),
    "nav_introductions": ("Introductions", "Yêu cầu giới thiệu"),
    "intro_title": ("Introduction requests", "Yêu cầu giới thiệu"),
    "intro_help": (
        "Suppliers who asked to meet the buyer behind a confidential demand. They do not know "
        "the buyer: ask the buyer first, then introduce them.",
        "Các nhà cung cấp muốn gặp bên mua có nhu cầu được bảo mật. Họ không biết bên mua là "
        "ai: hãy hỏi ý kiến bên mua trước khi giới thiệu.",
    ),
    "intro_count": ("{n} request(s)", "{n} yêu cầu"),
    "intro_none": ("No request yet.", "Chưa có yêu cầu nào."),
    "intro_when": ("Asked", "Thời gian"),
    "intro_supplier": ("Supplier", "Nhà cung cấp"),
    "intro_buyer": ("Buyer (staff only)", "Bên mua (chỉ cán bộ xem)"),
    "intro_category": ("Category", "Nhóm sản phẩm"),
    "intro_message": ("Message", "Lời nhắn"),
    # match lists
    "match_lists_title": ("Match lists", "Danh sách kết nối"),
    "new_match_list": ("Build a match list", "Lập danh sách kết nối"),
    "buyer_ids": (
        "Buyers by hand (IDs, separated by spaces, commas or lines)",
        "Chọn bên mua thủ công (mã, cách nhau bởi dấu cách, dấu phẩy hoặc xuống dòng)",
    ),
    "buyers_of_sector": ("…and every buyer in the sector", "…và mọi bên mua thuộc ngành"),
    "buyers_of_park": ("…and every buyer in the park", "…và mọi bên mua trong khu công nghiệp"),
    "max_per_supplier": (
        "At most this many buyers per supplier",
        "Mỗi nhà cung cấp xuất hiện tối đa cho số bên mua",
    ),
    "pins": (
        "Pins (buyer:supplier, one a line)",
        "Cặp được ghim (bên_mua:nhà_cung_cấp, mỗi dòng một cặp)",
    ),
    "blocks": (
        "Blocks (buyer:supplier, one a line)",
        "Cặp bị chặn (bên_mua:nhà_cung_cấp, mỗi dòng một cặp)",
    ),
    "list_lang": ("Language of the file", "Ngôn ngữ của tệp"),
    "preview": ("Preview", "Xem trước"),
    "save": ("Save", "Lưu"),
    "preview_title": ("Preview: {n} pairs (not saved)", "Xem trước: {n} cặp (chưa lưu)"),
    "saved_lists": ("Saved lists", "Các danh sách đã lưu"),
    "saved_none": ("No match list saved yet.", "Chưa có danh sách nào được lưu."),
    "created": ("Created", "Thời điểm tạo"),
    "rows": ("Pairs", "Số cặp"),
    "pinned": ("pinned", "đã ghim"),
    "match_list_n": ("Match list {id}", "Danh sách kết nối số {id}"),
    "no_buyers_chosen": (
        "Choose at least one buyer, by hand, by sector or by park.",
        "Hãy chọn ít nhất một bên mua: thủ công, theo ngành hoặc theo khu công nghiệp.",
    ),
    "bad_pair": (
        "“{text}” is not a pair: write buyer:supplier.",
        "“{text}” không phải một cặp: hãy viết bên_mua:nhà_cung_cấp.",
    ),
    # duplicates: the review queue of entity resolution
    "nav_duplicates": ("Duplicates", "Trùng lặp"),
    "dup_title": ("Possible duplicates", "Doanh nghiệp có thể trùng lặp"),
    "dup_help": (
        "Rows of imported lists that may be firms already in the register. Compare them side "
        "by side and say whether they are the same firm; the answer is remembered, so the same "
        "list uploaded again does not ask it twice.",
        "Các dòng trong danh sách đã nhập có thể trùng với doanh nghiệp đã có trong sổ đăng ký. "
        "Hãy so sánh song song và cho biết có phải cùng một doanh nghiệp không; câu trả lời "
        "được ghi nhớ, nên khi tải lại cùng danh sách sẽ không phải trả lời lần nữa.",
    ),
    "dup_none": ("No pair is waiting for review.", "Không có cặp nào đang chờ xem xét."),
    "dup_pair": ("Pair {id}", "Cặp {id}"),
    "dup_probability": ("match probability", "xác suất trùng khớp"),
    "dup_record": ("Row of the list", "Dòng trong danh sách"),
    "dup_firm": ("Firm in the register", "Doanh nghiệp trong sổ đăng ký"),
    "dup_where": ("From", "Nguồn"),
    "dup_sheet_row": ("sheet {sheet}, row {line}", "trang tính {sheet}, dòng {line}"),
    "dup_field_name": ("Name", "Tên"),
    "dup_field_tax_code": ("Tax code", "Mã số thuế"),
    "dup_field_address": ("Address", "Địa chỉ"),
    "dup_field_phone": ("Phone", "Điện thoại"),
    "dup_field_email": ("Email", "Thư điện tử"),
    "dup_field_website": ("Website", "Trang web"),
    "dup_products": ("Products", "Sản phẩm chính"),
    "dup_categories": (
        "Suggested categories (HS code, score), to confirm in the list's choices file",
        "Danh mục gợi ý (mã HS, điểm), xác nhận trong tệp lựa chọn của danh sách",
    ),
    "dup_evidence": ("Evidence (weight of each field)", "Căn cứ (trọng số của từng trường)"),
    "dup_thresholds": (
        "Same firm without asking at {accept} or above; asked from {review}",
        "Tự động coi là cùng doanh nghiệp từ {accept} trở lên; cần người xem xét từ {review}",
    ),
    "dup_same": ("Same firm", "Cùng một doanh nghiệp"),
    "dup_different": ("Different firms", "Hai doanh nghiệp khác nhau"),
    "dup_done_match": (
        "Pair {id}: recorded as the same firm ({firm}).",
        "Cặp {id}: đã ghi nhận là cùng một doanh nghiệp ({firm}).",
    ),
    "dup_done_distinct": (
        "Pair {id}: recorded as different firms.",
        "Cặp {id}: đã ghi nhận là hai doanh nghiệp khác nhau.",
    ),
    "dup_gone": (
        "Pair {id} was answered already or no longer exists.",
        "Cặp {id} đã được trả lời hoặc không còn tồn tại.",
    ),
    "dup_bad_answer": (
        "Choose a pair and an answer.",
        "Hãy chọn một cặp và một câu trả lời.",
    ),
    # imports
    "imports_title": ("Import data", "Nhập dữ liệu"),
    "imports_help": (
        "A workbook (XLSX, one sheet per file of the data contract) or a zip of CSV files, at "
        "most 20 MB. Every problem is listed; nothing is loaded unless the whole file is clean.",
        "Tệp Excel (XLSX, mỗi trang tính là một tệp theo chuẩn dữ liệu) hoặc tệp zip chứa các "
        "tệp CSV, tối đa 20 MB. Mọi lỗi đều được liệt kê; dữ liệu chỉ được nạp khi toàn bộ tệp "
        "hợp lệ.",
    ),
    "file": ("File", "Tệp"),
    "replace": (
        "Replace: remove the rows the file lacks",
        "Thay thế: xóa các dòng không có trong tệp",
    ),
    "load": ("Check and load", "Kiểm tra và nạp"),
    "no_file": ("Choose a file to upload.", "Hãy chọn một tệp để tải lên."),
    "problems_title": (
        "{n} problems: nothing was loaded",
        "Có {n} lỗi: chưa nạp dữ liệu nào",
    ),
    "line": ("Line", "Dòng"),
    "column": ("Column", "Cột"),
    "reason": ("Reason", "Lý do"),
    "severity": ("Severity", "Mức độ"),
    "loaded": (
        "Loaded {source}. Retrain the model for recommendations to use the new data.",
        "Đã nạp {source}. Hãy huấn luyện lại mô hình để các gợi ý dùng dữ liệu mới.",
    ),
    "inserted": ("Added", "Thêm mới"),
    "updated": ("Changed", "Cập nhật"),
    "unchanged": ("Unchanged", "Không đổi"),
    "deleted": ("Removed", "Đã xóa"),
    # events
    "events_title": ("Matchmaking events", "Sự kiện kết nối giao thương"),
    "events_none": ("No event planned yet.", "Chưa có sự kiện nào được lên kế hoạch."),
    "event_n": ("Event {id}: {name}", "Sự kiện {id}: {name}"),
    "meetings": ("Meetings", "Cuộc gặp"),
    "participants": ("Participants", "Doanh nghiệp tham dự"),
    "grid": ("Who meets whom, slot by table", "Ai gặp ai, theo khung giờ và bàn"),
    "slot": ("Slot", "Khung giờ"),
    "table_n": ("Table {n}", "Bàn {n}"),
    "agenda": ("Agenda of {name}", "Lịch gặp của {name}"),
    "agendas": ("Agendas to print", "Lịch gặp để in"),
    "with_firm": ("With", "Gặp"),
    "table": ("Table", "Bàn"),
    "new_event": ("Plan an event", "Lên kế hoạch sự kiện"),
    "participant_ids": (
        "Participating firms (IDs, separated by spaces, commas or lines; a firm that both buys "
        "and supplies: ID:buyer or ID:supplier)",
        "Doanh nghiệp tham dự (mã, cách nhau bởi dấu cách, dấu phẩy hoặc xuống dòng; doanh "
        "nghiệp vừa mua vừa bán thì ghi mã:buyer hoặc mã:supplier)",
    ),
    "participant_languages": (
        "Languages of the people each firm sends (optional; one line per firm, such as "
        "hn-b001: ja, en; otherwise those of the firm's profile)",
        "Ngôn ngữ của người mà mỗi doanh nghiệp cử đến (không bắt buộc; mỗi doanh nghiệp một "
        "dòng, ví dụ hn-b001: ja, en; bỏ trống thì lấy theo hồ sơ doanh nghiệp)",
    ),
    "bad_participant": (
        "“{text}” is not a participant: write an ID, or ID:buyer or ID:supplier.",
        "“{text}” không phải cách ghi hợp lệ: hãy ghi mã, hoặc mã:buyer hay mã:supplier.",
    ),
    "bad_languages": (
        "“{text}” is not a line of languages: write ID: languages (such as hn-b001: ja, en) "
        "for a firm listed above.",
        "Dòng “{text}” không hợp lệ: hãy ghi mã: ngôn ngữ (ví dụ hn-b001: ja, en) cho một "
        "doanh nghiệp có trong danh sách tham dự.",
    ),
    "slots": ("Time slots", "Số khung giờ"),
    "tables": ("Tables", "Số bàn"),
    "max_meetings": ("Most meetings per firm", "Số cuộc gặp tối đa mỗi doanh nghiệp"),
    "interpreters": ("Interpreters", "Số phiên dịch viên"),
    "plan": ("Schedule and save", "Xếp lịch và lưu"),
    "locked_meetings": ("Locked meetings", "Cuộc gặp đã khóa"),
    "replan_counts": ("Last re-planning", "Lần xếp lịch lại gần nhất"),
    "replan_counts_n": (
        "{moved} moved, {cancelled} cancelled, {added} added",
        "{moved} cuộc gặp đổi chỗ, {cancelled} bị hủy, {added} thêm mới",
    ),
    "replan": ("Plan again", "Xếp lịch lại"),
    "replan_help": (
        "Meetings already on agendas stay where they are unless a change forces them out.",
        "Các cuộc gặp đã có trong lịch gặp được giữ nguyên chỗ, trừ khi thay đổi buộc phải dời.",
    ),
    "replanned": (
        "Planned again: meetings on published agendas kept their places wherever they could.",
        "Đã xếp lịch lại: các cuộc gặp trong lịch đã gửi được giữ nguyên chỗ khi có thể.",
    ),
    "replan_changes": (
        "What the last re-planning changed",
        "Những thay đổi của lần xếp lịch lại gần nhất",
    ),
    "interpreter": ("Interpreter", "Phiên dịch"),
    "lock": ("Lock", "Khóa"),
    "unlock": ("Unlock", "Mở khóa"),
    "locked": ("Locked", "Đã khóa"),
    "lock_meeting": (
        "Lock the meeting of {buyer} and {supplier} in slot {slot}",
        "Khóa cuộc gặp giữa {buyer} và {supplier} ở khung giờ {slot}",
    ),
    "unlock_meeting": (
        "Unlock the meeting of {buyer} and {supplier}",
        "Mở khóa cuộc gặp giữa {buyer} và {supplier}",
    ),
    "side": ("Side at the event", "Vai trò tại sự kiện"),
    "meeting_languages": ("Languages they meet in", "Ngôn ngữ giao tiếp"),
    "languages_from_profile": ("from the firm's profile", "theo hồ sơ doanh nghiệp"),
    # jobs
    "job_title": ("Work in progress", "Công việc đang xử lý"),
    "job_state_queued": ("Waiting to start", "Đang chờ bắt đầu"),
    "job_state_running": ("Running", "Đang chạy"),
    "job_state_finished": ("Done", "Đã xong"),
    "job_state_failed": ("Failed", "Không thành công"),
    "job_step_schedule": ("Scheduling the meetings", "Đang xếp lịch các cuộc gặp"),
    "job_progress": ("Progress", "Tiến độ"),
    "job_refresh": ("Reload to see how far it got", "Tải lại trang để xem tiến độ"),
    "job_result": ("See the result", "Xem kết quả"),
    # gaps
    "gaps_title": ("Gaps in local supply", "Khoảng trống trong cung ứng nội địa"),
    "localisation_gaps": (
        "Demands with no qualified local supplier",
        "Nhu cầu chưa có nhà cung cấp trong nước đủ điều kiện",
    ),
    "localisation_rate": ("Localisation rate", "Tỷ lệ nội địa hóa"),
    "no_gaps": (
        "No gap: every demand has a qualified local supplier.",
        "Không có khoảng trống: mọi nhu cầu đều có nhà cung cấp trong nước đủ điều kiện.",
    ),
    "near_misses": (
        "Near-miss suppliers: one certification or process short",
        "Nhà cung cấp suýt đạt: chỉ thiếu một chứng nhận hoặc công đoạn",
    ),
    "lacking": ("What they lack", "Điều còn thiếu"),
    "n_suppliers": ("Suppliers", "Số nhà cung cấp"),
    "n_demands": ("Demands", "Số nhu cầu"),
    "rate_if_gained": ("Localisation if they gained it", "Tỷ lệ nội địa hóa nếu bổ sung được"),
    "single_sourced": (
        "Buyers with a single supplier for a category",
        "Bên mua chỉ có một nhà cung cấp cho một mặt hàng",
    ),
    "concentration": ("Concentration by category", "Mức độ tập trung theo mặt hàng"),
    "hhi": ("HHI", "Chỉ số HHI"),
    "top_share": ("Largest supplier's share", "Thị phần của nhà cung cấp lớn nhất"),
    # audit
    "audit_title": ("Audit log", "Nhật ký thay đổi"),
    "actor": ("Who", "Người thực hiện"),
    "action": ("Action", "Thao tác"),
    "entity": ("What", "Đối tượng"),
    "detail": ("Detail", "Chi tiết"),
}


def pick_lang(*candidates: str | None, accept: str = "") -> str:
    """The first of ``candidates`` that is a workbench language, else the browser's
    ``Accept-Language`` choice, else Vietnamese.

    Examples
    --------
    >>> pick_lang(None, "en")
    'en'
    >>> pick_lang(None, accept="en-US,en;q=0.9")
    'en'
    >>> pick_lang("fr")
    'vi'
    """
    for lang in candidates:
        if lang in LANGS:
            return str(lang)
    for part in accept.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return LANGS[0]


def format_number(value: Any, lang: str, digits: int = 1) -> str:
    """A number as ``lang`` writes it: at most ``digits`` decimals, grouped thousands.

    Examples
    --------
    >>> format_number(1234.5, "vi"), format_number(1234.5, "en"), format_number(3.0, "vi")
    ('1.234,5', '1,234.5', '3')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    pattern = "#,##0" + ("." + "#" * digits if digits > 0 else "")
    return str(babel_numbers.format_decimal(value, format=pattern, locale=_LOCALES[lang]))


def format_share(value: Any, lang: str) -> str:
    """A fraction as a percentage with one decimal.

    Examples
    --------
    >>> format_share(0.1234, "vi"), format_share(0.1234, "en")
    ('12,3%', '12.3%')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return str(babel_numbers.format_percent(value, format="#,##0.0%", locale=_LOCALES[lang]))


def format_when(value: Any, lang: str) -> str:
    """A moment (ISO text or datetime, UTC when naive) in Hanoi's time, as ``lang`` writes it.

    Examples
    --------
    >>> format_when("2024-05-10T03:00:00Z", "vi")
    '10:00 10/05/2024'
    >>> format_when("2024-05-10T03:00:00Z", "en")
    '10 May 2024, 10:00'
    >>> format_when("2024-08-26", "vi"), format_when(dt.date(2024, 8, 26), "en")
    ('26/08/2024', '26 Aug 2024')
    """
    if value in (None, ""):
        return "–"
    is_day = isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if is_day or (isinstance(value, str) and len(value) == 10):
        # A day without a time (an outcome's date): no time zone to shift it by.
        day = value if isinstance(value, dt.date) else dt.date.fromisoformat(value)
        pattern = "dd/MM/yyyy" if lang == "vi" else "d MMM yyyy"
        return str(babel_dates.format_date(day, pattern, locale=_LOCALES[lang]))
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    pattern = "HH:mm dd/MM/yyyy" if lang == "vi" else "d MMM yyyy, HH:mm"
    return str(babel_dates.format_datetime(moment, pattern, tzinfo=_ZONE, locale=_LOCALES[lang]))


class Translator:
    """``t(key, **values)``: the string ``key`` in one language, with ``{values}`` filled in.

    Examples
    --------
    >>> Translator("vi")("n_firms", n="1.234")
    'Tìm thấy 1.234 doanh nghiệp'
    """

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else LANGS[0]
        self._index = 1 if self.lang == "vi" else 0

    def __call__(self, key: str, **values: Any) -> str:
        text = MESSAGES[key][self._index]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        """Whether the catalogue holds ``key`` (for names built from data, like indicators)."""
        return key in MESSAGES
