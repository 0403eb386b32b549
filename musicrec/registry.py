"""Registries that higher layers fill, so that lower layers never import them.

The layers (``docs/architecture.md``) only allow imports downwards: ``accounts`` may not import
``history``, and ``musicrec``'s core may import no app. Yet the listener's data export (an
accounts page), the profile answer of ``/api/v1/me/`` and the deployment gauges of ``/metrics``
must show what every app stores. Each app therefore registers its part in its
``AppConfig.ready()``, and the lower layer iterates the registry:

* :data:`listener_export_parts` — ``name -> part(user)``: a mapping of top-level keys of the
  listener's export. A value may be an iterator (a generator of JSON-ready items), so that a
  long list such as the interaction log is streamed, never built in memory.
* :data:`profile_parts` — ``name -> ProfilePart``: one key of the profile answer, read by a
  selector and described by a serializer (so the OpenAPI schema documents it).
* :data:`metrics_collectors` — ``name -> collect()``: Prometheus metric families of the whole
  deployment, read at scrape time (see ``musicrec.metrics``).
* :data:`tracks_changed` — ``name -> hook(track_ids)``: called by the catalog's services, inside
  the transaction that created or edited these tracks (admin, import command, admin CSV), so a
  higher layer can derive what it keeps per track (the recommender's content vectors) before
  the change is visible.
* :data:`taste_changed` — ``name -> hook(user_id, reason)``: called by the history's and the
  accounts' services after a listener's history, feedback, imports, preferences, context,
  demographics or blocked artists changed (on commit; ``reason`` a ``musicrec.taste.TasteChange``),
  so a higher layer can bring what it derives from them up to date (the listener's collaborative
  vector, cached lists, live updates).
  A hook must not raise for a failure of its own (log it): the write has happened.
* :data:`impression_owners` — ``name -> owns(user_id, impression_id) -> bool``: whether a served
  list (an impression id, a UUID) is this listener's own. The history's interactions may carry
  the id of the list they answer, and must refuse another listener's (or an unknown) one, but
  impressions are the recommender's: it answers here. With no entry, no impression is anyone's.
* :data:`track_admin_actions` — ``name -> action(modeladmin, request, queryset)``: more actions
  of the catalog's Track admin (``@admin.action`` functions; their ``allowed_permissions`` are
  honoured), such as the recommender's "Recompute embeddings for the selected tracks".

Registering the same name again replaces the earlier entry (a re-run of ``ready()`` in tests is
harmless); iteration follows registration order, which follows ``INSTALLED_APPS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Named entries in registration order."""

    def __init__(self, description: str) -> None:
        self.description = description
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T) -> T:
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)


# The user is typed loosely on purpose: the core layer cannot import accounts.User.
ExportPart = Callable[[Any], Mapping[str, Any]]


@dataclass(frozen=True)
class ProfilePart:
    """One key of the listener's profile answer.

    ``read(user)`` returns the key's value (one selector call); ``serializer`` is the DRF
    serializer class that renders and documents it.
    """

    read: Callable[[Any], Any]
    serializer: type


MetricsCollect = Callable[[], Iterable[Any]]
TracksChanged = Callable[[list[int]], None]
TasteChanged = Callable[[int, str], None]
AdminAction = Callable[[Any, Any, Any], Any]
ImpressionOwns = Callable[[int, Any], bool]

listener_export_parts: Registry[ExportPart] = Registry("parts of a listener's data export")
profile_parts: Registry[ProfilePart] = Registry("keys of the listener's profile answer")
metrics_collectors: Registry[MetricsCollect] = Registry("deployment figures of /metrics")
tracks_changed: Registry[TracksChanged] = Registry("what follows a track's creation or edit")
taste_changed: Registry[TasteChanged] = Registry("what follows a change to a listener's taste")
impression_owners: Registry[ImpressionOwns] = Registry("who served lists belong to")
track_admin_actions: Registry[AdminAction] = Registry("more actions of the Track admin")
