"""A client generated from the live schema, as the mobile apps are, drives a listener's flow.

openapi-python-client (pinned in requirements-dev.txt) generates a Python client from
``GET /api/schema/`` into a temporary folder, with no formatter run after it (no network, no
other tool); the test imports it and signs up, signs in, sets demographics, searches, fills the
history up to the warning, records interactions, uploads an import and follows it, takes the
offer, exports and deletes the account — against the Django WSGI application in process
(``httpx.WSGITransport``), on the test's database.

Every answer must parse into the generated model of its status (``raise_on_unexpected_status``:
an undocumented status raises) and carry no key the schema does not name. So a schema change
that would break a mobile client — an operation, a field, a type or a status renamed, removed or
made optional — breaks this test: it no longer imports, calls or parses.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from history.services.imports import listen_import_process
from tests.api.conftest import HISTORY_FIXTURES

PACKAGE = "musicrec_client"
# No post-generation hooks: the default runs ruff over the output, which the test does not need.
# Enums as literal strings: as classes, the generator names each value in upper case and
# refuses values that collide then (a country in both cases, Etc/GMT+0 and Etc/GMT-0); a value
# the schema does not list still fails to parse.
CONFIG = f"package_name_override: {PACKAGE}\npost_hooks: []\nliteral_enums: true\n"
BASE_URL = "http://testserver"
PASSWORD = "pw-Mobile-2025!"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Iterator[ModuleType]:
    """The client package generated from the schema the application serves (the schema view
    reads no database: the module's tests share one generation)."""
    from musicrec.wsgi import application

    # No connection to look after between tests (and none may be touched outside one).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with httpx.Client(
            transport=httpx.WSGITransport(app=application), base_url=BASE_URL
        ) as http:
            schema = http.get("/api/schema/", params={"format": "json"})
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert schema.status_code == 200, schema.text
    folder = tmp_path_factory.mktemp("generated")
    (folder / "schema.json").write_bytes(schema.content)
    (folder / "config.yaml").write_text(CONFIG)
    generation = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(folder / "schema.json"),
            "--config",
            str(folder / "config.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(folder / PACKAGE),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generation.returncode == 0, generation.stdout + generation.stderr
    sys.path.insert(0, str(folder))
    try:
        package = importlib.import_module(PACKAGE)
        importlib.import_module(f"{PACKAGE}.models")
        importlib.import_module(f"{PACKAGE}.types")
        yield package
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.fixture
def transport(in_process_app) -> httpx.WSGITransport:
    return httpx.WSGITransport(app=in_process_app)


def test_every_operation_of_the_generated_client_imports(generated):
    """Each operation of the schema is a module of the client that imports (a schema the
    generator reads wrongly gives code that does not run)."""
    operations = Path(generated.__file__).parent / "api" / "v1"
    names = sorted(path.stem for path in operations.glob("v1_*.py"))
    assert len(names) >= 28
    broken = {}
    for name in names:
        try:
            importlib.import_module(f"{PACKAGE}.api.v1.{name}")
        except Exception as error:  # every broken module, not only the first
            broken[name] = f"{type(error).__name__}: {error}"
    assert broken == {}


def undocumented(value: Any, path: str = "") -> list[str]:
    """Keys of an answer that its schema does not name (a generated model keeps them aside in
    ``additional_properties``), anywhere in it."""
    if attrs.has(type(value)):
        found = [f"{path}.{key}" for key in getattr(value, "additional_properties", {})]
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                found += undocumented(getattr(value, field.name), f"{path}.{field.name}")
        return found
    if isinstance(value, list):
        return [
            key
            for index, item in enumerate(value)
            for key in undocumented(item, f"{path}[{index}]")
        ]
    return []


class Api:
    """The generated operations by operation id, each answer checked: its status, its model,
    nothing undocumented in it."""

    def __init__(self, generated: ModuleType, client: Any) -> None:
        self.generated = generated
        self.client = client

    def __call__(self, operation_id: str, status: int, model: str | None, **kwargs: Any) -> Any:
        operation = importlib.import_module(f"{PACKAGE}.api.v1.{operation_id}")
        answer = operation.sync_detailed(client=self.client, **kwargs)
        assert answer.status_code == status, (operation_id, answer.status_code, answer.content)
        if model is not None:
            expected = getattr(self.generated.models, model)
            assert isinstance(answer.parsed, expected), (operation_id, answer.parsed)
            assert undocumented(answer.parsed) == [], (operation_id, undocumented(answer.parsed))
        return answer.parsed


def test_a_listener_from_sign_up_to_account_deletion(generated, transport):
    models = generated.models
    unset = generated.types.UNSET
    anonymous = Api(
        generated,
        generated.Client(
            base_url=BASE_URL, httpx_args={"transport": transport}, raise_on_unexpected_status=True
        ),
    )

    # sign up, then sign in
    profile = anonymous(
        "v1_auth_register_create",
        201,
        "Profile",
        body=models.RegisterRequest(
            username="mobile", email="mobile@example.com", password=PASSWORD
        ),
    )
    assert (profile.username, profile.history.count, profile.history.limit) == ("mobile", 0, 50)
    pair = anonymous(
        "v1_auth_token_create",
        200,
        "TokenObtainPair",
        body=models.TokenObtainPairRequest(username="mobile", password=PASSWORD),
    )
    api = Api(
        generated,
        generated.AuthenticatedClient(
            base_url=BASE_URL,
            token=pair.access,
            httpx_args={"transport": transport},
            raise_on_unexpected_status=True,
        ),
    )

    # demographics
    profile = api(
        "v1_me_demographics_update",
        200,
        "Profile",
        body=models.DemographicsInputRequest(
            age=31, gender="F", country="DE", occupation="engineer", time_zone="Europe/Berlin"
        ),
    )
    assert (profile.demographics.age, profile.demographics.country) == (31, "DE")

    # search
    found = api("v1_search_retrieve", 200, "SearchResponse", q="beatles")
    assert found.results and all(isinstance(track, models.Track) for track in found.results)

    # the history, up to the warning: none before the 45th entry, then "5 slots remaining"
    tracks = api("v1_tracks_list", 200, "PaginatedTrackList", page_size=60).results
    ids = [track.id for track in tracks]
    for count, track_id in enumerate(ids[:45], start=1):
        added = api(
            "v1_history_create",
            201,
            "HistoryAdded",
            body=models.HistoryAddRequest(track_id=track_id),
        )
        assert (added.count, added.remaining) == (count, 50 - count)
        assert added.warning == ("5 slots remaining" if count == 45 else unset)
    again = api(
        "v1_history_create", 200, "HistoryAdded", body=models.HistoryAddRequest(track_id=ids[0])
    )
    assert (again.count, again.warning) == (45, unset)
    page = api("v1_history_list", 200, "PaginatedHistoryEntryList", page_size=20, page=3)
    assert (page.count, page.limit, page.remaining, len(page.results)) == (45, 50, 5, 5)
    assert page.next_ is None and page.previous is not None

    # interactions
    play = api(
        "v1_interactions_create",
        201,
        "Interaction",
        body=models.InteractionInputRequest(
            track_id=ids[0], kind="play", listened_ms=30_000, mood="happy"
        ),
    )
    assert (play.kind, play.listened_ms, play.mood) == ("play", 30_000, "happy")
    api(
        "v1_interactions_create",
        201,
        "Interaction",
        body=models.InteractionInputRequest(track_id=ids[1], kind="like"),
    )
    plays = api(
        "v1_interactions_list",
        200,
        "PaginatedInteractionList",
        kind=["play"],
        since=dt.date.today() - dt.timedelta(days=1),
        until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1),
    )
    assert [event.id for event in plays.results] == [play.id]

    # an import: upload, its status, the worker's processing, the offer
    export = (HISTORY_FIXTURES / "lastfm_header.csv").read_bytes()
    upload = api(
        "v1_imports_create",
        202,
        "ListenImport",
        body=models.ListenImportUploadRequest(
            file=generated.types.File(
                payload=io.BytesIO(export), file_name="scrobbles.csv", mime_type="text/csv"
            )
        ),
    )
    assert (upload.status, upload.format_) == ("pending", "lastfm_csv")
    pending = api("v1_imports_retrieve", 200, "ListenImportDetail", import_id=upload.id)
    assert (pending.status, pending.progress, pending.offered_tracks) == ("pending", 0, [])
    listen_import_process(import_id=upload.id)  # what the worker does once the upload commits
    done = api("v1_imports_retrieve", 200, "ListenImportDetail", import_id=upload.id)
    assert (done.status, done.progress, done.matched, done.unmatched) == ("done", 100, 4, 1)
    offered = [track.id for track in done.offered_tracks if not track.in_history]
    accepted = api(
        "v1_imports_offer_create",
        200,
        "OfferAccepted",
        import_id=upload.id,
        body=models.OfferAcceptRequest(track_ids=offered[:1]),
    )
    assert (accepted.added, accepted.count, accepted.warning) == (1, 46, "4 slots remaining")
    imports = api("v1_imports_list", 200, "PaginatedListenImportList")
    assert [item.id for item in imports.results] == [upload.id]

    # the export: everything, as JSON
    exported = api("v1_me_export_retrieve", 200, None)
    assert {"history", "interactions"} <= set(exported.additional_properties)

    # delete the account: the token no longer opens anything
    api("v1_me_destroy", 204, None, body=models.DeleteAccountRequest(password=PASSWORD))
    gone = importlib.import_module(f"{PACKAGE}.api.v1.v1_me_retrieve").sync_detailed(
        client=api.client
    )
    assert gone.status_code == 401
    assert isinstance(gone.parsed, models.Error)
