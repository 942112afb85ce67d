"""mini-MIAS twin: ``Info.txt`` with the real file's quirks + ``all-mias/mdbNNN.pgm`` (PGM P5, 8-bit).
Images are 256 x 256, coordinates in the 1024 frame (origin bottom-left). Quirks: trailing spaces,
no final newline, two-row images, a benign + malignant image, a row without coordinates."""
from pathlib import Path

import numpy as np

from mmfusion.data.synthetic import shapes

DEFAULT_N = 40
SIDE = 256
FRAME = 1024


def breast(rng: np.random.Generator, number: int):
    """Tissue inside a half-ellipse against the left (odd numbers) or right edge; black outside."""
    rows, cols = np.mgrid[:SIDE, :SIDE]
    edge = 0 if number % 2 else SIDE - 1
    inside = ((cols - edge) / (0.8 * SIDE)) ** 2 + ((rows - SIDE / 2) / (0.48 * SIDE)) ** 2 <= 1
    return np.where(inside, shapes.tissue(rng, (SIDE, SIDE), base=0.35), 0.02).astype(np.float32), edge


def _labels(n: int, rng: np.random.Generator, counts=None) -> list:
    """Per image: None (normal), 0 (benign), 1 (malignant); half normal, or exactly ``counts``."""
    if counts is not None and (len(counts) != 3 or sum(counts) != n or min(counts) < 0):
        raise ValueError(f"counts={counts!r}: expected (normal, benign, malignant) summing to n={n}")
    labels = ([[None, 0, None, 1][i % 4] for i in range(n)] if counts is None
              else [None] * counts[0] + [0] * counts[1] + [1] * counts[2])
    rng.shuffle(labels)
    return labels


def write(out_dir, n: int = DEFAULT_N, seed: int = 0, counts=None) -> Path:
    rng = np.random.default_rng(seed)
    root = Path(out_dir)
    images = root / "all-mias"
    images.mkdir(parents=True, exist_ok=True)
    labels = _labels(n, rng, counts)
    abnormal = [i for i, lab in enumerate(labels) if lab is not None]
    two_rows = set(abnormal[:2])                       # second lesion of the same severity
    mixed = abnormal[2] if len(abnormal) > 2 else None  # benign row first, malignant second
    no_coords = abnormal[3] if len(abnormal) > 3 else None
    lines = ["REFNUM BG CLASS SEVERITY X Y RADIUS "]
    for i, label in enumerate(labels):
        number = i + 1
        ref = "mdb%03d" % number
        bg_letter = "FGD"[rng.integers(3)]
        img, edge = breast(rng, number)
        if label is None:
            lines.append(f"{ref} {bg_letter} NORM ")
        else:
            extra = [label] if i in two_rows else [1] if i == mixed else []
            for sev in [0 if i == mixed else label] + extra:
                r = shapes.lesion_radius(rng, sev, SIDE)
                lo, hi = (0.12 * SIDE, 0.5 * SIDE) if edge == 0 else (0.5 * SIDE, 0.88 * SIDE)
                x = int(round(rng.uniform(lo, hi) * FRAME / SIDE))
                y = int(round(rng.uniform(0.3, 0.7) * FRAME))
                radius = int(round(r * FRAME / SIDE))
                cx, cy = x * SIDE / FRAME, (FRAME - y) * SIDE / FRAME   # y origin is bottom-left
                intensity, _ = shapes.lesion(rng, (SIDE, SIDE), cx, cy, radius * SIDE / FRAME, sev)
                img = np.maximum(img, intensity)
                cls = (("CIRC", "MISC", "CALC") if sev == 0 else ("SPIC", "CIRC", "CALC"))[rng.integers(3)]
                if i == no_coords:
                    lines.append(f"{ref} {bg_letter} {cls} {'BM'[sev]}")  # no coordinates, no trailing space
                    break
                lines.append(f"{ref} {bg_letter} {cls} {'BM'[sev]} {x} {y} {radius}")
        pixels = shapes.to_uint8(img)   # binary PGM (P5), maxval 255: the header MIAS files carry
        (images / f"{ref}.pgm").write_bytes(b"P5\n%d %d\n255\n" % pixels.shape[::-1] + pixels.tobytes())
    (root / "Info.txt").write_text("\n".join(lines))  # like the real file: no newline at the end
    return root
