"""Forms of the history pages: they parse input; services decide."""

from __future__ import annotations

from django import forms

from catalog.models import ID_MAX
from history.models import ListenImport


class HistoryAddForm(forms.Form):
    track_id = forms.IntegerField(min_value=1, max_value=ID_MAX)


class HistoryClearForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="Yes, remove every track from my history",
        error_messages={"required": "Tick the box to confirm that the whole history goes."},
    )


class ListenImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="Last.fm scrobbles CSV, Spotify StreamingHistory / Streaming_History_Audio / "
        "endsong JSON or the ZIP Spotify sends, ListenBrainz listens (JSON or JSON lines), "
        ".scrobbler.log.",
        allow_empty_file=False,
    )


class OfferAcceptForm(forms.Form):
    track_ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True)

    def __init__(self, *args, listen_import: ListenImport, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["track_ids"].choices = [
            (track_id, track_id) for track_id in listen_import.offered_track_ids
        ]
        self.fields["track_ids"].error_messages["required"] = "Tick at least one track."
