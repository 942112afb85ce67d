"""Adding a sixth paper is one package under mmfusion/papers and one claims YAML: this test walks
through it with a toy paper (a logistic model on the MIAS twin's one-hot labels plus noise) and
checks that the registry finds it and its Kaggle kernel, `mmfusion list` names it, and a quick run
ends in a report whose verdict is the one the claim and the toy's accuracy imply."""
import json
import shutil
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

INIT = '''
from mmfusion.kaggle.kernels import Kernel
from mmfusion.registry import PaperSpec

SPEC = PaperSpec("toy-paper", datasets=("mias",), kernels=(Kernel("toy-paper", "A toy on MIAS", "mias"),))
'''
PIPELINE = '''
import dataclasses

import numpy as np
import pandas as pd

from mmfusion.experiment import Experiment, PaperConfig
from mmfusion.experiment.config import option


@dataclasses.dataclass(frozen=True)
class ToyConfig(PaperConfig):
    noise: float = option(0.1, at_least=0.0)
    epochs: int = 30

    @classmethod
    def quick(cls):
        return cls(twin_n=60)


def steps(ctx):
    import keras

    from mmfusion.training import predict_proba, predictions_frame

    y = ctx.frame["label"].to_numpy(int)
    x = np.eye(3, dtype="float32")[y] + np.random.default_rng(0).normal(0, ctx.cfg.noise, (len(y), 3))
    train, test = np.arange(len(y)) % 3 != 0, np.arange(len(y)) % 3 == 0

    def build():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
        return model

    config = ctx.train_config(epochs=ctx.cfg.epochs, batch_size=8, learning_rate=0.1, seed=ctx.seed())
    result = ctx.fit("toy", (x[train], y[train]), (x[test], y[test]), build=build, config=config)
    probs = predict_proba(result.model, x[test])
    accuracy = float((probs.argmax(1) == y[test]).mean())
    ctx.cell("Table 1", "Toy", "accuracy", accuracy, "one fit", n_test=int(test.sum()), bounds=[0, 1])
    ctx.metrics["accuracy"] = accuracy
    ctx.headline(predictions=predictions_frame(ctx.frame["sample_id"].to_numpy()[test], y[test], probs),
                 history=pd.DataFrame(result.history), model=result.model)


EXPERIMENT = Experiment(name="toy-paper", config=ToyConfig, steps=steps, datasets=lambda cfg: {"mias": {}})
'''
CLAIMS = '''
paper: toy-paper
title: "A toy paper"
citation: "A. Author. A toy paper. 2026."
dataset: mias
claims:
  - {table: "Table 1", row: "Toy", column: accuracy, value: 0.99, scale: fraction, decimals: 2, kind: metric,
     source: "Table 1, row Toy, column accuracy"}
'''


@pytest.fixture
def toy_paper(tmp_path, monkeypatch):
    import mmfusion.papers
    from mmfusion import registry

    package = tmp_path / "pkgs" / "toy_paper"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(INIT))
    (package / "pipeline.py").write_text(textwrap.dedent(PIPELINE))
    claims = tmp_path / "claims"
    shutil.copytree(REPO / "papers", claims)
    (claims / "toy-paper.yaml").write_text(textwrap.dedent(CLAIMS))
    monkeypatch.setenv("MMFUSION_PAPERS_DIR", str(claims))
    monkeypatch.setattr(mmfusion.papers, "__path__", [*mmfusion.papers.__path__, str(tmp_path / "pkgs")])
    monkeypatch.setattr(registry, "_PAPERS", {})
    monkeypatch.setattr(registry, "_LOADED", False)
    yield "toy-paper"
    import sys

    for name in [m for m in sys.modules if m.startswith("mmfusion.papers.toy_paper")]:
        del sys.modules[name]


def test_a_sixth_paper_is_one_package_and_one_yaml(toy_paper, tmp_path, twin_cache, capsys):
    from mmfusion import cli
    from mmfusion.experiment import reproduce_paper
    from mmfusion.registry import ReproduceOptions, get_paper, list_papers

    assert [p.name for p in list_papers()] == sorted(["effnetv2-smote", "ft-multicnn", "hmcnet", "mias-xai",
                                                      "multimodal-fusion", "toy-paper"])
    assert get_paper("toy-paper").title == "A toy paper" and get_paper("toy-paper").tables == ["Table 1"]
    cli.main(["list"])
    assert "toy-paper\n  A toy paper" in capsys.readouterr().out
    from mmfusion.kaggle.kernels import KERNELS  # its notebook: declared in its SPEC, nowhere else

    kernel = KERNELS["toy-paper"]
    assert (kernel.paper, kernel.dataset, kernel.marker) == ("toy-paper", "kmader/mias-mammography",
                                                             "Info.txt")
    with pytest.raises(ValueError, match=r"option noise=-1.0: must be >= 0.0"):
        reproduce_paper(toy_paper, ReproduceOptions(toy_paper, quick=True, out=str(tmp_path / "runs"),
                                                    extra={"noise": "-1"}))
    run = reproduce_paper(toy_paper, ReproduceOptions(toy_paper, quick=True, out=str(tmp_path / "runs"),
                                                      cache_dir=str(twin_cache)))
    accuracy = json.loads((run / "metrics.json").read_text())["accuracy"]
    assert accuracy > 0.9            # one-hot labels with little noise: the model must learn them
    from statsmodels.stats.proportion import proportion_confint

    row = json.loads((run / "results.json").read_text())["tables"]["Table 1"][0]
    assert row["reproduced"]["mean"] == pytest.approx(accuracy) and row["reproduced"]["n_test"] == 20
    low, high = proportion_confint(round(accuracy * 20), 20, method="wilson")   # the test-set interval
    assert (row["reproduced"]["ci_low"], row["reproduced"]["ci_high"]) == pytest.approx((low, high))
    # a synthetic quick run judges nothing about the paper, whatever its accuracy
    assert row["verdict"] == "not comparable (synthetic data; quick run)"
    assert "| Toy | accuracy | 0.9900 |" in (run / "report.md").read_text()
