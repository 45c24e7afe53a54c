"""Shared machinery of the neural models: device and thread selection, seeding, the training loop, checkpoints.

- ``resolve_device("auto")`` is cuda when torch sees a GPU, else cpu; the thread count is an argument applied
  with torch.set_num_threads for the duration of a call (``torch_threads``), never a process-wide default set
  at import.
- ``train_module`` runs Adam (AdamW) with gradient clipping on random training batches, evaluates the validation
  windows after every epoch, keeps the weights of the best epoch and stops after ``patience`` epochs without
  improvement, after ``max_epochs``, or once ``max_seconds`` have passed (checked after every step, so one long
  epoch cannot overrun the budget). On cuda with ``amp`` the forward pass runs in bfloat16 autocast (no loss
  scaling needed). Training is deterministic on cpu for a given seed.
- Checkpoints are one ``torch.save`` file: format version, model name, hyper-parameters, the data-scaling
  metadata the model needs at prediction time, the training log and the weights, loaded with
  ``weights_only=True`` onto cpu (or any device) whatever device saved it.
"""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from forecasting.engine.neural.windows import Windows

CHECKPOINT_FORMAT = 1


def resolve_device(device: str | None) -> torch.device:
    """cuda when asked for "auto" (or None) and available, else cpu; an explicit "cuda" without a GPU raises."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but torch sees no GPU")
    return resolved


@contextlib.contextmanager
def torch_threads(threads: int | None) -> Iterator[None]:
    """Run a block with torch limited to ``threads`` intra-op threads (unchanged when None or < 1)."""
    if not threads or threads < 1:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(int(threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def to_tensors(windows: Windows, device: torch.device) -> dict[str, torch.Tensor]:
    """The windows' arrays as float32 tensors on ``device`` (targets only when present)."""
    tensors = {
        "past_values": windows.past_values,
        "past_observed": windows.past_observed,
        "past_features": windows.past_features,
        "future_features": windows.future_features,
        "scale": windows.scale,
    }
    if windows.future_values is not None:
        tensors["future_values"] = windows.future_values
        tensors["future_observed"] = windows.future_observed
    return {name: torch.from_numpy(np.ascontiguousarray(array)).to(device) for name, array in tensors.items()}


@dataclass
class TrainingLog:
    """What training did: kept with the checkpoint and reported by the benchmark."""

    device: str = "cpu"
    epochs: int = 0
    steps: int = 0
    best_epoch: int = 0
    best_validation_loss: float | None = None
    train_losses: list[float] = field(default_factory=list)
    validation_losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    windows_seen: int = 0
    stopped: str = ""

    @property
    def windows_per_second(self) -> float:
        return self.windows_seen / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "windows_per_second": self.windows_per_second}


LossFunction = Callable[[nn.Module, dict[str, torch.Tensor]], torch.Tensor]


def train_module(
    module: nn.Module,
    *,
    sample_batch: Callable[[np.random.Generator], Windows | None],
    loss: LossFunction,
    validation: Windows | None,
    device: torch.device,
    seed: int,
    max_epochs: int,
    steps_per_epoch: int,
    learning_rate: float,
    weight_decay: float = 0.0,
    patience: int = 5,
    max_seconds: float | None = None,
    grad_clip: float = 10.0,
    amp: bool = True,
    validation_batch: int = 2048,
    progress: Callable[[TrainingLog], None] | None = None,
) -> TrainingLog:
    """Train ``module`` in place and leave it holding the weights of its best validation epoch."""
    log = TrainingLog(device=str(device))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module.to(device)
    optimiser = torch.optim.AdamW(module.parameters(), lr=learning_rate, weight_decay=weight_decay)
    use_amp = amp and device.type == "cuda"
    best_state = copy.deepcopy(module.state_dict())
    best = float("inf")
    stale = 0
    started = time.perf_counter()
    for epoch in range(1, max_epochs + 1):
        module.train()
        epoch_losses = []
        for _ in range(steps_per_epoch):
            windows = sample_batch(rng)
            if windows is None:
                break
            batch = to_tensors(windows, device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
                value = loss(module, batch)
            optimiser.zero_grad(set_to_none=True)
            value.backward()
            nn.utils.clip_grad_norm_(module.parameters(), grad_clip)
            optimiser.step()
            epoch_losses.append(float(value.detach()))
            log.steps += 1
            log.windows_seen += len(windows)
            if max_seconds is not None and time.perf_counter() - started >= max_seconds:
                break
        log.epochs = epoch
        log.train_losses.append(float(np.mean(epoch_losses)) if epoch_losses else float("nan"))
        score = evaluate(module, loss, validation, device, batch_size=validation_batch, amp=use_amp)
        if score is None:
            score = log.train_losses[-1]
        log.validation_losses.append(score)
        if score < best - 1e-6:
            best, stale = score, 0
            log.best_epoch = epoch
            best_state = copy.deepcopy(module.state_dict())
        else:
            stale += 1
        log.seconds = time.perf_counter() - started
        if progress is not None:
            progress(log)
        if not epoch_losses:
            log.stopped = "no training windows"
            break
        if stale >= patience:
            log.stopped = f"early stopping: no improvement for {patience} epochs"
            break
        if max_seconds is not None and log.seconds >= max_seconds:
            log.stopped = f"time budget of {max_seconds:g} s"
            break
    else:
        log.stopped = f"max_epochs {max_epochs}"
    module.load_state_dict(best_state)
    module.eval()
    log.best_validation_loss = None if best == float("inf") else best
    log.seconds = time.perf_counter() - started
    return log


@torch.no_grad()
def evaluate(
    module: nn.Module,
    loss: LossFunction,
    windows: Windows | None,
    device: torch.device,
    *,
    batch_size: int,
    amp: bool,
) -> float | None:
    """Mean loss over the validation windows, weighted by window count (None without windows)."""
    if windows is None or len(windows) == 0:
        return None
    module.eval()
    total = 0.0
    for start in range(0, len(windows), batch_size):
        part = windows.subset(slice(start, start + batch_size))
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
            total += float(loss(module, to_tensors(part, device))) * len(part)
    return total / len(windows)


def save_checkpoint(path: str | Path, *, name: str, params: dict, meta: dict, module: nn.Module) -> Path:
    """Write weights + hyper-parameters + scaling metadata; tensors are moved to cpu so any machine can load."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {key: value.detach().to("cpu") for key, value in module.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "name": name, "params": params, "meta": meta, "state_dict": state}, path)
    return path


def load_checkpoint(path: str | Path) -> dict:
    """The checkpoint's dictionary, tensors on cpu; refuses unknown formats."""
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: unsupported checkpoint format {payload.get('format')!r}")
    return payload
