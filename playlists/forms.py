"""Forms of the playlist pages: they parse input; the services decide (limits, ownership, a
track already in a playlist) and their refusals reach the listener as messages."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.validators import Activity, Mood
from catalog.models import ID_MAX
from playlists.models import DESCRIPTION_MAX, NAME_MAX

#: the generator's bounds (the contract of ``playlists.services.generate``)
LENGTH_MIN, LENGTH_MAX, LENGTH_DEFAULT = 5, 100, 25

BLANK = ("", "—")

GENERATE_KINDS = (
    ("recommendations", "From your recommendations"),
    ("radio", "Radio from a track or an artist"),
    ("mood", "For a mood or an activity"),
    ("path", "Sonic path from one track to another"),
)

#: the track pickers of the generate form: field → what the picker asks for
TRACK_PICKERS = {
    "seed_track_id": "Seed track",
    "from_track_id": "Start track",
    "to_track_id": "End track",
}


def _id_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, min_value=1, max_value=ID_MAX, required=False, widget=forms.HiddenInput
    )


class PlaylistForm(forms.Form):
    """A new playlist, or the name, description and visibility of one."""

    name = forms.CharField(label="Name", max_length=NAME_MAX, strip=True)
    description = forms.CharField(
        label="Description",
        max_length=DESCRIPTION_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_public = forms.BooleanField(
        label="Public: anyone signed in can see it on your public page", required=False
    )


class PlaylistCreateForm(PlaylistForm):
    """ "New playlist", optionally with a first track ("new playlist with this track")."""

    track_id = forms.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, widget=forms.HiddenInput
    )


class TrackAddForm(forms.Form):
    """ "Add to playlist": one track into one of the listener's playlists."""

    track_id = forms.IntegerField(min_value=1, max_value=ID_MAX)
    playlist_id = forms.IntegerField(
        min_value=1, max_value=ID_MAX, error_messages={"required": "Choose a playlist."}
    )


class TrackForm(forms.Form):
    """One track of a playlist (remove)."""

    track_id = forms.IntegerField(min_value=1, max_value=ID_MAX)


class TrackMoveForm(forms.Form):
    """One move: the track and its new 1-based position (the up/down buttons and a drag)."""

    track_id = forms.IntegerField(min_value=1, max_value=ID_MAX)
    position = forms.IntegerField(min_value=1, max_value=ID_MAX)


class DeleteForm(forms.Form):
    confirm = forms.BooleanField(
        required=True,
        label="Yes, delete this playlist",
        error_messages={"required": "Tick the box to confirm that the playlist goes."},
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Playlist file",
        help_text="M3U / M3U8, JSPF (ListenBrainz) or CSV (as exported here, or Exportify's).",
        allow_empty_file=False,
        error_messages={
            "required": "Choose a playlist file to import.",
            "empty": "This file is empty: choose a playlist file that lists tracks.",
        },
    )
    name = forms.CharField(
        label="Name (optional)",
        max_length=NAME_MAX,
        required=False,
        help_text="Leave empty to take the name the file gives, or the file's name.",
    )


class GenerateForm(forms.Form):
    """What the generator needs for each kind. The form checks that each kind has its fields
    (so the page can say it next to them); the generator checks the rest (tracks that exist,
    what the catalog allows)."""

    kind = forms.ChoiceField(
        label="Make a playlist", choices=GENERATE_KINDS, widget=forms.RadioSelect
    )
    length = forms.IntegerField(
        label="Length (tracks)",
        min_value=LENGTH_MIN,
        max_value=LENGTH_MAX,
        initial=LENGTH_DEFAULT,
        help_text=f"From {LENGTH_MIN} to {LENGTH_MAX}.",
    )
    seed_track_id = _id_field("Seed track")
    seed_artist_id = _id_field("Seed artist")
    mood = forms.ChoiceField(label="Mood", choices=[BLANK, *Mood.choices], required=False)
    activity = forms.ChoiceField(
        label="Activity", choices=[BLANK, *Activity.choices], required=False
    )
    from_track_id = _id_field("Start track")
    to_track_id = _id_field("End track")
    seed = forms.IntegerField(
        label="Seed (optional)",
        min_value=0,
        max_value=2**31 - 1,
        required=False,
        help_text="The same seed makes the same playlist again.",
    )
    is_public = forms.BooleanField(label="Public", required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("kind")
        if kind == "radio":
            if not data.get("seed_track_id") and not data.get("seed_artist_id"):
                self.add_error("seed_track_id", "Choose a track or an artist to start from.")
            elif data.get("seed_track_id") and data.get("seed_artist_id"):
                self.add_error("seed_artist_id", "A radio starts from a track or an artist.")
        elif kind == "mood":
            if not data.get("mood") and not data.get("activity"):
                self.add_error("mood", "Choose a mood, an activity or both.")
        elif kind == "path":
            if not data.get("from_track_id"):
                self.add_error("from_track_id", "Choose the track the path starts from.")
            if not data.get("to_track_id"):
                self.add_error("to_track_id", "Choose the track the path ends at.")
            if data.get("from_track_id") and data.get("from_track_id") == data.get("to_track_id"):
                self.add_error("to_track_id", "Choose an end track other than the start.")
        return data

    def generator_arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``playlist_generate`` for the chosen kind (only its fields)."""
        data = self.cleaned_data
        arguments: dict[str, Any] = {
            "kind": data["kind"],
            "length": data["length"],
            "seed": data.get("seed"),
            "is_public": data.get("is_public", False),
        }
        wanted = {
            "recommendations": (),
            "radio": ("seed_track_id", "seed_artist_id"),
            "mood": ("mood", "activity"),
            "path": ("from_track_id", "to_track_id"),
        }[data["kind"]]
        for name in wanted:
            if data.get(name):
                arguments[name] = data[name]
        return arguments


class PickForm(forms.Form):
    """The track picker's search: the words and which field of the generate form it fills."""

    q = forms.CharField(label="Search", max_length=200, required=False)
    field = forms.ChoiceField(choices=list(TRACK_PICKERS.items()))
