"""The Celery application (worker and beat) of musicrec."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
# implicit (OpenMP) and numpy's OpenBLAS both threading makes training ~2x slower.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

app = Celery("musicrec")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
