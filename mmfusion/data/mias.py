"""mini-MIAS as Kaggle ships it (``kmader/mias-mammography``): ``Info.txt`` + ``all-mias/mdbNNN.pgm``.
Info.txt: trailing spaces; 330 rows for 322 images (mdb144 has a benign and a malignant row);
abnormal rows without coordinates (mdb059, 216, 233, 245); coordinates in the 1024x1024 frame,
origin bottom-left. Consecutive images are one patient's two breasts (mdb001/002, ...)."""
from pathlib import Path

import numpy as np
import pandas as pd

from mmfusion.data.common import DatasetError, KaggleData, LoadReport, finish_frame, read_text, single_copy

KAGGLE = {"mias": KaggleData(("kmader/mias-mammography",), "Info.txt", ("all-mias", "mdb*.pgm"))}
HEADER = ("REFNUM", "BG", "CLASS", "SEVERITY", "X", "Y", "RADIUS")
CLASSES = ("CALC", "CIRC", "SPIC", "MISC", "ARCH", "ASYM", "NORM")
BACKGROUNDS = ("F", "G", "D")
LABEL_NAMES = ("normal", "benign", "malignant")
FRAME = 1024  # MIAS coordinates are in the 1024 x 1024 frame


def _parse_row(path, lineno, tokens) -> dict:
    if len(tokens) not in (3, 4, 7):
        raise DatasetError(f"expected 3 (normal), 4 (no coordinates) or 7 fields {' '.join(HEADER)}, "
                           f"got {len(tokens)}: {' '.join(tokens)!r}", path=path, row=lineno)
    ref, bg, cls = tokens[:3]
    if not ref.lower().startswith("mdb") or not ref[3:].isdigit():
        raise DatasetError(f"REFNUM {ref!r} is not mdbNNN", path=path, row=lineno)
    if bg not in BACKGROUNDS or cls not in CLASSES:
        raise DatasetError(f"unknown BG {bg!r} or CLASS {cls!r}; expected BG in {BACKGROUNDS}, "
                           f"CLASS in {CLASSES}", path=path, row=lineno)
    severity = tokens[3] if len(tokens) > 3 else None
    if (cls == "NORM") != (severity is None) or severity not in (None, "B", "M"):
        raise DatasetError(f"SEVERITY {severity!r} does not fit CLASS {cls}; expected B or M for an "
                           "abnormality and nothing for NORM", path=path, row=lineno)
    x = y = radius = None
    if len(tokens) == 7:
        try:
            x, y, radius = (float(t) for t in tokens[4:])
        except ValueError:
            raise DatasetError(f"X Y RADIUS must be numbers, got {tokens[4:]}", path=path,
                               row=lineno) from None
    return {"line": lineno, "refnum": "mdb%03d" % int(ref[3:]), "number": int(ref[3:]), "background": bg,
            "class": cls, "severity": severity, "x": x, "y": y, "radius": radius}


