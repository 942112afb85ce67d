"""The kernel notebooks: valid, paired with their .py (jupytext reads it back to the same cells),
and executed top to bottom as `MMFUSION_QUICK=1 jupyter nbconvert --execute` would (with a smaller run
injected after the parameters cell, as papermill injects parameters), on the twin
data without network; their outputs hold report.md rendered and the run's figures."""
import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mmfusion.kaggle.kernels import KERNELS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {name: ROOT / "kaggle_kernels" / name / f"{name}.ipynb" for name in KERNELS}


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_notebook_valid_and_paired(name):
    import jupytext

    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    nbformat.validate(nb)
    paired = jupytext.read(NOTEBOOKS[name].with_suffix(".py"))
    assert [(c.cell_type, c.source) for c in paired.cells] == [(c.cell_type, c.source) for c in nb.cells]
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", ())]
    assert len(tagged) == 1 and f"KERNEL = {name!r}" in tagged[0].source
    assert 'os.environ.get("MMFUSION_QUICK"' in tagged[0].source


def _execute(name, tmp_path, extra=None) -> tuple:
    """``extra``: paper options injected after the parameters cell, as papermill injects parameters."""
    out, notebook = tmp_path / "executed.ipynb", NOTEBOOKS[name]
    if extra:
        nb = nbformat.read(notebook, as_version=4)
        at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", ()))
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(f"EXTRA = {extra!r}"))
        notebook = tmp_path / notebook.name
        nbformat.write(nb, notebook)
    env = {**os.environ, "MMFUSION_QUICK": "1", "MMFUSION_PLATFORM": "local", "MMFUSION_NO_PROGRESS": "1",
           "MMFUSION_OUT": str(tmp_path / "runs"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.pop("MMFUSION_DATA_DIR", None)
    env.setdefault("MMFUSION_CACHE", str(ROOT / ".mmfusion_cache"))   # the twins other tests made
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=1200", "--ExecutePreprocessor.kernel_name=python3",
                    "--output", str(out), str(notebook)], env=env, check=True, capture_output=True)
    runs = sorted((tmp_path / "runs" / KERNELS[name].paper).iterdir())
    assert len(runs) == 1
    return nbformat.read(out, as_version=4), runs[0]


def _check_outputs(nb, run_dir):
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    markdown = [o.data["text/markdown"] for o in outputs if o.output_type == "display_data"
                and "text/markdown" in o.data]
    from mmfusion.evaluation.summary import first_screen

    summary = first_screen((run_dir / "report.md").read_text())
    assert summary in markdown and "**Verdicts**" in summary     # the summary inline, the rest linked
    assert any("report.html" in m for m in markdown)
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert re.search(r"total +[\d.]+ +\([\d.]+ h\): fits one 12 h Kaggle / Colab session "
                     r".*weekly GPU quota", text)
    assert text.index("estimate on this device") < text.index("fit 1/")     # the estimate comes first
    assert re.search(r"fit \d+/\d+ \S+: epoch \d+/\d+, [\d.]+ (s|min|h)", text)   # the progress lines, saved
    assert not re.search(r"absl|oneDNN|E0000|use_unbounded_threadpool", text), text[:2000]
    pngs = [base64.b64decode(o.data["image/png"]) for o in outputs
            if o.output_type == "display_data" and "image/png" in o.data]
    figures = {p.read_bytes() for p in run_dir.rglob("*.png")}
    assert pngs and all(p.startswith(b"\x89PNG") and p in figures for p in pngs)


def _files(root: Path) -> set:
    return {p.relative_to(root) for p in root.rglob("*")}


def test_mias_xai_notebook_executes(tmp_path):
    before = _files(ROOT / "kaggle_kernels")
    small = {"runs": 1, "epochs": 2, "input_size": 32, "lime_samples": 20, "shap_samples": 20}
    _check_outputs(*_execute("mias-xai", tmp_path, extra=small))
    assert _files(ROOT / "kaggle_kernels") == before      # nothing left beside the committed notebooks


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(KERNELS) - {"mias-xai"}))
def test_other_notebooks_execute(tmp_path, name):
    _check_outputs(*_execute(name, tmp_path))
