"""A pooled yearly level factor: how much last year's demand rose or fell from the recent past into the horizon.

Level models (SES, moving average, Croston/TSB...) forecast roughly the mean of the last few weeks, so they lag a
yearly cycle such as the autumn ramp to Christmas. A SKU rarely has the two or more years and the sales needed
to estimate its own yearly profile, but the shop has one: `yearly_factor` reads it from the panel's aggregate.

For a panel that ends at the cutoff, with year length Y, horizon h and window W, the factor is

    (last year's demand over the h periods after the cutoff's date one year back, per period)
    / (last year's demand over the W periods before that date, per period),

W being about the span a level model averages over (the moving average's 28 periods). With more than one year
of history, the log ratios of up to `max_years` years back are averaged. Everything is read from the panel it is
given, so a backtest that passes a truncated panel gets the factor as it was known at that cutoff.

Robustness, because one year back gives a single noisy draw of the cycle:

- each series' values are capped at its median positive value (a typical sale) before aggregation, so the
  aggregate counts sales of typical size and a few bulk orders cannot swing the shop's factor (the price: on
  series that sell every period the cap also clips seasonal peaks, which damps the factor);
- only series observed over the whole span of both windows count, so SKUs launched in between do not read as
  growth;
- the ratio pools the windows around `neighbours` anchors either side of the date one year back, a week apart
  (a month on monthly data): one window is a single noisy draw of a cycle that moves slowly;
- the log factor is shrunk towards 0 with weight e / (e + prior), e = the number of (series, period) sales
  in the windows used (a sale inside several shifted windows counts in each), and the factor is clipped to
  `bounds`.

Without year + h + W periods of history (counted from the panel's first observed period) the factor is 1.
Year length: 364 days for daily data (52 whole weeks, so both windows one year back hold the same weekdays as
today's and the weekly rhythm cannot leak into the ratio; the 1.25-day drift per year against the calendar is
negligible for 28-day windows), 52 for weekly data, 12 for monthly data.
"""

from __future__ import annotations

import numpy as np

# season length of the data's weekly (or yearly) cycle -> periods in a year
YEAR_LENGTHS: dict[int, int] = {7: 364, 52: 52, 12: 12}


def default_year_length(season_length: int) -> int:
    """Periods per year for data whose shorter season is `season_length`; 0 (no yearly factor) when unknown."""
    return YEAR_LENGTHS.get(int(season_length), 0)


def yearly_factor(
    panel: np.ndarray,
    horizon: int,
    *,
    year_length: int,
    window: int = 28,
    prior: float = 100.0,
    max_years: int = 3,
    neighbours: int = 2,
    bounds: tuple[float, float] = (0.5, 2.0),
) -> float:
    """The pooled yearly level factor of a right-aligned (n, length) panel (NaN = not observed) for the next
    `horizon` periods. See the module docstring."""
    panel = np.asarray(panel, dtype=float)
    if panel.ndim != 2 or year_length <= 0 or horizon <= 0 or window <= 0 or horizon > year_length:
        return 1.0
    n, length = panel.shape
    observed = ~np.isnan(panel)
    any_observed = observed.any(axis=0)
    if n == 0 or not any_observed.any():
        return 1.0
    first = int(np.argmax(any_observed))
    if length - first < year_length + horizon + window:
        return 1.0

    values = np.clip(np.where(observed, panel, np.nan), 0.0, None)
    positive = np.where(values > 0, values, np.nan)
    has_sales = np.isfinite(positive).any(axis=1)
    typical = np.zeros(n)
    if has_sales.any():
        typical[has_sales] = np.nanmedian(positive[has_sales], axis=1)
    capped = np.minimum(np.nan_to_num(values), typical[:, None])

    shift = max(year_length // 52, 1)
    log_ratios = []
    evidence = 0.0
    for years in range(1, max_years + 1):
        centre = length - years * year_length
        if centre - window < first:
            break
        after = before = 0.0
        for anchor in centre + shift * np.arange(-neighbours, neighbours + 1):
            start, stop = anchor - window, anchor + horizon
            if start < first or stop > length:
                continue
            rows = observed[:, start:stop].all(axis=1)
            after += capped[rows, anchor:stop].sum() / horizon
            before += capped[rows, start:anchor].sum() / window
            evidence += float(np.sum(values[rows, start:stop] > 0))
        if after > 0 and before > 0:
            log_ratios.append(np.log(after / before))
    if not log_ratios:
        return 1.0
    weight = evidence / (evidence + prior)
    factor = float(np.exp(weight * np.mean(log_ratios)))
    return float(np.clip(factor, *bounds))
