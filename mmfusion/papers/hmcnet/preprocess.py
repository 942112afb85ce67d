"""hmcnet's data: whole films resized (optionally ``data.mammo.enhance``d), cached by content; each
binary task's rows relabelled 0/1."""
import dataclasses

import numpy as np
import pandas as pd

from mmfusion.data.cache import cached
from mmfusion.data.decode import decode_images
from mmfusion.data.images import read_image
from mmfusion.data.mammo import enhance
from mmfusion.papers.hmcnet.config import TASKS

FILMS_VERSION = 1     # bump when the decoding below changes: old cache entries are then unused


def film_images(frame: pd.DataFrame, size: int, preprocessing: str, cache_dir=None) -> np.ndarray:
    """All films as (N, size, size, 3) uint8 in frame order."""
    def build():
        if preprocessing == "mias-xai":
            return {"images": np.stack([enhance(read_image(p, "gray"), size)[0]
                                        for p in frame["image_path"]])}
        return {"images": decode_images(frame["image_path"], size, channels=3)}

    paths = frame["image_path"]
    return cached("hmcnet-films", paths, build, cache_dir, order=[str(p) for p in paths], size=size,
                  preprocessing=preprocessing, version=FILMS_VERSION)["images"]


def task_frame(frame: pd.DataFrame, task: str) -> tuple[pd.DataFrame, int]:
    """Rows of ``task`` relabelled 0/1 (``label``, ``label_name``) and how many rows it leaves out."""
    spec = TASKS[task]
    labels = frame["label"].to_numpy()
    unknown = sorted({int(v) for v in np.unique(labels)} - {0, 1, 2})
    if unknown:
        raise ValueError(f"task {task}: MIAS labels must be 0 normal, 1 benign, 2 malignant; got {unknown}")
    keep = np.isin(labels, spec["keep"])
    out = frame.loc[keep].reset_index(drop=True)
    out["label"] = [spec["map"][int(v)] for v in out["label"]]
    out["label_name"] = [spec["names"][v] for v in out["label"]]
    out.attrs = dict(frame.attrs)
    return out, int((~keep).sum())


@dataclasses.dataclass
class TaskData:
    name: str
    frame: pd.DataFrame       # the task's rows, labels 0/1
    images: np.ndarray        # their films
    dropped: int              # rows of the dataset the task leaves out
    labels: np.ndarray        # the frame's columns label, group_id, sample_id
    groups: np.ndarray
    ids: np.ndarray


def task_data(frame: pd.DataFrame, images: np.ndarray, task: str) -> TaskData:
    sub, dropped = task_frame(frame, task)
    return TaskData(task, sub, images[frame["label"].isin(TASKS[task]["keep"]).to_numpy()], dropped,
                    sub["label"].to_numpy(int), sub["group_id"].to_numpy(), sub["sample_id"].to_numpy())
