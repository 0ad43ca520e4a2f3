"""What the event planner tells its user beside the plan, in the user's language.

A note is an English string (so the JSON API, logs and older callers read it unchanged) that
also remembers which note it is and its values, so that the command line and the pages can say
it in Vietnamese without parsing English text back.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EventNote", "note_in_language"]

#: Each note's template, in English and in Vietnamese, with the same named values.
NOTE_TEMPLATES: dict[str, dict[str, str]] = {
    "unknown_participants": {
        "en": "the model does not know {count} participant(s) ({shown}): retrain",
        "vi": "mô hình chưa biết {count} bên tham gia ({shown}): hãy huấn luyện lại",
    },
    "time_indexed": {
        "en": "the chosen meetings did not fit the slots; solved the time-indexed programme",
        "vi": "các cuộc gặp đã chọn không vừa các khung giờ; đã giải lại theo từng khung giờ",
    },
    "replanned_afresh": {
        "en": "the published meetings could not be kept: the event was planned afresh",
        "vi": "không giữ được các cuộc gặp đã công bố: sự kiện được xếp lại từ đầu",
    },
    "replanned_around": {
        "en": (
            "re-planned around {published} published meetings: {kept} kept in place,"
            " {gone} moved or cancelled (optimal given those kept)"
        ),
        "vi": (
            "xếp lại quanh {published} cuộc gặp đã công bố: giữ nguyên {kept},"
            " {gone} cuộc được dời hoặc hủy (tối ưu khi giữ các cuộc kia)"
        ),
    },
}


class EventNote(str):
    """A note, read as its English text, that can be said in another language.

    Parameters
    ----------
    key : str
        Which note (a key of :data:`NOTE_TEMPLATES`).
    **values
        The values its template names.
    """

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, **values: Any) -> EventNote:
        note = super().__new__(cls, NOTE_TEMPLATES[key]["en"].format(**values))
        note.key = key
        note.values = values
        return note

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as its key and values (a job's result may cross a process).
        return (_remade, (self.key, self.values))

    def said(self, lang: str = "en") -> str:
        """The note in ``lang`` ("en" or "vi"); English for a language without its template."""
        templates = NOTE_TEMPLATES[self.key]
        return templates.get(lang, templates["en"]).format(**self.values)


def _remade(key: str, values: dict[str, Any]) -> EventNote:
    return EventNote(key, **values)


def note_in_language(note: str, lang: str = "en") -> str:
    """``note`` in ``lang`` when it is an :class:`EventNote`, else as it is."""
    return note.said(lang) if isinstance(note, EventNote) else str(note)
