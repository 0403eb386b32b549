"""What the benchmark scripts share: Django set up from a script, and the demo catalog loaded
into the (fresh) bench database that ``python -m musicrec.stack bench`` gives them."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO_CATALOG = ROOT / "catalog" / "data" / "demo_catalog.csv.gz"


def django_setup_with_demo_catalog() -> None:
    """Set Django up (settings from the environment) and load the demo catalog (3,236 tracks)
    unless the database has tracks already."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from catalog.models import Track

    if not Track.objects.exists():
        call_command(
            "import_catalog", str(DEMO_CATALOG), "--no-progress", verbosity=0, stdout=io.StringIO()
        )
