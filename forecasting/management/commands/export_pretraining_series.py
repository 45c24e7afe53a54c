"""python manage.py export_pretraining_series --out PATH.parquet|PATH.csv [--cutoff YYYY-MM-DD] [--min-days 28]"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from forecasting.pretraining_corpus import consenting_merchants, manifest_path, pretraining_series_export


class Command(BaseCommand):
    help = (
        "Writes the daily demand of every merchant whose owner consented to pretraining, as anonymous series "
        "(no SKU, name, price or customer; names shuffled afresh each time), for pretrain_gpt --operator-series; "
        "a manifest beside the file says which merchants went in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="the file to write: .parquet or .csv")
        parser.add_argument(
            "--cutoff", type=dt.date.fromisoformat, default=None, help="last day exported; default each last sale day"
        )
        parser.add_argument("--min-days", type=int, default=28, help="days from a series' first sale to take part")

    def handle(self, *args, **options):
        with tqdm(total=consenting_merchants().count(), desc="merchants", unit="merchant") as bar:

            def advance(merchant, series: int) -> None:
                bar.set_postfix(merchant=merchant.slug, series=series)
                bar.update(1)

            try:
                manifest = pretraining_series_export(
                    out=options["out"], cutoff=options["cutoff"], min_days=options["min_days"], progress=advance
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        merchants = manifest["merchants"]
        self.stdout.write(
            f"{manifest['series']:,} series ({manifest['rows']:,} days) of {len(merchants)} consenting "
            f"merchant{'s' if len(merchants) != 1 else ''} -> {options['out']}; manifest "
            f"{manifest_path(Path(options['out']))}"
        )
        if not merchants:
            self.stdout.write("no merchant has consented: the file holds no series")
