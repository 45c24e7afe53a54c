"""Benchmarks of the forecasting engine: `python -m forecasting.bench` (see forecasting/bench/__main__.py)."""
