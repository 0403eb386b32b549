"""The curators' admin of experiments: defined with inline variants, checked as the engine
checks them, fixed once started, stopped by an action, kept while it has impressions, and
reachable only by staff with the permissions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from recommendations.models import Experiment, ExperimentVariant, Impression
from recommendations.services.experiments import VariantSpec, experiment_create

pytestmark = pytest.mark.django_db

ADD = "/admin/recommendations/experiment/add/"
LIST = "/admin/recommendations/experiment/"


def _form(
    *,
    name: str = "Less content",
    mode: str = "split",
    share: str = "0.5",
    starts: dt.datetime | None = None,
    ends: dt.datetime | None = None,
    variants: list[tuple[str, str]] | None = None,
) -> dict[str, str]:
    starts = starts or timezone.now() + dt.timedelta(days=1)
    variants = variants if variants is not None else [("control", "{}"), ("b", "{}")]
    data = {
        "name": name,
        "description": "",
        "mode": mode,
        "share": share,
        "starts_at_0": starts.strftime("%Y-%m-%d"),
        "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%Y-%m-%d") if ends else "",
        "ends_at_1": ends.strftime("%H:%M:%S") if ends else "",
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "2",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for at, (key, parameters) in enumerate(variants):
        data.update(
            {
                f"variants-{at}-key": key,
                f"variants-{at}-name": key.title(),
                f"variants-{at}-weight": "1",
                f"variants-{at}-parameters": parameters,
            }
        )
    return data


def _errors(response) -> str:
    return response.content.decode()


def test_a_curator_defines_an_experiment_with_its_variants(superuser_web, superuser):
    response = superuser_web.post(
        ADD,
        _form(variants=[("control", "{}"), ("less-content", '{"weights": {"content": 0.01}}')]),
    )

    assert response.status_code == 302, _errors(response)
    experiment = Experiment.objects.get(name="Less content")
    assert experiment.created_by == superuser
    assert experiment.share == 0.5
    assert len(experiment.salt) == 16
    variants = {
        v.key: v.parameters for v in ExperimentVariant.objects.filter(experiment=experiment)
    }
    assert variants == {"control": {}, "less-content": {"weights": {"content": 0.01}}}


def test_bad_parameters_are_refused_with_each_problem_on_the_field(superuser_web):
    response = superuser_web.post(
        ADD,
        _form(
            variants=[
                ("control", '{"discovery": 3, "colour": "red"}'),
                ("b", '{"predictors": {"content": "off"}}'),
            ]
        ),
    )

    assert response.status_code == 200
    page = _errors(response)
    assert "discovery must be a number from 0 to 1" in page
    assert "unknown parameter &#x27;colour&#x27;" in page
    assert "predictors.content must be true or false" in page
    assert not Experiment.objects.exists()


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (_form(variants=[("only", "{}")]), "at least two variants"),
        (
            _form(mode="interleave", variants=[("a", "{}"), ("b", "{}"), ("c", "{}")]),
            "Interleaving compares exactly two variants",
        ),
        (_form(share="0"), "The share must be above 0 and at most 1"),
        (_form(share="1.5"), "The share must be above 0 and at most 1"),
        (
            _form(
                starts=timezone.now() + dt.timedelta(days=2),
                ends=timezone.now() + dt.timedelta(days=1),
            ),
            "An experiment must end after it starts",
        ),
        (_form(variants=[("same", "{}"), ("same", "{}")]), "Please correct the duplicate"),
    ],
)
def test_an_experiment_that_cannot_run_is_refused(superuser_web, form, message):
    response = superuser_web.post(ADD, form)

    assert response.status_code == 200
    assert message in _errors(response)
    assert not Experiment.objects.exists()


@pytest.fixture
def started(curator) -> Experiment:
    return experiment_create(
        name="Started",
        variants=[VariantSpec(key="control"), VariantSpec(key="b", parameters={"relevance": 0.5})],
        by=curator,
        starts_at=timezone.now() - dt.timedelta(hours=1),
    )


def test_a_started_experiment_s_definition_is_read_only(superuser_web, started):
    url = f"{LIST}{started.pk}/change/"
    page = superuser_web.get(url).content.decode()

    # the mode, start and variants' keys and parameters are shown, not editable
    assert 'name="mode"' not in page
    assert 'name="starts_at_0"' not in page
    assert 'name="variants-0-parameters"' not in page
    assert 'name="variants-0-key"' not in page
    assert "{&quot;relevance&quot;: 0.5}" in page
    # its name and share still are
    assert 'name="name"' in page and 'name="share"' in page

    # and a forged post cannot change them
    variant_ids = list(started.variants.order_by("id").values_list("id", flat=True))
    response = superuser_web.post(
        url,
        {
            "name": "Started (renamed)",
            "description": "",
            "mode": "interleave",
            "share": "0.8",
            "ends_at_0": "",
            "ends_at_1": "",
            "variants-TOTAL_FORMS": "2",
            "variants-INITIAL_FORMS": "2",
            "variants-MIN_NUM_FORMS": "2",
            "variants-MAX_NUM_FORMS": "1000",
            "variants-0-id": str(variant_ids[0]),
            "variants-0-experiment": str(started.pk),
            "variants-0-name": "Control",
            "variants-0-key": "hacked",
            "variants-0-parameters": '{"relevance": 0.1}',
            "variants-1-id": str(variant_ids[1]),
            "variants-1-experiment": str(started.pk),
            "variants-1-name": "B",
        },
    )
    assert response.status_code == 302, _errors(response)
    started.refresh_from_db()
    assert (started.name, started.share, started.mode) == ("Started (renamed)", 0.8, "split")
    keys = {v.key: v.parameters for v in started.variants.all()}
    assert keys == {"control": {}, "b": {"relevance": 0.5}}


def test_stop_now_stops_the_selected_experiments(superuser_web, started):
    response = superuser_web.post(
        LIST, {"action": "stop_now", "_selected_action": [str(started.pk)]}, follow=True
    )

    assert response.status_code == 200
    started.refresh_from_db()
    assert started.stopped_at is not None
    assert "Stopped 1 experiment. Nobody is assigned" in response.content.decode()

    # stopping it again says it was already stopped
    response = superuser_web.post(
        LIST, {"action": "stop_now", "_selected_action": [str(started.pk)]}, follow=True
    )
    assert "Nothing stopped; 1 was already stopped or ended, left as it was." in (
        response.content.decode()
    )


def test_the_list_shows_status_mode_share_variants_and_impressions(
    superuser_web, started, listener
):
    Impression.objects.create(
        user=listener, surface="api", experiment=started, variant="b", items=[]
    )
    Impression.objects.create(
        user=listener, surface="api", experiment=started, variant="control", items=[]
    )

    page = superuser_web.get(LIST).content.decode()

    assert "Started" in page
    assert "running" in page
    assert "Split test" in page
    assert "100%" in page
    assert "control (×1), b (×1)" in page
    assert '<td class="field-impressions">2</td>' in page


def test_an_experiment_with_impressions_is_not_deleted(superuser_web, started, listener):
    Impression.objects.create(
        user=listener, surface="api", experiment=started, variant="b", items=[]
    )
    url = f"{LIST}{started.pk}/delete/"

    page = superuser_web.get(url).content.decode()
    superuser_web.post(url, {"post": "yes"})

    assert "has served lists" in page
    assert Experiment.objects.filter(pk=started.pk).exists()


def test_an_experiment_without_impressions_may_be_deleted(superuser_web, started):
    response = superuser_web.post(f"{LIST}{started.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Experiment.objects.filter(pk=started.pk).exists()


def test_listeners_and_staff_without_the_permission_cannot_reach_it(
    listener_web, curator_web, curator, started
):
    # a listener is sent to the admin's sign-in; a curator without the permissions is refused
    for url in (LIST, ADD, f"{LIST}{started.pk}/change/"):
        assert listener_web.get(url).status_code == 302
        assert curator_web.get(url).status_code == 403

    # given the model's permissions, the curator may
    curator.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="recommendations",
            codename__in=["view_experiment", "change_experiment", "view_experimentvariant"],
        )
    )
    assert curator_web.get(LIST).status_code == 200


def test_the_add_form_offers_two_variants_and_says_what_parameters_may_set(superuser_web):
    page = superuser_web.get(ADD).content.decode()

    assert 'name="variants-0-parameters"' in page and 'name="variants-1-parameters"' in page
    assert 'name="variants-2-parameters"' not in page
    # the help text names the engine's real fields
    for name in ("history_scale", "popularity_floor", "demographic", "relevance", "discovery"):
        assert name in page


def test_the_variants_help_is_written_out_not_only_in_a_tooltip(superuser_web):
    page = superuser_web.get(ADD).content.decode()

    # the tabular inline puts help in an icon's title only: here it is a visible list too
    help_block = page.split('id="variant-help"', 1)[1].split("</div>", 1)[0]
    assert "The first variant is the control" in help_block
    assert "<dt>Parameters</dt>" in help_block and "history_scale" in help_block
    assert "<dt>Weight</dt>" in help_block and "1 and 1 is half each" in help_block
    assert "<dt>Key</dt>" in help_block


def test_parameters_that_are_not_json_say_how_to_write_them(superuser_web):
    response = superuser_web.post(ADD, _form(variants=[("control", "{}"), ("b", "{weights: 0.3")]))

    assert response.status_code == 200
    assert "Not valid JSON. Names and text take double quotes" in _errors(response)
    assert not Experiment.objects.exists()


def test_admin_pages_name_the_site_s_icon(superuser_web):
    # without it the browser asks for /favicon.ico, a 404 on every admin page
    for url in (ADD, LIST, "/admin/"):
        assert (
            'rel="icon" href="/static/img/favicon.svg"' in superuser_web.get(url).content.decode()
        )


HUGE = "1" + "0" * 400  # valid JSON: an integer too large for a float


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (f'{{"pool": {HUGE}}}', "pool must be a whole number from 10 to 2000"),
        (f'{{"weights": {{"content": {HUGE}}}}}', "weights.content must be a number from 0 to 100"),
        (f'{{"discovery": -{HUGE}}}', "discovery must be a number from 0 to 1"),
        ('{"relevance": NaN}', "relevance must be a number from 0 to 1"),
        ('{"artist_prior": Infinity}', "artist_prior must be a number from 0 to 1000"),
        ('{"weights": {"content": {"deep": [1, {"x": 2}]}}}', "weights.content must be a number"),
        ('{"predictors": [true]}', "predictors must be an object"),
        ("[1, 2]", "parameters must be an object"),
    ],
)
def test_huge_or_junk_parameters_are_refused_not_a_server_error(superuser_web, parameters, message):
    response = superuser_web.post(ADD, _form(variants=[("control", "{}"), ("b", parameters)]))

    assert response.status_code == 200
    assert message in _errors(response)
    assert not Experiment.objects.exists()


@pytest.mark.parametrize(
    ("share", "weight"),
    [("nan", "1"), ("inf", "1"), ("1e-9x", "1"), ("1", "99999"), ("1", "0"), ("1", "-1")],
)
def test_a_share_or_weight_out_of_range_is_refused_not_a_server_error(superuser_web, share, weight):
    form = _form(share=share)
    form["variants-1-weight"] = weight

    response = superuser_web.post(ADD, form)

    assert response.status_code == 200
    assert 'class="errorlist' in _errors(response)
    assert not Experiment.objects.exists()


def _spec(key: str) -> VariantSpec:
    return VariantSpec(key=key, name=key, weight=1, parameters={})


def test_an_experiment_behind_one_at_full_share_is_told_it_will_enrol_nobody(superuser_web):
    # given an experiment running at 100 % (listeners are in one experiment at a time)
    experiment_create(
        name="Everyone",
        variants=[_spec("a"), _spec("b")],
        by=None,
        share=1.0,
        starts_at=timezone.now() - dt.timedelta(hours=1),
    )

    # when a curator defines another that runs at the same time
    response = superuser_web.post(ADD, _form(name="Behind", share="0.5"), follow=True)

    # then it is saved, with a warning that names the one ahead and what it means
    assert Experiment.objects.filter(name="Behind").exists()
    page = response.content.decode()
    assert "“Everyone”" in page
    assert "it will enrol nobody while they run" in page


def test_the_warning_gives_the_reach_left_by_a_partial_share(superuser_web):
    experiment_create(
        name="Half",
        variants=[_spec("a"), _spec("b")],
        by=None,
        share=0.5,
        starts_at=timezone.now() - dt.timedelta(hours=1),
    )

    response = superuser_web.post(ADD, _form(name="Next", share="0.8"), follow=True)

    # 0.8 × (1 - 0.5) = 40 %
    assert "it will enrol about 40% of listeners, not 80%" in response.content.decode()


def test_no_warning_without_an_experiment_ahead(superuser_web):
    # a stopped one and one that ends before this one starts take nobody from it
    stopped = experiment_create(
        name="Stopped",
        variants=[_spec("a"), _spec("b")],
        by=None,
        share=1.0,
        starts_at=timezone.now() - dt.timedelta(hours=2),
    )
    Experiment.objects.filter(pk=stopped.pk).update(stopped_at=timezone.now())
    experiment_create(
        name="Over",
        variants=[_spec("a"), _spec("b")],
        by=None,
        share=1.0,
        starts_at=timezone.now() - dt.timedelta(days=3),
        ends_at=timezone.now() - dt.timedelta(days=2),
    )

    response = superuser_web.post(ADD, _form(name="Alone"), follow=True)

    assert Experiment.objects.filter(name="Alone").exists()
    assert "one experiment at a time" not in response.content.decode()
