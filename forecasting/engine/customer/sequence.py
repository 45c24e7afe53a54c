"""Sequence purchase model: a GRU over each customer's event history, calibrated on a later time split.

Each customer at a snapshot is the sequence of their last `max_events` events before it — purchases (with their
amount), returns, and activity events (views, carts, … when an events table is given) — one token per event:
event kind (one-hot), log amount, log days since the previous event, log days from the event to the snapshot, and
the event's day of year and day of week (sine/cosine). A GRU reads the tokens; its last hidden state, joined with
a few whole-history numbers the capped sequence cannot show (purchase, return and event counts, spend, days since
the last purchase and event, tenure, the snapshot's day of year), feeds one small head with three outputs:
the logit of P(purchase in the next `horizon_days`), the log of the expected purchase count over that horizon
(Poisson loss), and the logit of P(purchase in the next `churn_horizon_days`) when that horizon differs.

Training follows discriminative.PurchaseClassifier's time split (L = the longer of the two horizons):
- training rows: snapshots at c − 2L − k·step (k = 0 .. training_snapshots − 1) and, with seasonal_snapshot, the
  same day one year earlier; every label window ends by the calibration snapshot c − L;
- early stopping on a validation set of customers (all their snapshots) held out of the gradient steps;
- calibration rows: the snapshot c − L labelled with the following h (and M) days, all before c: isotonic or
  Platt calibration of the probabilities and the count-scale factor are fitted there;
- prediction: the sequences at c. Nothing at or after c is read.

Memory stays bounded: tokens are kept as one ragged float32 array (at most `max_events` per customer and
snapshot) and padded per batch; prediction also runs in batches. torch is imported on first use so that the rest
of the customer engine stays light.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecasting.engine.customer.calibration import ProbabilityCalibrator
from forecasting.engine.customer.features import (
    DAY,
    EVENT_COLUMNS,
    holdout_outcomes,
    validate_transactions,
)

PURCHASE, RETURN = 0, 1
# Continuous token columns follow the one-hot kind columns, in this order.
TOKEN_VALUES = ("log_amount", "log_gap_days", "log_age_days", "doy_sin", "doy_cos", "dow_sin", "dow_cos")
STATIC_FEATURES = (
    "has_purchase",
    "log_days_since_last_purchase",
    "log_days_since_last_event",
    "log_tenure_days",
    "log_purchases",
    "log_returns",
    "log_activity_events",
    "log_spend",
    "snapshot_doy_sin",
    "snapshot_doy_cos",
)
PREDICTION_BATCH = 4096


@dataclass(frozen=True)
class SequenceBatchSource:
    """Customers at one or more snapshots: ragged tokens (rows of `tokens` from offsets[i], lengths[i] long)
    and whole-history numbers per customer-snapshot."""

    customers: pd.Index
    tokens: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray
    static: np.ndarray

    def __len__(self) -> int:
        return len(self.lengths)

    def padded(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lengths = self.lengths[rows]
        width = int(lengths.max())
        steps = np.arange(width)
        valid = steps[None, :] < lengths[:, None]
        positions = np.where(valid, self.offsets[rows][:, None] + steps[None, :], 0)
        tokens = self.tokens[positions] * valid[:, :, None]
        return tokens.astype(np.float32), lengths, self.static[rows]


def concatenate_sources(sources: list[SequenceBatchSource]) -> SequenceBatchSource:
    token_counts = np.array([len(source.tokens) for source in sources])
    shifts = np.concatenate([[0], np.cumsum(token_counts)[:-1]])
    return SequenceBatchSource(
        customers=pd.Index(np.concatenate([source.customers.to_numpy() for source in sources])),
        tokens=np.concatenate([source.tokens for source in sources]),
        offsets=np.concatenate([source.offsets + shift for source, shift in zip(sources, shifts, strict=True)]),
        lengths=np.concatenate([source.lengths for source in sources]),
        static=np.concatenate([source.static for source in sources]),
    )


def _cyclic(values: np.ndarray, period: float) -> tuple[np.ndarray, np.ndarray]:
    angle = 2 * np.pi * values / period
    return np.sin(angle), np.cos(angle)


def event_stream(transactions: pd.DataFrame, events: pd.DataFrame | None, kinds: list[str]) -> pd.DataFrame:
    """Purchases, returns and activity events of the known kinds in one table sorted by customer and time, with
    the days since the customer's previous event (0 for the first)."""
    frames = [
        pd.DataFrame(
            {
                "customer_id": transactions["customer_id"].to_numpy(),
                "timestamp": transactions["timestamp"].to_numpy(),
                "code": np.where(transactions["is_return"].to_numpy(), RETURN, PURCHASE),
                "amount": transactions["amount"].to_numpy(dtype=float),
            }
        )
    ]
    if events is not None and len(events) and kinds:
        activity = events[events["kind"].astype(str).isin(kinds)]
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": activity["customer_id"].to_numpy(),
                    "timestamp": pd.to_datetime(activity["timestamp"]).to_numpy(),
                    "code": 2 + pd.Categorical(activity["kind"].astype(str), categories=kinds).codes,
                    "amount": 0.0,
                }
            )
        )
    stream = pd.concat(frames, ignore_index=True).sort_values(["customer_id", "timestamp"], kind="stable")
    stream = stream.reset_index(drop=True)
    stream["gap_days"] = (stream.groupby("customer_id", sort=False)["timestamp"].diff() / DAY).fillna(0.0)
    return stream


