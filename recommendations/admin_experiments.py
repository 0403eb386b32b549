"""The curators' admin of ranking experiments (docs/experiments.md "Defining an experiment").

An experiment is edited with its variants inline. The forms check what the services and the
engine check (each variant's parameters through ``engine.experiments.variant_parameters_clean``,
every problem shown on its field; two or more variants, exactly two for interleaving; a share in
(0, 1]; an end after the start). Once it has started, its mode, start and variants are read-only:
a change would mix two experiments under one name in one report. "Stop now" and deleting go
through ``services.experiments``; one that served lists cannot be deleted (its report would go).

Who may: staff with the model permissions (``recommendations.*_experiment`` and
``*_experimentvariant``), granted per account or group in the admin as every other model's.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.defaultfilters import pluralize
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from musicrec.errors import ApplicationError
from recommendations.engine.ensemble import SOURCES, WeightParams
from recommendations.engine.experiments import VariantParametersError, variant_parameters_clean
from recommendations.models import Experiment, ExperimentMode, ExperimentVariant, Impression
from recommendations.selectors.experiments import experiment_reach
from recommendations.services.experiments import (
    experiment_delete,
    experiment_delete_refusal,
    experiment_has_started,
    experiment_save,
    experiment_variants_saved,
    experiments_stop,
)

PARAMETERS_HELP = (
    "The engine parameters this variant changes, as JSON; {} keeps the site's own. May set: "
    f'"weights": {{{", ".join(f.name for f in fields(WeightParams))}: numbers 0–100}}; '
    f'"predictors": {{{" / ".join(SOURCES)}: false}} (a predictor off); '
    '"discovery": 0–1 (the default of listeners who never moved theirs); '
    '"relevance": 0–1 (variety strength); "context_strength": 0–1; "max_run", '
    '"artist_limit" (or null), "artist_window": whole numbers; "artist_prior" (or null); '
    '"pool": 10–2000. Example: {"weights": {"content": 0.3}, "predictors": {"demographic": false}}.'
)


def experiment_status(experiment: Experiment, now: Any = None) -> str:
    """scheduled / running / stopped / ended."""
    now = now or timezone.now()
    if experiment.stopped_at is not None:
        return "stopped"
    if experiment.ends_at is not None and experiment.ends_at <= now:
        return "ended"
    return "running" if experiment.starts_at <= now else "scheduled"


class ExperimentForm(forms.ModelForm):
    class Meta:
        model = Experiment
        fields = ("name", "description", "mode", "share", "starts_at", "ends_at")

    def clean_share(self) -> float:
        share = self.cleaned_data["share"]
        if share is None or not 0.0 < share <= 1.0:
            raise ValidationError("The share must be above 0 and at most 1 (1 = everyone).")
        return float(share)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_at = cleaned.get("starts_at") or (self.instance and self.instance.starts_at)
        ends_at = cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", "An experiment must end after it starts.")
        return cleaned


class VariantForm(forms.ModelForm):
    parameters = forms.JSONField(
        required=False,
        initial=dict,
        help_text=PARAMETERS_HELP,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        error_messages={
            "invalid": "Not valid JSON. Names and text take double quotes, e.g. "
            '{"weights": {"content": 0.3}}; {} keeps the site\'s own parameters.'
        },
    )

    class Meta:
        model = ExperimentVariant
        fields = ("key", "name", "weight", "parameters")
        # narrower than the admin's 20em text inputs: the four columns and "Delete?" fit beside
        # the admin's navigation at 1280 px
        widgets = {
            "key": forms.TextInput(attrs={"size": 14}),
            "name": forms.TextInput(attrs={"size": 18}),
        }
        help_texts = {
            "key": "Short name recorded on each served list: letters, digits, - and _ "
            '(e.g. "control", "content-30").',
            "name": "Optional: how the report names it (the key when empty).",
            "weight": "Share of the enrolled listeners, relative to the other variants: "
            "1 and 1 is half each, 3 and 1 three quarters and a quarter.",
        }

    def clean_parameters(self) -> dict[str, Any]:
        try:
            return variant_parameters_clean(self.cleaned_data.get("parameters") or {})
        except VariantParametersError as error:
            raise ValidationError(list(error.problems)) from error


class VariantFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if any(form.errors for form in self.forms):
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE", False)
        ]
        if len(kept) < 2:
            raise ValidationError("An experiment needs at least two variants.")
        if self.instance.mode == ExperimentMode.INTERLEAVE and len(kept) != 2:
            raise ValidationError(
                "Interleaving compares exactly two variants (one list drawn from both)."
            )


class VariantInline(admin.TabularInline):
    model = ExperimentVariant
    form = VariantForm
    formset = VariantFormSet
    extra = 0
    min_num = 2
    # the tabular inline with each column's help written out (not only in a tooltip)
    template = "admin/recommendations/experiment/variant_inline.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and experiment_has_started(experiment=obj):
            return ("key", "weight", "parameters_json")
        return ()

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None and experiment_has_started(experiment=obj):
            return ("key", "name", "weight", "parameters_json")
        return ("key", "name", "weight", "parameters")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and experiment_has_started(experiment=obj):
            return False
        return super().has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and experiment_has_started(experiment=obj):
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="parameters")
    def parameters_json(self, obj: ExperimentVariant) -> str:
        return format_html("<code>{}</code>", json.dumps(obj.parameters, sort_keys=True))


@admin.action(description="Stop now (assigns nobody from the next list on)", permissions=["change"])
def stop_now(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
    stopped = experiments_stop(experiments=list(queryset), by=request.user)
    left = queryset.count() - stopped
    modeladmin.message_user(
        request,
        (f"Stopped {stopped} experiment{pluralize(stopped)}" if stopped else "Nothing stopped")
        + (
            f"; {left} {'was' if left == 1 else 'were'} already stopped or ended, left as "
            f"{'it was' if left == 1 else 'they were'}."
            if left
            else "."
        )
        + (" Nobody is assigned to a stopped experiment from the next list on." if stopped else ""),
        messages.SUCCESS if stopped else messages.INFO,
    )


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    inlines = (VariantInline,)
    actions = (stop_now,)
    list_display = (
        "name",
        "status",
        "mode",
        "share_percent",
        "variants_list",
        "impressions",
        "starts_at",
        "ends_at",
        "report",
    )
    list_filter = ("mode",)
    search_fields = ("name",)
    ordering = ("-starts_at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Experiment]:
        served = (
            Impression.objects.filter(experiment=OuterRef("pk"))
            .order_by()
            .values("experiment")
            .annotate(count=Count("*"))
            .values("count")
        )
        return (
            super()
            .get_queryset(request)
            .prefetch_related("variants")
            .annotate(impression_count=Coalesce(Subquery(served, output_field=IntegerField()), 0))
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = ["name", "description", "mode", "share", "starts_at", "ends_at"]
        if obj is not None:
            fields += ["status", "stopped_at", "salt", "created_by", "created_at"]
        return fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        fixed = ["status", "stopped_at", "salt", "created_by", "created_at"]
        if experiment_has_started(experiment=obj):
            fixed = ["mode", "starts_at", *fixed]
        return fixed

    # ------------------------------------------------------------------ writes (services)
    def save_model(self, request: HttpRequest, obj: Experiment, form: Any, change: bool) -> None:
        experiment_save(experiment=obj, by=request.user)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        experiment_variants_saved(experiment=form.instance)
        self._warn_of_reach(request, form.instance)

    def _warn_of_reach(self, request: HttpRequest, experiment: Experiment) -> None:
        """Say so when experiments ahead of this one take listeners it would have had (a
        listener is in one experiment at a time): with one at 100 % it gets nobody."""
        if experiment.stopped_at is not None:
            return
        reach = experiment_reach(experiment=experiment)
        if not reach.ahead or reach.reach >= reach.share - 1e-9:
            return
        names = ", ".join(f"“{name}”" for name in reach.ahead)
        if reach.reach < 0.005:
            outcome = "it will enrol nobody while they run"
        else:
            outcome = f"it will enrol about {reach.reach:.0%} of listeners, not {reach.share:.0%}"
        self.message_user(
            request,
            f"A listener is in one experiment at a time, and {names} (started earlier, running "
            f"at the same time) take{'s' if len(reach.ahead) == 1 else ''} theirs first: "
            f"{outcome}. Lower their share or stop them to give this one listeners.",
            messages.WARNING,
        )

    def delete_model(self, request: HttpRequest, obj: Experiment) -> None:
        try:
            experiment_delete(experiment=obj)
        except ApplicationError as error:
            self.message_user(request, error.message, messages.ERROR)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        for experiment in queryset:
            self.delete_model(request, experiment)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # an experiment with served lists is shown as "protected": the admin then explains and
        # offers no "Yes, I'm sure" (the service refuses it as well)
        deleted, count, perms_needed, protected = super().get_deleted_objects(objs, request)
        refusals = [experiment_delete_refusal(experiment=obj) for obj in objs]
        return deleted, count, perms_needed, [*protected, *(r for r in refusals if r)]

    # ------------------------------------------------------------------ columns
    @admin.display(description="status")
    def status(self, obj: Experiment) -> str:
        return experiment_status(obj)

    @admin.display(description="share", ordering="share")
    def share_percent(self, obj: Experiment) -> str:
        return f"{obj.share:.0%}"

    @admin.display(description="variants")
    def variants_list(self, obj: Experiment) -> str:
        return format_html_join(
            ", ", "{} (×{})", ((variant.key, variant.weight) for variant in obj.variants.all())
        )

    @admin.display(description="impressions", ordering="impression_count")
    def impressions(self, obj: Experiment) -> int:
        return int(getattr(obj, "impression_count", 0))

    @admin.display(description="report")
    def report(self, obj: Experiment) -> str:
        try:
            url = reverse("recommendations:experiment_report", kwargs={"experiment_id": obj.pk})
        except NoReverseMatch:  # the report page is another part of issue #14
            return "—"
        return format_html('<a href="{}">Report</a>', url)
