"""The Celery application: queues, routes and reliability defaults (see DESIGN.md, Celery)."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ecomforecast.settings")

QUEUES = ("default", "forecast_cpu", "forecast_gpu", "planning")

app = Celery("ecomforecast")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue(name) for name in QUEUES]
app.conf.task_default_queue = "default"
app.autodiscover_tasks()
