"""The benchmark report: per-model scores (overall and per demand class) and the side-by-side table."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from forecasting.engine.metrics import score_table

HEADLINE_METRICS = ("WQL", "MASE", "WAPE", "COV80", "below_q0.1", "above_q0.9", "bias", "RMSSE", "MSIS")
OUR_MODEL = "auto"


def _clean(value: float) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def build_report(
    table: pd.DataFrame,
    panel: pd.DataFrame,
    *,
    season_length: int,
    quantiles: Sequence[float],
    seconds: Mapping[str, float],
    forecasts: Mapping[str, int],
    failures: Mapping[str, int],
    notes: Mapping[str, str],
    classes: Mapping[str, str],
    config: Mapping[str, object],
    neural: Mapping[str, dict] | None = None,
) -> dict:
    """Scores of every model of the long table, overall and per demand class, with cost and failures."""
    overall = score_table(table, panel, season_length, quantiles)
    by_class = score_table(table, panel, season_length, quantiles, groups=classes)
    models: dict[str, dict] = {}
    for record in overall.to_dict("records"):
        name = record["model"]
        elapsed = float(seconds.get(name, float("nan")))
        count = int(forecasts.get(name, 0))
        models[name] = {
            **{metric: _clean(record[metric]) for metric in (*HEADLINE_METRICS, "MAE", "RMSE", "sMAPE", "MAPE", "R2")},
            "series": int(record["series"]),
            "forecasts": count,
            "seconds": round(elapsed, 3),
            "series_per_second": round(count / elapsed, 2) if elapsed > 0 else None,
            "failures": int(failures.get(name, 0)),
            "note": notes.get(name, ""),
        }
        if neural and name in neural:
            models[name]["neural"] = dict(neural[name])
    per_class: dict[str, dict[str, dict]] = {}
    for record in by_class.to_dict("records"):
        per_class.setdefault(record["model"], {})[record["group"]] = {
            **{metric: _clean(record[metric]) for metric in HEADLINE_METRICS},
            "series": int(record["series"]),
        }
    class_counts = pd.Series(classes).value_counts().sort_index()
    return {
        "config": dict(config),
        "classes": {label: int(count) for label, count in class_counts.items()},
        "models": models,
        "by_class": per_class,
    }


def _format(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def side_by_side(report: Mapping, *, ours: str = OUR_MODEL) -> str:
    """One text table of every model with, for each other model, the ratios ours / that model."""
    models = report["models"]
    reference = models.get(ours)
    header = ["model", "WQL", "MASE", "WAPE", "COV80", "bias", "seconds", "series/s", "fails"]
    if reference:
        header += [f"{ours}/it WQL", f"{ours}/it MASE", f"{ours}/it series/s"]
    lines = [header]
    for name, scores in models.items():
        row = [
            name,
            _format(scores["WQL"]),
            _format(scores["MASE"]),
            _format(scores["WAPE"]),
            _format(scores["COV80"]),
            _format(scores["bias"]),
            _format(scores["seconds"], 1),
            _format(scores["series_per_second"], 1),
            str(scores["failures"]),
        ]
        if reference:
            row += [
                _ratio(reference["WQL"], scores["WQL"]),
                _ratio(reference["MASE"], scores["MASE"]),
                _ratio(reference["series_per_second"], scores["series_per_second"]),
            ]
        lines.append(row)
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    rendered = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        for line in lines
    ]
    notes = [f"  {name}: {scores['note']}" for name, scores in models.items() if scores.get("note")]
    if notes:
        rendered += ["notes:", *notes]
    return "\n".join(rendered)


def _ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs == 0:
        return "-"
    return f"{ours / theirs:.3f}"


def markdown_table(report: Mapping, *, ours: str = OUR_MODEL) -> str:
    """The side-by-side table as Markdown (for docs/benchmarks.md)."""
    models = report["models"]
    reference = models.get(ours, {})
    columns = ["model", "WQL", "MASE", "WAPE", "COV80", "y<q0.1", "y>q0.9", "bias", "series/s", "fails"]
    columns += [f"{ours}/it WQL", f"{ours}/it MASE", f"{ours}/it speed"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for name, scores in models.items():
        cells = [
            name,
            _format(scores["WQL"]),
            _format(scores["MASE"]),
            _format(scores["WAPE"]),
            _format(scores["COV80"]),
            _format(scores.get("below_q0.1")),
            _format(scores.get("above_q0.9")),
            _format(scores["bias"]),
            _format(scores["series_per_second"], 1),
            str(scores["failures"]),
            _ratio(reference.get("WQL"), scores["WQL"]),
            _ratio(reference.get("MASE"), scores["MASE"]),
            _ratio(reference.get("series_per_second"), scores["series_per_second"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
