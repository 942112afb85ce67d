"""Duplicated images (BUSI holds many): MD5 of the decoded pixels (re-saved copies match) and a
64-bit difference hash (dHash) on a 9x8 thumbnail (re-scaled copies match within ``max_distance``
bits). Duplicates join transitively."""
import dataclasses
import hashlib

import numpy as np
from PIL import Image

from mmfusion.data.images import read_image


@dataclasses.dataclass
class Duplicates:
    """``group_ids[i]`` is the same for duplicates of each other; unique images get their own id."""

    paths: list
    group_ids: np.ndarray
    exact_pairs: list    # (i, j) with identical pixels
    near_pairs: list     # (i, j, hamming distance) not already exact

    @property
    def n_groups(self) -> int:
        return int((np.unique(self.group_ids, return_counts=True)[1] > 1).sum())

    @property
    def n_duplicates(self) -> int:
        """Images that are a copy of another one (group size minus one, summed over groups)."""
        return len(self.group_ids) - len(np.unique(self.group_ids))

    def summary(self) -> str:
        return (f"{self.n_duplicates} duplicate images in {self.n_groups} groups among {len(self.paths)} "
                f"({len(self.exact_pairs)} exact pairs, {len(self.near_pairs)} near pairs)")


def dhash(gray: np.ndarray, hash_size: int = 8) -> int:
    """Difference hash: is each pixel brighter than its right neighbour, on a small grey thumbnail."""
    thumb = np.asarray(Image.fromarray(gray).resize((hash_size + 1, hash_size), Image.BILINEAR),
                       dtype=np.int16)
    bits = (thumb[:, 1:] > thumb[:, :-1]).ravel()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def find_duplicates(paths, max_distance: int = 3, near: bool = True) -> Duplicates:
    """Duplicate groups among ``paths``; near duplicates differ in at most ``max_distance`` dHash bits."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    paths = [str(p) for p in paths]
    md5s, hashes = [], []
    for path in paths:
        gray = read_image(path, mode="gray")
        md5s.append(hashlib.md5(np.ascontiguousarray(gray).tobytes() + repr(gray.shape).encode()).hexdigest())
        hashes.append(dhash(gray))
    first: dict = {}   # digest -> the first image with it
    exact_pairs = [(first[d], i) for i, d in enumerate(md5s) if first.setdefault(d, i) != i]
    near_pairs = []
    if near and len(paths) > 1:
        codes = np.array(hashes, np.uint64)
        dist = np.bitwise_count(codes[:, None] ^ codes[None, :])   # Hamming distances
        ii, jj = np.nonzero(np.triu(dist <= max_distance, k=1))
        near_pairs = [(int(i), int(j), int(dist[i, j])) for i, j in zip(ii, jj) if md5s[i] != md5s[j]]
    i, j = np.array([(i, j) for i, j, *_ in exact_pairs + near_pairs], dtype=int).reshape(-1, 2).T
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(len(paths), len(paths)))
    return Duplicates(paths, connected_components(graph, directed=False)[1], exact_pairs, near_pairs)
