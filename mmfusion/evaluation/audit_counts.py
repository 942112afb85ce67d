"""Counts: a printed total against the counts it sums (``sum_of``), and a printed dataset count
against what the loaders count in the real download (``download: dataset:key``)."""
from .audit_checks import Finding

# counted by mmfusion.data in the real downloads (tests/test_audit_xref.py checks CBIS-DDSM and MIAS)
DOWNLOAD_COUNTS = {
    "busi": {"benign": 437, "malignant": 210, "normal": 133, "total": 780},
    "cbis-ddsm": {"mass train images": 1231, "mass test images": 361, "calc train images": 1227,
                  "calc test images": 284, "mass train abnormalities": 1318, "mass test abnormalities": 378,
                  "calc train abnormalities": 1546, "calc test abnormalities": 326},
    "mias": {"films": 322, "normal": 207, "benign": 64, "malignant": 51},
}


def _sum(claims, c) -> Finding:
    parts = [claims.find_ref(link) for link in c.sum_of]
    if missing := [link for link, p in zip(c.sum_of, parts) if len(p) != 1]:
        return Finding("counts", "unverifiable", [c.ref()],
                       f"{c.ref()}: sum_of points to no single claim: {missing}")
    values = [p[0].value for p in parts]
    total = sum(values)
    refs = [c.ref()] + [p[0].ref() for p in parts]
    arith = " + ".join(str(v) for v in values) + f" = {total}"
    if total == c.value:
        return Finding("counts", "consistent", refs, f"{c.ref()}: {c.value} = the sum of its parts", arith)
    return Finding("counts", "inconsistent", refs, f"{c.ref()}: printed {c.value}, its parts sum to {total}",
                   arith)


def _download(c) -> Finding:
    dataset, key = c.download.split(":")
    real = DOWNLOAD_COUNTS.get(dataset, {}).get(key)
    if real is None:
        return Finding("counts", "unverifiable", [c.ref()],
                       f"{c.ref()}: no download count for {c.download!r}")
    if real == c.value:
        return Finding("counts", "consistent", [c.ref()],
                       f"{c.ref()}: {c.value} = the download's {key} ({dataset})")
    return Finding("counts", "inconsistent", [c.ref()],
                   f"{c.ref()}: printed {c.value}, the {dataset} download has {real} ({key})",
                   f"counted by mmfusion.data in the real {dataset} files")


def check_counts(claims) -> list:
    out = []
    for c in claims.claims:
        if c.sum_of:
            out.append(_sum(claims, c))
        if c.download:
            out.append(_download(c))
    return out
