"""The staff pages of experiments (/staff/experiments/ and /staff/experiments/<id>/) and the
report API (GET /api/v1/experiments/{id}/report/): who may see them, what they show."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from recommendations.models import Experiment, ExperimentVariant
from tests.recommendations.experiments.test_report import _experiment

pytestmark = pytest.mark.django_db

LIST = "/staff/experiments/"


def _report_url(experiment):
    return reverse("recommendations:experiment_report", kwargs={"experiment_id": experiment.pk})


def _api_url(pk):
    return f"/api/v1/experiments/{pk}/report/"


def test_urls_are_where_the_issue_says():
    assert reverse("recommendations:experiment_list") == LIST
    assert reverse("recommendations:experiment_report", kwargs={"experiment_id": 7}) == (
        "/staff/experiments/7/"
    )


def test_a_visitor_is_sent_to_sign_in_and_a_listener_refused(client, listener_web, split_data):
    for url in (LIST, _report_url(split_data)):
        answer = client.get(url)
        assert answer.status_code == 302
        assert answer["Location"].startswith(reverse("accounts:login"))
        assert listener_web.get(url).status_code == 403


def test_the_pages_are_read_only_every_method_refused_as_get_is_and_writes_405(
    client, listener_web, curator_web, split_data
):
    for url in (LIST, _report_url(split_data)):
        for method in ("head", "post", "put", "delete", "options"):
            assert getattr(client, method)(url).status_code == 302
            assert getattr(listener_web, method)(url).status_code == 403
        assert curator_web.head(url).status_code == 200
        for method in ("post", "put", "delete"):
            assert getattr(curator_web, method)(url).status_code == 405


def test_the_list_shows_each_experiment_with_its_status(curator_web):
    now = timezone.now()
    running = _experiment()
    Experiment.objects.create(name="<b>later</b>", starts_at=now + dt.timedelta(days=1))
    page = curator_web.get(LIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert f'href="{_report_url(running)}"' in html
    assert "Running" in html and "Scheduled" in html and "Split test" in html
    assert "&lt;b&gt;later&lt;/b&gt;" in html and "<b>later</b>" not in html
    assert "control, b" in html
    # and where to define another or stop one
    assert (
        f'href="{reverse("admin:recommendations_experiment_add")}">Define a new experiment' in html
    )
    assert f'href="{reverse("admin:recommendations_experiment_changelist")}">stop one' in html


def test_the_list_without_experiments_says_what_to_do(curator_web):
    html = curator_web.get(LIST).content.decode()
    assert "No experiments yet" in html
    # the link leads straight to the form that defines one
    add = reverse("admin:recommendations_experiment_add")
    assert f'href="{add}">Define one in the admin' in html


def test_the_report_page_shows_figures_intervals_and_verdict(curator_web, split_data, low_minimum):
    html = curator_web.get(_report_url(split_data)).content.decode()
    # definition: the variants and their parameters
    assert "More content" in html and "&quot;content&quot;: 0.4" in html
    # the rates as numbers with their intervals (control 3/8, b 7/8: hand computed in
    # test_report.py)
    assert "37.5 % (13.7 %–69.4 %)" in html
    assert "87.5 % (52.9 %–97.8 %)" in html
    # the difference says its unit once: "+50.0 points (+x to +y)"
    assert re.search(r"\+50\.0 points \([+\u2212]\d+\.\d to \+\d+\.\d\)", html), html
    assert "More content is better than Control" in html
    assert "played or liked within the attribution window" in html
    assert "within 30 minutes after the list was served" in html
    # the bars repeat the numbers
    assert html.count('class="interval-range"') == 3


def test_the_report_page_says_how_many_more_lists_are_needed(curator_web, split_data):
    html = curator_web.get(_report_url(split_data)).content.decode()
    assert "Not enough data yet: 98 more lists needed" in html


def test_the_report_of_an_experiment_without_lists(curator_web):
    experiment = _experiment()
    experiment.description = "<script>alert(1)</script>"
    experiment.save()
    html = curator_web.get(_report_url(experiment)).content.decode()
    assert "No lists served in this experiment yet" in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    # said once: no per-variant "not enough data yet" lines under the empty table
    assert "Control: not enough data yet" not in html


def test_the_report_links_to_the_experiment_in_the_admin_to_stop_it(curator_web, split_data):
    html = curator_web.get(_report_url(split_data)).content.decode()
    changelist = reverse("admin:recommendations_experiment_changelist")
    assert f'href="{changelist}?id__exact={split_data.pk}">Stop it (or change it) in the admin' in (
        html
    )
    assert "until stopped" in html and " , until" not in html


def test_a_stopped_experiment_reads_stopped_at_once_not_a_minute_later(curator_web, split_data):
    assert "status-running" in curator_web.get(_report_url(split_data)).content.decode()

    split_data.stopped_at = timezone.now()
    split_data.save(update_fields=["stopped_at"])

    # the report kept in the cache was of the running experiment: not shown any more
    html = curator_web.get(_report_url(split_data)).content.decode()
    assert "status-stopped" in html and "status-running" not in html
    assert "See it in the admin" in html
    # and its figures are said to be final (a "not enough data yet" will not fill up)
    assert "This experiment is stopped: no list is served in it any more" in html


def test_a_running_experiment_is_not_said_to_be_over(curator_web, split_data):
    html = curator_web.get(_report_url(split_data)).content.decode()
    assert "these figures are final" not in html


def test_an_interleaving_report_without_lists_shows_no_p_value(curator_web):
    experiment = _experiment(mode="interleave")
    html = curator_web.get(_report_url(experiment)).content.decode()
    assert "p-value (exact binomial, two-sided)</dt><dd>–</dd>" in html


def test_the_interleaving_report_page(curator_web, interleaved_data, low_minimum):
    html = curator_web.get(_report_url(interleaved_data)).content.decode()
    assert "Interleaving: which variant" in html
    assert "Won by b</dt><dd>2" in html and "Won by control</dt><dd>1" in html
    assert "66.7 % (20.8 %–93.9 %)" in html
    assert "No difference shown yet between More content and Control" in html


def test_an_unknown_experiment_is_a_404(curator_web):
    assert curator_web.get("/staff/experiments/999999/").status_code == 404
    assert curator_web.get(f"/staff/experiments/{2**64}/").status_code == 404


# ------------------------------------------------------------------------------------------ API


def test_the_api_refuses_visitors_and_listeners(api_client, listener_api, split_data):
    assert api_client.get(_api_url(split_data.pk)).status_code == 401
    refused = listener_api.get(_api_url(split_data.pk))
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"


def test_the_api_gives_the_same_figures(curator, split_data, low_minimum):
    staff = APIClient()
    staff.force_authenticate(curator)
    body = staff.get(_api_url(split_data.pk)).json()
    assert (body["name"], body["mode"], body["status"]) == ("Blend split", "split", "running")
    control, b = body["variants"]
    assert control["click_through"]["value"] == pytest.approx(0.375)
    assert control["click_through"]["low"] == pytest.approx(0.13684, abs=1e-4)
    assert control["comparison"] is None
    assert b["comparison"]["verdict"] == "better"
    assert b["comparison"]["difference"]["value"] == pytest.approx(0.5)
    assert b["parameters"] == {"weights": {"content": 0.4}}
    assert body["interleaving"] is None
    assert body["min_lists"] == 2 and body["attribution_minutes"] == 30


def test_the_api_of_an_interleaving_experiment(curator, interleaved_data, low_minimum):
    staff = APIClient()
    staff.force_authenticate(curator)
    mixed = staff.get(_api_url(interleaved_data.pk)).json()["interleaving"]
    assert mixed["wins"] == [{"variant": "control", "wins": 1}, {"variant": "b", "wins": 2}]
    assert mixed["p_value"] == 1.0 and mixed["verdict"] == "no difference shown yet"


def test_the_api_answers_404_for_an_unknown_experiment(curator):
    staff = APIClient()
    staff.force_authenticate(curator)
    for pk in (999999, 2**63, 2**70):
        answer = staff.get(_api_url(pk))
        assert answer.status_code == 404
        assert answer.json()["code"] == "not_found"


def test_variants_without_a_name_show_their_key(curator_web, low_minimum):
    experiment = Experiment.objects.create(name="Keys")
    ExperimentVariant.objects.create(experiment=experiment, key="a")
    ExperimentVariant.objects.create(experiment=experiment, key="b2")
    html = curator_web.get(_report_url(experiment)).content.decode()
    assert "<strong>a</strong>" in html and "<strong>b2</strong>" in html
