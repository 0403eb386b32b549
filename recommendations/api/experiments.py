"""Staff API of ranking experiments: ``GET /api/v1/experiments/{id}/report/``, the figures of
the report page (``recommendations.selectors.experiment_reports``) as JSON.

Thin: look the experiment up, call the cached report selector, serialise. Staff only: a request
without a sign-in is a 401, a listener's a 403, an unknown experiment a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.models import ID_MAX
from musicrec.api.schema import error_responses
from musicrec.api.schema_params import integer_schema
from recommendations.engine.experiments import BETTER, NO_DIFFERENCE, NOT_ENOUGH, WORSE
from recommendations.models import Experiment, ExperimentMode
from recommendations.selectors.experiment_reports import DEFINITIONS, experiment_report

VERDICTS = [BETTER, WORSE, NO_DIFFERENCE, NOT_ENOUGH]
STATUSES = ["running", "scheduled", "ended", "stopped"]


class IntervalSerializer(serializers.Serializer):
    value = serializers.FloatField(help_text="The estimate.")
    low = serializers.FloatField(help_text="Lower end of its 95 % interval.")
    high = serializers.FloatField(help_text="Upper end of its 95 % interval.")

    class Meta:
        ref_name = "ExperimentInterval"


def _rate(help_text: str) -> IntervalSerializer:
    return IntervalSerializer(allow_null=True, help_text=f"{help_text} (null: nothing served).")


class ComparisonSerializer(serializers.Serializer):
    difference = IntervalSerializer(
        allow_null=True,
        help_text="This variant's click-through minus the control's, with a 95 % interval from "
        "a bootstrap over listeners (null: a side has fewer than 2 listeners).",
    )
    verdict = serializers.ChoiceField(choices=VERDICTS)
    sentence = serializers.CharField(help_text="The verdict in words.")

    class Meta:
        ref_name = "ExperimentComparison"


class VariantOutcomeSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    parameters = serializers.JSONField(help_text="The engine parameters this variant changes.")
    control = serializers.BooleanField(
        help_text="The first variant: the others are compared to it."
    )
    listeners = serializers.IntegerField(min_value=0)
    impressions = serializers.IntegerField(min_value=0, help_text="Served lists.")
    served = serializers.IntegerField(min_value=0, help_text="Served tracks.")
    click_through = _rate(DEFINITIONS["click_through"])
    like_rate = _rate(DEFINITIONS["like_rate"])
    skip_rate = _rate(DEFINITIONS["skip_rate"])
    dislike_rate = _rate(DEFINITIONS["dislike_rate"])
    listened_share = _rate(DEFINITIONS["listened_share"])
    listened_plays = serializers.IntegerField(min_value=0)
    enough = serializers.BooleanField(help_text="At least the minimum of lists and listeners.")
    lists_needed = serializers.IntegerField(min_value=0)
    listeners_needed = serializers.IntegerField(min_value=0)
    comparison = ComparisonSerializer(
        allow_null=True, help_text="Against the control (null for the control itself)."
    )

    class Meta:
        ref_name = "ExperimentVariantOutcome"


class WinsSerializer(serializers.Serializer):
    variant = serializers.CharField()
    wins = serializers.IntegerField(min_value=0)

    class Meta:
        ref_name = "ExperimentWins"


class InterleavingSerializer(serializers.Serializer):
    impressions = serializers.IntegerField(min_value=0)
    listeners = serializers.IntegerField(min_value=0)
    with_preference = serializers.IntegerField(min_value=0, help_text="Credited lists.")
    ties = serializers.IntegerField(min_value=0)
    without_click = serializers.IntegerField(min_value=0)
    wins = WinsSerializer(many=True, help_text="Lists credited to each variant.")
    preference = IntervalSerializer(
        allow_null=True,
        help_text="Share of credited lists won by the second variant, with its Wilson interval.",
    )
    p_value = serializers.FloatField(help_text="Exact two-sided binomial (sign) test.")
    enough = serializers.BooleanField()
    lists_needed = serializers.IntegerField(min_value=0)
    listeners_needed = serializers.IntegerField(min_value=0)
    verdict = serializers.ChoiceField(choices=VERDICTS)
    sentence = serializers.CharField()

    class Meta:
        ref_name = "ExperimentInterleaving"


class ExperimentReportSerializer(serializers.Serializer):
    experiment_id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    mode = serializers.ChoiceField(choices=ExperimentMode.choices)
    mode_label = serializers.CharField()
    status = serializers.ChoiceField(choices=STATUSES)
    share = serializers.FloatField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    stopped_at = serializers.DateTimeField(allow_null=True)
    attribution_minutes = serializers.FloatField()
    min_lists = serializers.IntegerField()
    min_listeners = serializers.IntegerField()
    variants = VariantOutcomeSerializer(many=True)
    interleaving = InterleavingSerializer(
        allow_null=True, help_text="Interleaving experiments only (null for a split test)."
    )
    computed_at = serializers.DateTimeField()
    definitions = serializers.DictField(child=serializers.CharField())

    class Meta:
        ref_name = "ExperimentReport"


class ExperimentReportView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        operation_id="v1_experiments_report_retrieve",
        parameters=[
            OpenApiParameter(
                "id", integer_schema(1, ID_MAX), OpenApiParameter.PATH, description="experiment id"
            )
        ],
        responses={200: ExperimentReportSerializer, **error_responses(401, 403, 404, 429)},
        description="The outcome report of a ranking experiment (staff only): per variant its "
        "listeners, served lists and tracks, click-through, like, skip and dislike rates and "
        "listened share, each with a 95 % interval, and the difference of its click-through "
        "against the control (the first variant) with a verdict; for an interleaving "
        "experiment, the lists credited to each variant, the preference share, the binomial "
        "p-value and the verdict. Below the minimum of lists and listeners the verdict is "
        "`not enough data yet`. Computed at most once a minute. A listener gets a 403, an "
        "unknown experiment a 404.",
    )
    def get(self, request: Request, pk: int) -> Response:
        experiment = Experiment.objects.filter(pk=pk).first() if pk <= ID_MAX else None
        if experiment is None:
            raise NotFound("No such experiment.")
        report = experiment_report(experiment=experiment)
        return Response(ExperimentReportSerializer(report.as_dict()).data)
