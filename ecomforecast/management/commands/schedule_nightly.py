"""python manage.py schedule_nightly [--hour 2] [--minute 30]: one beat entry per merchant, defined in code."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from ecomforecast.models import Merchant

TASK = "ecomforecast.tasks.nightly_pipeline"


class Command(BaseCommand):
    help = "Create or update the nightly pipeline schedule of every merchant (in each merchant's time zone)."

    def add_arguments(self, parser):
        parser.add_argument("--hour", type=int, default=2, choices=range(24))
        parser.add_argument("--minute", type=int, default=30, choices=range(60))

    @transaction.atomic
    def handle(self, *args, **options):
        names = []
        for merchant in Merchant.objects.order_by("pk"):
            schedule, _ = CrontabSchedule.objects.get_or_create(
                minute=str(options["minute"]),
                hour=str(options["hour"]),
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=merchant.timezone,
            )
            name = f"nightly pipeline: {merchant.slug}"
            PeriodicTask.objects.update_or_create(
                name=name,
                defaults={"task": TASK, "crontab": schedule, "args": json.dumps([merchant.pk]), "enabled": True},
            )
            names.append(name)
        stale = PeriodicTask.objects.filter(task=TASK).exclude(name__in=names)
        removed = stale.count()
        stale.delete()
        self.stdout.write(f"{len(names)} nightly schedule(s) in place, {removed} stale removed")
