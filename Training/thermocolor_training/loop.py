"""What every training loop of the kit does around its own batch and loss.

Warm-up then cosine decay of the learning rate over a wall-clock budget
(`minutes`, so a run ends when it says it will) or a number of steps
(tests); an exponential moving average of the weights, which is what gets
saved; a log line every few steps; a checkpoint every few minutes, so an
interrupted run keeps its work; the run folder's files at the end.
"""
from __future__ import annotations

import copy
import json
import math
import random
import time
from pathlib import Path

import numpy as np
import torch


class Schedule:
    def __init__(self, lr: float, minutes: float | None, steps: int | None, warmup: int = 40):
        if (minutes is None) == (steps is None):
            raise ValueError("give exactly one of minutes or steps")
        self.lr, self.minutes, self.steps, self.warmup = lr, minutes, steps, warmup
        self.start = time.monotonic()
        self.step = 0

    def progress(self) -> float:
        if self.steps is not None:
            return self.step / self.steps
        return (time.monotonic() - self.start) / (60 * self.minutes)

    def rate(self) -> float:
        warm = min(1.0, (self.step + 1) / self.warmup)
        return self.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(self.progress(), 1))))

    def elapsed(self) -> float:
        return time.monotonic() - self.start


def update_ema(ema, model, step: int) -> None:
    with torch.no_grad():
        decay = min(0.998, (1 + step) / (10 + step))
        for e, m in zip(ema.parameters(), model.parameters()):
            e.lerp_(m, 1 - decay)
        for e, m in zip(ema.buffers(), model.buffers()):
            e.copy_(m)


def setup_device(threads, seed, device) -> torch.device:
    """Threads and seeds for a run; CUDA when present unless a device is named."""
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    random.seed(seed)
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


class TrainingRun:
    """The schedule, the optimiser step, the EMA copy that is saved, the log
    line every `log_every` steps, a checkpoint every `checkpoint_minutes`,
    and the run folder's files at the end. `stop_after` (minutes) ends a run
    early although its schedule is planned over the whole budget (a phase
    cut short on purpose)."""

    def __init__(self, model, opt, schedule: Schedule, config: dict, out: Path, *, log_every: int,
                 checkpoint_minutes: float, log, stop_after: float | None = None):
        self.model, self.opt, self.schedule, self.config, self.out = model, opt, schedule, config, Path(out)
        self.ema = copy.deepcopy(model).eval()
        self.log_every, self.checkpoint_seconds, self.log = log_every, 60 * checkpoint_minutes, log
        self.stop_after = stop_after
        self.history: list[dict] = []
        self.seen = 0
        self.last_save = time.monotonic()

    def running(self) -> bool:
        """True while the budget lasts; sets this step's learning rate."""
        if self.schedule.progress() >= 1:
            return False
        if self.stop_after is not None and self.schedule.elapsed() >= 60 * self.stop_after:
            return False
        for group in self.opt.param_groups:
            group["lr"] = self.schedule.rate()
        return True

    def optimise(self, loss: torch.Tensor) -> None:
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step()

    def record(self, loss: torch.Tensor, terms: dict, batch: int) -> None:
        """After the step: EMA, counters, the log line and the periodic checkpoint."""
        schedule = self.schedule
        update_ema(self.ema, self.model, schedule.step)
        schedule.step += 1
        self.seen += batch
        terms["total"] = float(loss.detach())
        self.history.append(terms)
        if schedule.step % self.log_every == 0 or schedule.step == 1:
            recent = {k: np.mean([h.get(k, np.nan) for h in self.history[-self.log_every:]]) for k in terms}
            elapsed = schedule.elapsed()
            self.log(f"step {schedule.step} {elapsed / 60:.1f} min {self.seen / max(elapsed, 1e-6):.1f} img/s "
                     f"lr {self.opt.param_groups[0]['lr']:.2e} " + " ".join(f"{k} {v:.4f}" for k, v in recent.items()))
        if time.monotonic() - self.last_save > self.checkpoint_seconds:
            self.save()
            self.last_save = time.monotonic()

    def save(self) -> None:
        torch.save({"state": self.ema.state_dict(), "config": self.config, "step": self.schedule.step,
                    "seconds": self.schedule.elapsed()}, self.out / "model.pt")

    def finish(self, note: str = "", **config) -> dict:
        self.config.update(seconds=self.schedule.elapsed(), steps_done=self.schedule.step, **config)
        self.save()
        (self.out / "config.json").write_text(json.dumps(self.config, indent=1))
        (self.out / "history.json").write_text(json.dumps(self.history))
        self.log(f"trained {self.schedule.step} steps, {self.seen} crops, in {self.config['seconds'] / 60:.1f} min "
                 f"-> {self.out / 'model.pt'}{note}")
        return {"history": self.history, "model": self.ema, "config": self.config}
