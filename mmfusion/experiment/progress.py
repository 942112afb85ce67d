"""One progress line per fit, in the console and in a saved notebook (plain text, not a widget):
``fit 7/26 stratified-run4: epoch 12/50, 3.1 min, about 41 min left in the run``."""
import sys
import time

import keras

EVERY_S = 60.0     # a line at most this often inside a fit, and always when the fit ends


class RunProgress:
    """The run's fits so far: how many are planned, how long the finished ones took."""

    def __init__(self, planned: int | None, out=None):
        self.planned, self.done, self.out = planned, [], out or sys.stderr

    def callback(self, index: int, name: str) -> "FitProgress":
        return FitProgress(self, index, name)

    def left_after(self, index: int, this_left: float, this_total: float, final: bool) -> float | None:
        """Seconds the run's fits still need: this one's rest, then each later fit at the mean length of
        the finished ones (this one's once it ends; before any has ended, its projected length)."""
        if self.planned is None:
            return None
        lengths = self.done + ([this_total] if final else [])
        per_fit = sum(lengths) / len(lengths) if lengths else this_total
        return this_left + max(0, self.planned - index - 1) * per_fit

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)


def _minutes(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5940 else f"{seconds / 3600:.1f} h"


class FitProgress(keras.callbacks.Callback):
    def __init__(self, run: RunProgress, index: int, name: str):
        super().__init__()
        self.run, self.index, self.name = run, index, name
        self.start = self.last = self.first_epoch = self.seen = None
        self.ended = False

    def on_train_begin(self, logs=None):
        if self.start is None:       # a two-phase fit trains twice: one clock
            self.start = self.last = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        if self.first_epoch is None:   # a resumed fit starts past epoch 0
            self.first_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self.seen = epoch
        epochs = int(self.params.get("epochs") or epoch + 1)
        if epoch + 1 >= epochs or time.perf_counter() - self.last >= EVERY_S:
            self._line(epoch, epochs, final=epoch + 1 >= epochs)

    def on_train_end(self, logs=None):   # early stopping ends a fit before its last epoch
        if self.seen is not None and not self.ended:
            self._line(self.seen, int(self.params.get("epochs") or self.seen + 1), final=True)

    def _line(self, epoch: int, epochs: int, final: bool) -> None:
        now = time.perf_counter()
        self.last, self.ended, elapsed = now, final, now - self.start
        per_epoch = elapsed / (epoch + 1 - (self.first_epoch or 0))
        total = f"/{self.run.planned}" if self.run.planned else ""
        text = f"fit {self.index + 1}{total} {self.name}: epoch {epoch + 1}/{epochs}, {_minutes(elapsed)}"
        left = self.run.left_after(self.index, 0.0 if final else per_epoch * (epochs - epoch - 1),
                                   elapsed if final else per_epoch * epochs, final)
        if left is not None:
            text += f", about {_minutes(left)} left in the run" if left > 0 else ", the run's last fit"
        self.run.say(text)

    def finished(self) -> None:
        if self.start is not None:
            self.run.done.append(time.perf_counter() - self.start)
