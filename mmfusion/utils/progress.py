"""Progress bars for long loops outside Keras fit (explanations, fixtures)."""
import os
import sys

from tqdm.auto import tqdm as _tqdm


def tqdm(iterable=None, **kwargs):
    """tqdm that stays quiet when MMFUSION_NO_PROGRESS is set or stderr is not a terminal under CI."""
    if os.environ.get("MMFUSION_NO_PROGRESS") or (os.environ.get("CI") and not sys.stderr.isatty()):
        kwargs["disable"] = True   # also over a caller's disable=False
    return _tqdm(iterable, **kwargs)
