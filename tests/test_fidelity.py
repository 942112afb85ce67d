"""Every paper's fidelity table (config.FIDELITY) in step with its config: each row that names a
config field states that field's value in Config.paper(); every paper has a table."""
import importlib

import pytest

from mmfusion.experiment import fidelity
from mmfusion.registry import list_papers


@pytest.mark.parametrize("spec", list_papers(), ids=lambda s: s.name)
def test_fidelity_table_matches_the_paper_config(spec):
    experiment = spec.experiment()
    module = importlib.import_module(experiment.config.__module__)
    rows = getattr(module, "FIDELITY", ())
    assert len(rows) >= 8, f"{spec.name}: a fidelity table of every protocol detail is expected"
    assert fidelity.check(experiment.config.paper(), rows) == []
    assert all(r.paper and r.ours for r in rows)
    text = fidelity.markdown(rows)
    assert text.count("\n| ") == len(rows) + 1


def test_check_names_a_row_that_drifted():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        epochs: int = 50

    rows = (fidelity.Detail("epochs", "50", field="epochs", value=50),
            fidelity.Detail("lr", "1e-4", field="learning_rate", value=1e-4))
    assert fidelity.check(Cfg(), rows) == ["lr: config has no field 'learning_rate'"]
    assert fidelity.check(Cfg(epochs=10), rows[:1]) == ["epochs: epochs is 10 in paper(), the table says 50"]
