"""Find duplicated images (BUSI holds many): exact pixel hash plus a near-duplicate difference hash.

Exact: MD5 of the decoded grayscale pixels and their shape (same image re-saved with other
metadata or PNG compression still matches). Near: a 64-bit difference hash (dHash) of the image
downscaled to 9x8, so re-scaled or lightly re-encoded copies match within ``max_distance`` bits.
Duplicates join transitively into groups (union-find).
"""
from __future__ import annotations

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
        """Groups holding more than one image."""
        _, counts = np.unique(self.group_ids, return_counts=True)
        return int((counts > 1).sum())

    @property
    def n_duplicates(self) -> int:
        """Images that are a copy of another one (group size minus one, summed over groups)."""
        _, counts = np.unique(self.group_ids, return_counts=True)
        return int((counts - 1).sum())

    def summary(self) -> str:
        return (f"{self.n_duplicates} duplicate images in {self.n_groups} groups among {len(self.paths)} "
                f"({len(self.exact_pairs)} exact pairs, {len(self.near_pairs)} near pairs)")


def pixel_md5(gray: np.ndarray) -> str:
    h = hashlib.md5(np.ascontiguousarray(gray).tobytes())
    h.update(repr(gray.shape).encode())
    return h.hexdigest()


def dhash(gray: np.ndarray, hash_size: int = 8) -> int:
    """Difference hash: is each pixel brighter than its right neighbour, on a small grey thumbnail."""
    thumb = np.asarray(Image.fromarray(gray).resize((hash_size + 1, hash_size), Image.BILINEAR),
                       dtype=np.int16)
    bits = (thumb[:, 1:] > thumb[:, :-1]).ravel()
    return int(sum(1 << i for i, b in enumerate(bits) if b))


def _hamming_matrix(hashes: list[int], n_bits: int) -> np.ndarray:
    bits = np.array([[(h >> i) & 1 for i in range(n_bits)] for h in hashes], dtype=np.uint8)
    ones = bits.sum(axis=1)
    common = bits.astype(np.int32) @ bits.T.astype(np.int32)
    return ones[:, None] + ones[None, :] - 2 * common


def _components(n: int, pairs) -> np.ndarray:
    """Transitive closure of the duplicate pairs: connected components of the pair graph."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not pairs:
        return np.arange(n)
    i, j = np.array(pairs).T
    graph = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def find_duplicates(paths, max_distance: int = 3, hash_size: int = 8, near: bool = True) -> Duplicates:
    """Hash every image in ``paths``; returns the duplicate groups and the pairs found.

    ``max_distance``: the largest dHash Hamming distance (of ``hash_size**2`` bits) still called a
    near duplicate; ``near=False`` checks exact copies only.
    """
    paths = [str(p) for p in paths]
    md5s, hashes = [], []
    for path in paths:
        gray = read_image(path, mode="gray")
        md5s.append(pixel_md5(gray))
        hashes.append(dhash(gray, hash_size))
    exact_pairs, near_pairs = [], []
    first: dict = {}
    for i, digest in enumerate(md5s):
        j = first.setdefault(digest, i)
        if j != i:
            exact_pairs.append((j, i))
    if near and len(paths) > 1:
        dist = _hamming_matrix(hashes, hash_size * hash_size)
        ii, jj = np.nonzero(np.triu(dist <= max_distance, k=1))
        near_pairs = [(int(i), int(j), int(dist[i, j])) for i, j in zip(ii, jj) if md5s[i] != md5s[j]]
    pairs = [(i, j) for i, j, *_ in exact_pairs + near_pairs]
    group_ids = _components(len(paths), pairs)
    return Duplicates(paths, group_ids, exact_pairs, near_pairs)