def snapshot_sequences(stream: pd.DataFrame, snapshot: pd.Timestamp, *, kinds: int, max_events: int):
    """Every customer with an event before `snapshot`: their last `max_events` tokens and whole-history numbers."""
    history = stream[stream["timestamp"] < snapshot]
    grouped = history.groupby("customer_id", sort=True)
    customers = pd.Index(grouped.size().index)
    from_end = grouped.cumcount(ascending=False).to_numpy()
    recent = history[from_end < max_events]

    code = recent["code"].to_numpy()
    one_hot = np.zeros((len(recent), 2 + kinds), dtype=np.float32)
    one_hot[np.arange(len(recent)), code] = 1.0
    timestamps = pd.DatetimeIndex(recent["timestamp"])
    doy_sin, doy_cos = _cyclic(timestamps.dayofyear.to_numpy(), 365.25)
    dow_sin, dow_cos = _cyclic(timestamps.dayofweek.to_numpy(), 7.0)
    values = np.column_stack(
        [
            np.log1p(np.abs(recent["amount"].to_numpy())),
            np.log1p(recent["gap_days"].to_numpy()),
            np.log1p(((snapshot - timestamps) / DAY).to_numpy()),
            doy_sin,
            doy_cos,
            dow_sin,
            dow_cos,
        ]
    )
    tokens = np.hstack([one_hot, values.astype(np.float32)])
    lengths = recent.groupby("customer_id", sort=True).size().reindex(customers).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    purchases = history[history["code"] == PURCHASE].groupby("customer_id", sort=True)
    purchase_count = purchases.size().reindex(customers).fillna(0.0).to_numpy()
    last_purchase = purchases["timestamp"].max().reindex(customers)
    first_seen = grouped["timestamp"].min()
    # A customer without a purchase is as far from one as they have been known.
    since_purchase = ((snapshot - last_purchase.fillna(first_seen)) / DAY).to_numpy(dtype=float)
    snapshot_sin, snapshot_cos = _cyclic(np.full(len(customers), snapshot.dayofyear), 365.25)
    static = np.column_stack(
        [
            (purchase_count > 0).astype(float),
            np.log1p(since_purchase),
            np.log1p(((snapshot - grouped["timestamp"].max()) / DAY).to_numpy(dtype=float)),
            np.log1p(((snapshot - first_seen) / DAY).to_numpy(dtype=float)),
            np.log1p(purchase_count),
            np.log1p(_count_per_customer(history, history["code"] == RETURN, customers)),
            np.log1p(_count_per_customer(history, history["code"] >= 2, customers)),
            np.log1p(np.maximum(purchases["amount"].sum().reindex(customers).fillna(0.0).to_numpy(), 0.0)),
            snapshot_sin,
            snapshot_cos,
        ]
    ).astype(np.float32)
    return SequenceBatchSource(customers, tokens, offsets.astype(np.int64), lengths.astype(np.int64), static)


def _count_per_customer(history: pd.DataFrame, mask: pd.Series, customers: pd.Index) -> np.ndarray:
    return mask.groupby(history["customer_id"]).sum().reindex(customers).fillna(0).to_numpy(dtype=float)


