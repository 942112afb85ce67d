"""mmfusion.overrides: CLI (YAML-parsed) and raw-string override values give the same config."""
import dataclasses

import pytest
import yaml

from mmfusion.overrides import apply_overrides, coerce


@pytest.mark.parametrize("text, current, expected", [
    ("3", 7, 3),
    ("0.001", 1e-4, 0.001),
    ("1e-3", 1e-4, 0.001),          # YAML 1.1 leaves this a str: float() still reads it
    ("2", 0.5, 2.0),
    ("yes", False, True), ("on", False, True), ("1", False, True), ("true", False, True),
    ("no", True, False), ("off", True, False), ("0", True, False), ("false", True, False),
    ("a,b", ("x",), ("a", "b")),
    ("0.6,0.2,0.2", (0.7, 0.15, 0.15), (0.6, 0.2, 0.2)),
    ("1,2", [0.0], [1.0, 2.0]),
    ("lesion", ["lesion", "image"], ["lesion"]),   # one element: YAML gives a scalar
    ("3", (1, 2), (3,)),
    ("{width: 8}", {"width": 32}, {"width": 8}),
    ("resnet50", "vit", "resnet50"),
    ("60", None, 60),
    ("resnet50", None, "resnet50"),
])
def test_coerce_yaml_and_raw_string_forms_agree(text, current, expected):
    raw, parsed = coerce(text, current), coerce(yaml.safe_load(text), current)
    assert raw == expected and parsed == expected
    assert type(raw) is type(expected) and type(parsed) is type(expected)


def test_coerce_none_able_dicts_and_errors():
    for word in ("none", "null", "None", "", None):
        assert coerce(word, None) is None
        assert coerce(word, 6, nullable=True) is None
    assert coerce("none", "resize") == "none"          # a plain str field keeps the word
    assert coerce('{"width": 8, "heads": 2}', {}) == {"width": 8, "heads": 2}   # JSON
    assert coerce(["hmcnet", "vgg16"], ("x",)) == ("hmcnet", "vgg16")
    assert coerce([1, 2], (0.5,)) == (1.0, 2.0)
    for value, current in (("none", 6), (None, 6), ("maybe", False), ("1.5", 3), (1.5, 3),
                           (True, 3), ("[1, 2]", {})):
        with pytest.raises(ValueError):
            coerce(value, current)


@dataclasses.dataclass(frozen=True)
class Exp:
    epochs: int = 50
    batch_size: int = 16
    rate: float = 1e-4
    models: tuple = ("a", "b")
    twin_n: int | None = None
    cams: int | None = 4
    weights: tuple = ({0: 1.0},)


def test_apply_overrides_dataclass():
    base = Exp()
    out = apply_overrides(base, {"rate": "0.01", "models": "b", "twin_n": "60", "cams": "none"},
                          owner="demo", epochs=3, batch_size="8")
    assert out == Exp(epochs=3, batch_size=8, rate=0.01, models=("b",), twin_n=60, cams=None)
    assert base == Exp()                                   # not modified
    assert apply_overrides(base, {"epochs": 5}, owner="demo", epochs=3).epochs == 5   # --set wins
    assert apply_overrides(base, None, owner="demo") == base
    parsed = apply_overrides(base, {"weights": "1,2"}, owner="demo",
                             parsers={"weights": lambda t: ({i: float(w) for i, w in enumerate(t.split(","))},
                                                            )})
    assert parsed.weights == ({0: 1.0, 1: 2.0},)
    with pytest.raises(ValueError, match=r"unknown demo option 'epoch'.*settable: batch_size, cams, epochs"):
        apply_overrides(base, {"epoch": 3}, owner="demo")
    with pytest.raises(ValueError, match=r"demo option epochs='x'"):
        apply_overrides(base, {"epochs": "x"}, owner="demo")


def test_apply_overrides_dict_and_skip():
    hp = {"epochs": 50, "augment": True, "protocols": ["lesion", "image"], "backbone": None}
    out = apply_overrides(hp, {"augment": "false", "protocols": "image", "backbone": "none", "rows": "cnn"},
                          owner="demo", batch_size=None, skip=("rows",))
    assert out == {"epochs": 50, "augment": False, "protocols": ["image"], "backbone": None}
    assert hp["augment"] is True and "rows" not in out
    with pytest.raises(ValueError, match=r"unknown demo option 'imput'.*settable: .*protocols, rows"):
        apply_overrides(hp, {"imput": "raw"}, owner="demo", skip=("rows",))