def read_info(path) -> pd.DataFrame:
    """One row per line of Info.txt (330 for the real file), columns refnum..radius."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError("MIAS label file Info.txt not found", path=path)
    lines = read_text(path).splitlines()
    if not lines or tuple(lines[0].split()) != HEADER:
        raise DatasetError(f"expected header {' '.join(HEADER)!r}, got {lines[0] if lines else ''!r}",
                           path=path, row=1)
    rows = [_parse_row(path, i + 1, line.split()) for i, line in enumerate(lines) if i and line.strip()]
    if not rows:   # also what `mmfusion fixtures --n 0` writes
        raise DatasetError(f"has the header but no data rows; expected one line per image or "
                           f"abnormality ({' '.join(HEADER)})", path=path, row=2)
    return pd.DataFrame(rows)


def per_image(rows: pd.DataFrame, label_rule: str = "any") -> pd.DataFrame:
    """Collapse Info.txt rows to one per image; ``label_rule`` "any" (malignant if any row is) or "first"."""
    if label_rule not in ("any", "first"):
        raise ValueError(f"label_rule must be one of ('any', 'first'), got {label_rule!r}")
    out = []
    for ref, grp in rows.groupby("refnum", sort=True):
        abn = [{**{k: r[k] for k in ("class", "severity", "x", "y", "radius")}, "cx": r["x"],
                "cy": None if pd.isna(r["y"]) else FRAME - r["y"]}
               for r in grp.to_dict("records") if r["class"] != "NORM"]
        first = grp.iloc[0]
        present = [s for s in grp["severity"] if isinstance(s, str)]  # pandas stores a missing one as NaN
        malignant = present and (present[0] == "M" if label_rule == "first" else "M" in present)
        label = 0 if not present else 2 if malignant else 1
        out.append({"sample_id": ref, "number": int(first["number"]), "label": label,
                    "label_name": LABEL_NAMES[label], "group_id": "mias-p%03d" % ((first["number"] + 1) // 2),
                    "background": first["background"], "abnormality": first["class"], "x": first["x"],
                    "y": first["y"], "radius": first["radius"], "cx": abn[0]["cx"] if abn else None,
                    "cy": abn[0]["cy"] if abn else None, "n_abnormalities": len(abn), "abnormalities": abn,
                    "missing_coordinates": bool(abn) and any(pd.isna(a["x"]) for a in abn)})
    return pd.DataFrame(out)


def load(root, label_rule: str = "any", missing: str = "skip") -> pd.DataFrame:
    """One row per image found; listed-but-absent images are counted (``missing="skip"``) or raise."""
    if missing not in ("skip", "error"):
        raise ValueError(f"missing must be 'skip' or 'error', got {missing!r}")
    root = Path(root)
    hits = [c for c in (root / "Info.txt", root / "all-mias" / "Info.txt", *sorted(root.glob("*/Info.txt")))
            if c.is_file()]
    info = single_copy(hits, "MIAS label file Info.txt", root,
                       "MIAS label file Info.txt not found (expected <root>/Info.txt beside all-mias/)")
    rows = read_info(info)
    report = LoadReport("mias", str(root), rows_read=len(rows))
    frame = per_image(rows, label_rule)
    images = {}   # image number -> path, for mdb001.pgm and mdb1.pgm spellings, in all-mias/ or the root
    for path in (p for d in (info.parent / "all-mias", info.parent) if d.is_dir() for p in d.iterdir()):
        stem = path.stem.lower()
        if path.suffix.lower() == ".pgm" and stem.startswith("mdb") and stem[3:].isdigit():
            images.setdefault(int(stem[3:]), path.resolve())
    for ref, number in zip(frame["sample_id"], frame["number"]):
        if number not in images:
            message = (f"{ref} is listed in {info.name} but neither all-mias/{ref}.pgm nor mdb{number}.pgm "
                       "exists")
            if missing == "error":
                raise DatasetError(message, path=info)
            report.skip("image_missing", message)
    frame["image_path"] = [str(images[n]) if n in images else None for n in frame["number"]]
    frame = frame[frame["image_path"].notna()]
    _check_coordinates(rows, frame, info)
    frame["mask_paths"] = [[] for _ in range(len(frame))]  # lesions are circles: see lesion_mask
    return finish_frame(frame, report)


def _check_coordinates(rows, frame, info) -> None:
    """X, Y must lie in the 1024 frame (the error names the line and the image's real size)."""
    from mmfusion.data.images import image_size

    paths = dict(zip(frame["sample_id"], frame["image_path"]))
    for r in rows.to_dict("records"):
        x, y = r["x"], r["y"]
        if pd.isna(x) or (0 <= x <= FRAME and 0 <= y <= FRAME and r["radius"] > 0):
            continue
        size = ("not on disk" if r["refnum"] not in paths
                else "%d x %d pixels" % image_size(paths[r["refnum"]])[::-1])
        raise DatasetError(f"{r['refnum']}: X {x:g} Y {y:g} RADIUS {r['radius']:g} lies outside the "
                           f"{FRAME} x {FRAME} frame MIAS coordinates use (0..{FRAME}, radius > 0); "
                           f"the image is {size}", path=info, row=int(r["line"]))


def to_pixels(x, y, r, shape=(FRAME, FRAME)) -> tuple[float, float, float]:
    """Info.txt ``(x, y, radius)`` -> pixel-centre ``(column, row, radius)``: the project's one y-flip."""
    h, w = shape
    sx, sy = w / FRAME, h / FRAME
    return (float(x) + 0.5) * sx - 0.5, (FRAME - float(y) - 0.5) * sy - 0.5, float(r) * min(sx, sy)


def lesion_mask(abnormalities, shape) -> np.ndarray:
    """Bool ``(H, W)`` union of an image's abnormality circles with coordinates, scaled to ``shape``."""
    from mmfusion.data.images import circle_mask

    mask = np.zeros(tuple(shape), bool)
    for a in (a for a in abnormalities if not pd.isna(a.get("x"))):   # pd.isna(None) is True
        mask |= circle_mask(shape, *to_pixels(a["x"], a["y"], a["radius"], shape))
    return mask