def _build_network(
    torch, *, token_features: int, static_features: int, hidden_size: int, layers: int, dropout: float, outputs: int
):
    nn = torch.nn

    class SequenceNetwork(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Sequential(nn.Linear(token_features, hidden_size), nn.ReLU())
            self.gru = nn.GRU(
                hidden_size, hidden_size, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0
            )
            self.head = nn.Sequential(
                nn.Linear(hidden_size + static_features, hidden_size),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(hidden_size, outputs),
            )

        def forward(self, tokens, lengths, static):
            packed = nn.utils.rnn.pack_padded_sequence(
                self.embed(tokens), lengths, batch_first=True, enforce_sorted=False
            )
            _, hidden = self.gru(packed)
            return self.head(torch.cat([hidden[-1], static], dim=1))

    return SequenceNetwork()


class SequencePurchaseModel:
    name = "gru_sequence"

    def __init__(
        self,
        *,
        horizon_days: int = 90,
        churn_horizon_days: int | None = None,
        max_events: int = 48,
        hidden_size: int = 32,
        layers: int = 1,
        dropout: float = 0.1,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-5,
        batch_size: int = 256,
        max_epochs: int = 30,
        patience: int = 4,
        validation_fraction: float = 0.2,
        training_snapshots: int = 12,
        snapshot_step_days: int = 30,
        seasonal_snapshot: bool = True,
        calibration: str = "isotonic",
        seed: int = 0,
        device: str = "cpu",
        threads: int | None = None,
    ) -> None:
        self.horizon_days = horizon_days
        self.churn_horizon_days = churn_horizon_days
        self.max_events = max_events
        self.hidden_size = hidden_size
        self.layers = layers
        self.dropout = dropout
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.training_snapshots = training_snapshots
        self.snapshot_step_days = snapshot_step_days
        self.seasonal_snapshot = seasonal_snapshot
        self.calibration = calibration
        self.seed = seed
        self.device = device
        self.threads = threads

    @property
    def _churn_horizon(self) -> int:
        return self.churn_horizon_days or self.horizon_days

    @property
    def _separate_churn_head(self) -> bool:
        return self._churn_horizon != self.horizon_days

    def _check_options(self) -> None:
        if self.horizon_days < 1 or self._churn_horizon < 1:
            raise ValueError("horizon_days and churn_horizon_days must be at least 1")
        if self.max_events < 1 or self.hidden_size < 1 or self.layers < 1 or self.batch_size < 1:
            raise ValueError("max_events, hidden_size, layers and batch_size must be at least 1")
        if not 0.0 < self.validation_fraction < 1.0:
            raise ValueError("validation_fraction must lie strictly between 0 and 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must lie in [0, 1)")

    def _snapshot_plan(self, cutoff: pd.Timestamp, first_seen: pd.Timestamp) -> tuple[list[pd.Timestamp], pd.Timestamp]:
        longest = max(self.horizon_days, self._churn_horizon) * DAY
        calibration_cutoff = cutoff - longest
        training = [
            calibration_cutoff - longest - k * self.snapshot_step_days * DAY for k in range(self.training_snapshots)
        ]
        if self.seasonal_snapshot:
            # The same weeks one year earlier teach the network the season the prediction will fall in.
            training.append(cutoff - 365 * DAY)
        training = [
            snapshot
            for snapshot in sorted(set(training))
            if first_seen < snapshot and snapshot + longest <= calibration_cutoff
        ]
        if not training or calibration_cutoff <= first_seen:
            raise ValueError(
                f"need more than {2 * max(self.horizon_days, self._churn_horizon)} days of history before "
                f"{cutoff.date()} to train and calibrate"
            )
        return training, calibration_cutoff

    def _sequences(self, stream: pd.DataFrame, snapshot: pd.Timestamp) -> SequenceBatchSource:
        return snapshot_sequences(stream, snapshot, kinds=len(self.event_kinds_), max_events=self.max_events)

    def _targets(self, transactions: pd.DataFrame, snapshot: pd.Timestamp, customers: pd.Index) -> np.ndarray:
        outcomes = holdout_outcomes(transactions, cutoff=snapshot, horizon_days=self.horizon_days, customers=customers)
        columns = [outcomes["purchased"].to_numpy(float), outcomes["purchases"].to_numpy(float)]
        if self._separate_churn_head:
            churn = holdout_outcomes(
                transactions, cutoff=snapshot, horizon_days=self._churn_horizon, customers=customers
            )
            columns.append(churn["purchased"].to_numpy(float))
        return np.column_stack(columns).astype(np.float32)

    def _prepare(self, transactions, events, cutoff) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        frame = validate_transactions(transactions)
        frame = frame[frame["timestamp"] < cutoff]
        if events is not None:
            missing = set(EVENT_COLUMNS) - set(events.columns)
            if missing:
                raise ValueError(f"events lack columns: {', '.join(sorted(missing))}")
            events = events[pd.to_datetime(events["timestamp"]) < cutoff]
        return frame, events

    def _scaled(self, source: SequenceBatchSource) -> SequenceBatchSource:
        tokens = source.tokens.copy()
        tokens[:, self.kind_columns_ :] = (tokens[:, self.kind_columns_ :] - self.token_mean_) / self.token_scale_
        static = (source.static - self.static_mean_) / self.static_scale_
        return SequenceBatchSource(source.customers, tokens, source.offsets, source.lengths, static.astype(np.float32))

    def _resolve_device(self, torch) -> str:
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            return "cpu"
        return self.device

    def _tensors(self, torch, source: SequenceBatchSource, rows: np.ndarray):
        tokens, lengths, static = source.padded(rows)
        device = self.device_
        return (
            torch.from_numpy(tokens).to(device),
            torch.from_numpy(lengths),
            torch.from_numpy(np.ascontiguousarray(static)).to(device),
        )

    def _loss(self, torch, outputs, targets):
        functional = torch.nn.functional
        loss = functional.binary_cross_entropy_with_logits(outputs[:, 0], targets[:, 0])
        loss = loss + functional.poisson_nll_loss(outputs[:, 1], targets[:, 1], log_input=True, full=False)
        if self._separate_churn_head:
            loss = loss + functional.binary_cross_entropy_with_logits(outputs[:, 2], targets[:, 2])
        return loss

    def _train(self, torch, network, source: SequenceBatchSource, targets: np.ndarray, progress) -> None:
        rng = np.random.default_rng(self.seed)
        customers = source.customers.unique()
        # Whole customers go to validation so that their other snapshots cannot leak into early stopping.
        validation_customers = rng.choice(
            customers, size=max(1, round(len(customers) * self.validation_fraction)), replace=False
        )
        in_validation = source.customers.isin(validation_customers)
        training_rows, validation_rows = np.flatnonzero(~in_validation), np.flatnonzero(in_validation)
        if len(training_rows) == 0:
            raise ValueError("too few customers to hold some out for early stopping")
        target_tensor = torch.from_numpy(targets).to(self.device_)
        optimiser = torch.optim.Adam(network.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)

        def validation_loss() -> float:
            network.eval()
            total = 0.0
            with torch.no_grad():
                for start in range(0, len(validation_rows), PREDICTION_BATCH):
                    rows = validation_rows[start : start + PREDICTION_BATCH]
                    outputs = network(*self._tensors(torch, source, rows))
                    total += float(self._loss(torch, outputs, target_tensor[rows])) * len(rows)
            return total / len(validation_rows)

        best_loss, best_state, stale = np.inf, copy.deepcopy(network.state_dict()), 0
        self.history_ = []
        for epoch in range(1, self.max_epochs + 1):
            network.train()
            order = rng.permutation(training_rows)
            running = 0.0
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                optimiser.zero_grad()
                loss = self._loss(torch, network(*self._tensors(torch, source, rows)), target_tensor[rows])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(network.parameters(), 5.0)
                optimiser.step()
                running += loss.item() * len(rows)
            current = validation_loss()
            self.history_.append({"epoch": epoch, "training_loss": running / len(order), "validation_loss": current})
            if progress is not None:
                progress(epoch, self.max_epochs, current)
            if current < best_loss - 1e-5:
                best_loss, best_state, stale = current, copy.deepcopy(network.state_dict()), 0
                self.best_epoch_ = epoch
            else:
                stale += 1
                if stale >= self.patience:
                    break
        network.load_state_dict(best_state)
        self.epochs_ = len(self.history_)

    def _raw_outputs(self, torch, source: SequenceBatchSource) -> np.ndarray:
        self.network_.eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, len(source), PREDICTION_BATCH):
                rows = np.arange(start, min(start + PREDICTION_BATCH, len(source)))
                outputs.append(self.network_(*self._tensors(torch, source, rows)).cpu().numpy())
        return np.concatenate(outputs).astype(float)

    def _with_torch(self, work: Callable):
        import torch

        previous_threads = torch.get_num_threads()
        if self.threads:
            torch.set_num_threads(self.threads)
        try:
            # A forked generator keeps the seed local to this model instead of reseeding the whole process.
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                return work(torch)
        finally:
            torch.set_num_threads(previous_threads)

    def fit(
        self,
        transactions: pd.DataFrame,
        events: pd.DataFrame | None = None,
        *,
        cutoff,
        progress: Callable[[int, int, float], None] | None = None,
    ) -> SequencePurchaseModel:
        """Train on snapshots before `cutoff`; `progress(epoch, max_epochs, validation_loss)` after each epoch."""
        self._check_options()
        cutoff = pd.Timestamp(cutoff)
        frame, events = self._prepare(transactions, events, cutoff)
        if frame.empty:
            raise ValueError(f"no transactions before {cutoff.date()}")
        self.event_kinds_ = sorted(events["kind"].astype(str).unique()) if events is not None and len(events) else []
        self.kind_columns_ = 2 + len(self.event_kinds_)
        stream = event_stream(frame, events, self.event_kinds_)
        training_snapshots, calibration_cutoff = self._snapshot_plan(cutoff, stream["timestamp"].min())

        sources, targets = [], []
        for snapshot in training_snapshots:
            source = self._sequences(stream, snapshot)
            sources.append(source)
            targets.append(self._targets(frame, snapshot, source.customers))
        training = concatenate_sources(sources)
        values = training.tokens[:, self.kind_columns_ :]
        self.token_mean_ = values.mean(axis=0)
        self.token_scale_ = np.where(values.std(axis=0) > 1e-6, values.std(axis=0), 1.0).astype(np.float32)
        self.static_mean_ = training.static.mean(axis=0)
        self.static_scale_ = np.where(training.static.std(axis=0) > 1e-6, training.static.std(axis=0), 1.0).astype(
            np.float32
        )
        training = self._scaled(training)
        calibration_source = self._sequences(stream, calibration_cutoff)
        calibration_targets = self._targets(frame, calibration_cutoff, calibration_source.customers)
        calibration_source = self._scaled(calibration_source)

        def train(torch) -> np.ndarray:
            self.device_ = self._resolve_device(torch)
            self.network_ = _build_network(
                torch,
                token_features=training.tokens.shape[1],
                static_features=training.static.shape[1],
                hidden_size=self.hidden_size,
                layers=self.layers,
                dropout=self.dropout,
                outputs=3 if self._separate_churn_head else 2,
            ).to(self.device_)
            self._train(torch, self.network_, training, np.concatenate(targets), progress)
            return self._raw_outputs(torch, calibration_source)

        outputs = self._with_torch(train)
        self.calibrator_ = ProbabilityCalibrator(self.calibration).fit(
            _sigmoid(outputs[:, 0]), calibration_targets[:, 0]
        )
        if self._separate_churn_head:
            self.churn_calibrator_ = ProbabilityCalibrator(self.calibration).fit(
                _sigmoid(outputs[:, 2]), calibration_targets[:, 2]
            )
        predicted_counts = np.exp(outputs[:, 1]).sum()
        self.count_scale_ = float(calibration_targets[:, 1].sum() / max(predicted_counts, 1e-9))
        self.training_snapshots_ = training_snapshots
        self.calibration_snapshot_ = calibration_cutoff
        self.training_rows_ = len(training)
        return self

    def predict(self, transactions: pd.DataFrame, events: pd.DataFrame | None = None, *, cutoff) -> pd.DataFrame:
        """Per customer with a purchase, return or known activity event before the cutoff: p_purchase_raw,
        p_purchase (calibrated), churn_risk (1 − calibrated P(purchase in churn_horizon_days)) and
        expected_purchases over horizon_days."""
        cutoff = pd.Timestamp(cutoff)
        frame, events = self._prepare(transactions, events, cutoff)
        stream = event_stream(frame, events, self.event_kinds_)
        if stream.empty:
            raise ValueError(f"no transactions or events before {cutoff.date()}")
        source = self._scaled(self._sequences(stream, cutoff))
        outputs = self._with_torch(lambda torch: self._raw_outputs(torch, source))
        raw = _sigmoid(outputs[:, 0])
        calibrated = self.calibrator_.transform(raw)
        staying = self.churn_calibrator_.transform(_sigmoid(outputs[:, 2])) if self._separate_churn_head else calibrated
        return pd.DataFrame(
            {
                "p_purchase_raw": raw,
                "p_purchase": calibrated,
                "churn_risk": 1.0 - staying,
                "expected_purchases": np.exp(outputs[:, 1]) * self.count_scale_,
            },
            index=source.customers,
        )


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -40.0, 40.0)))
