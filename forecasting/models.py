"""Forecast runs and results (added by the sales-forecast pipeline)."""

from __future__ import annotations
