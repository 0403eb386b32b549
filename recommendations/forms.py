"""Forms of the recommendation pages: they parse input; services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.validators import DISCOVERY_DEFAULT, Activity, Mood
from catalog.models import ID_MAX
from history.models import Interaction

#: The feedback a page sends about one track (plays come from players, not from buttons).
FEEDBACK_KINDS = (
    (Interaction.Kind.LIKE, "Like"),
    (Interaction.Kind.DISLIKE, "Dislike"),
    (Interaction.Kind.SKIP, "Skip"),
)

BLANK = ("", "—")


class FeedbackForm(forms.Form):
    """Like, dislike or skip a track, from a list that was served (``impression_id``) or not."""

    track_id = forms.IntegerField(min_value=1, max_value=ID_MAX)
    kind = forms.ChoiceField(choices=FEEDBACK_KINDS)
    impression_id = forms.UUIDField(required=False)


class ArtistForm(forms.Form):
    """ "Not this artist" and "unblock": the artist's id."""

    artist_id = forms.IntegerField(min_value=1, max_value=ID_MAX)


class DiscoveryField(forms.FloatField):
    """0 (familiar) … 1 (new), as the listener's default is validated."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 0.0)
        kwargs.setdefault("max_value", 1.0)
        kwargs.setdefault("label", "Discovery")
        kwargs.setdefault("widget", forms.NumberInput(attrs={"type": "range", "step": "0.05"}))
        super().__init__(**kwargs)


class ListControlsForm(forms.Form):
    """The home page's context picker and discovery slider: stored as the listener's own
    (mood and activity through ``listener_context_update``, discovery through
    ``listener_discovery_update``), so every surface — the API, a live update — follows."""

    mood = forms.ChoiceField(choices=[BLANK, *Mood.choices], required=False)
    activity = forms.ChoiceField(choices=[BLANK, *Activity.choices], required=False)
    discovery = DiscoveryField()

    @classmethod
    def initial_for(cls, user: Any) -> dict[str, Any]:
        return {"mood": user.mood, "activity": user.activity, "discovery": user.discovery}


class DiscoveryForm(forms.Form):
    """The default discovery, on the profile page."""

    discovery = DiscoveryField(initial=DISCOVERY_DEFAULT)
