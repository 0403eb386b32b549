"""Serializers of the recommendations API: the query of a list, and the list's answer (which
only documents the payload of ``services.lists.recommendation_list_serve``: it is already
JSON-ready, and the API sends it as it is, so the API, the home page and a live update carry the
same list)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from accounts.validators import Activity, Mood
from catalog.api.serializers import TrackSerializer
from musicrec.api.filters import StrictFloatField, StrictIntegerField
from musicrec.api.schema_params import integer_schema, number_schema, query_parameter

N_DEFAULT = 5
N_MAX = 100
SOURCES = "collaborative, content, demographic, popularity"


# --------------------------------------------------------------------------- the query


class RecommendationQueryForm(forms.Form):
    """``?n=&mood=&activity=&discovery=``, parsed exactly as the schema states them (ASCII
    numbers, no value left empty but mood and activity, whose ``""`` means "none for this
    list")."""

    n = StrictIntegerField(min_value=1, max_value=N_MAX, required=False)
    mood = forms.ChoiceField(choices=[("", "none"), *Mood.choices], required=False)
    activity = forms.ChoiceField(choices=[("", "none"), *Activity.choices], required=False)
    discovery = StrictFloatField(min_value=0.0, max_value=1.0, required=False)

    @classmethod
    def from_query(cls, query: QueryDict) -> RecommendationQueryForm:
        """From the query string, each parameter's last value (a parameter repeated is that
        parameter); a missing one is ``None``, not ``""``."""
        return cls(data={name: query[name] for name in cls.base_fields if name in query})

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for name in ("n", "discovery"):
            if self.data.get(name) == "":
                self.add_error(name, forms.ValidationError("Give a value.", code="empty"))
        return data

    def parameters(self) -> dict[str, Any]:
        """The service's keyword arguments: a missing mood or activity is ``None`` (the
        listener's stored one); ``""`` is none for this list."""
        data = self.cleaned_data
        return {
            "n": data["n"] if data.get("n") is not None else N_DEFAULT,
            "mood": data["mood"] if "mood" in self.data else None,
            "activity": data["activity"] if "activity" in self.data else None,
            "discovery": data.get("discovery"),
        }


def _context_schema(values: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": ["", *values]}


QUERY_PARAMETERS: list[OpenApiParameter] = [
    query_parameter(
        "n",
        {**integer_schema(1, N_MAX), "default": N_DEFAULT},
        f"How many results (1–{N_MAX}; default {N_DEFAULT}).",
    ),
    query_parameter(
        "mood",
        _context_schema(Mood.values),
        'The mood of this list only (the stored one is unchanged); `""`: none for this list; '
        "missing: the listener's current mood.",
    ),
    query_parameter(
        "activity",
        _context_schema(Activity.values),
        'The activity of this list only; `""`: none for this list; missing: the listener\'s '
        "current activity.",
    ),
    query_parameter(
        "discovery",
        number_schema(0.0, 1.0),
        "From familiar (0: close to the history, popular) to new (1: less played, further "
        "from the history, new artists), for this list only; missing: the listener's own "
        "(`discovery` of `PUT /api/v1/me/context/`, 0.5 unless set).",
    ),
]


# --------------------------------------------------------------------------- the answer


class ReasonSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="What kind of reason (stable, for programs).")
    source = serializers.CharField(help_text=f"The source it comes from: {SOURCES}.")
    text = serializers.CharField(help_text='For people: "Because you listen to …".')


class RecommendedSerializer(serializers.Serializer):
    position = serializers.IntegerField(min_value=1, max_value=N_MAX, help_text="1 is first.")
    track = TrackSerializer(read_only=True)
    score = serializers.FloatField(help_text="The final score the list is ranked by.")
    confidence = serializers.FloatField(
        min_value=0.0,
        max_value=1.0,
        help_text="How likely the listener is to play it (calibrated on held-out listening).",
    )
    sources = serializers.DictField(
        child=serializers.FloatField(),
        help_text=f"Each source's score of the track ({SOURCES}); a source that did not "
        "propose it is absent.",
    )
    reasons = ReasonSerializer(many=True)


class ParametersSerializer(serializers.Serializer):
    """The parameters the list was computed with (the stored ones where the request gave
    none)."""

    n = serializers.IntegerField(min_value=1, max_value=N_MAX)
    mood = serializers.ChoiceField(choices=Mood.choices, allow_null=True)
    activity = serializers.ChoiceField(choices=Activity.choices, allow_null=True)
    discovery = serializers.FloatField(min_value=0.0, max_value=1.0)


class RecommendationListSerializer(serializers.Serializer):
    impression_id = serializers.UUIDField(
        help_text="This served list: send it with the feedback on its results "
        "(`impression_id` of `POST /api/v1/interactions/`)."
    )
    model_version = serializers.IntegerField(
        allow_null=True, help_text="The collaborative model's version (null before any training)."
    )
    generated_at = serializers.DateTimeField(
        help_text="When the list was computed (earlier than the request when it was cached)."
    )
    parameters = ParametersSerializer()
    weights = serializers.DictField(
        child=serializers.FloatField(),
        help_text=f"How much each source counted for this listener ({SOURCES}).",
    )
    results = RecommendedSerializer(many=True, help_text="Best first; at most `n`.")

    class Meta:
        ref_name = "RecommendationList"
