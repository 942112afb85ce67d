"""The CLI's --epochs / --batch-size / ``--set key=value`` applied to a paper's config. Values come
YAML-parsed (CLI) or as strings (Python); ``coerce`` gives both the type of the value replaced."""
import dataclasses

NONE_WORDS = ("none", "null", "~", "")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


def coerce(value, current, nullable: bool = False):
    """``value`` as the type of ``current``; None for none/null/"" where ``current`` may be None."""
    nullable = nullable or current is None
    if value is None or (isinstance(value, str) and value.strip().lower() in NONE_WORDS):
        if nullable:
            return None
        if value is None or not isinstance(current, str):
            raise ValueError(f"expected a {type(current).__name__}, got {value!r}")
    if current is None:   # type unknown: whole numbers as int (as YAML reads them), else as given
        text = value.strip() if isinstance(value, str) else None
        return int(text) if text and text.lstrip("+-").isdigit() else value
    if isinstance(current, bool):
        word = str(value).strip().lower()
        if word not in TRUE_WORDS + FALSE_WORDS:
            raise ValueError(f"expected a boolean (true/false, yes/no, on/off, 1/0), got {value!r}")
        return word in TRUE_WORDS
    if isinstance(current, (int, float)):
        if isinstance(value, bool):   # YAML reads yes/on as True: never a number
            raise ValueError(f"expected a number, got {value!r}")
        if not isinstance(current, float) and isinstance(value, float) and not value.is_integer():
            raise ValueError(f"expected a whole number, got {value!r}")
        return float(value) if isinstance(current, float) else int(value)
    if isinstance(current, (tuple, list)):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif not isinstance(value, (tuple, list)):
            value = [value]   # YAML read a one-element list as a scalar (protocols=lesion, folds=3)
        # elements take the type of the current ones; str elements also from YAML numbers
        items = [coerce(v, current[0]) for v in value] if current else list(value)
        return type(current)(items)
    if isinstance(current, dict):
        if isinstance(value, str):
            import yaml  # JSON is YAML: '{"width": 8}' and '{width: 8}' both read

            value = yaml.safe_load(value)
        if not isinstance(value, dict):
            raise ValueError(f"expected a mapping such as {{key: value}}, got {value!r}")
        return dict(value)
    return str(value) if isinstance(current, str) else value


def apply_overrides(base, extra: dict | None, *, owner: str, epochs=None, batch_size=None,
                    parsers: dict | None = None, skip=()):
    """A new ``base`` (dataclass or dict) with the overrides (``--set`` wins over the flags);
    ``parsers``: key -> callable(value); ``skip``: keys the paper reads itself."""
    parsers = parsers or {}
    is_dataclass = dataclasses.is_dataclass(base)
    if is_dataclass:
        fields = {f.name: f for f in dataclasses.fields(base)}
        current = {name: getattr(base, name) for name in fields}
        # "int | None" (a string under `from __future__ import annotations`) may be set to none
        nullable = {name: "None" in str(f.type) or "Optional" in str(f.type) for name, f in fields.items()}
    else:
        current, nullable = dict(base), {}
    changes = {}
    flags = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size)) if v is not None}
    for key, value in {**flags, **(extra or {})}.items():
        if key in skip:
            continue
        if key not in current:
            raise ValueError(f"unknown {owner} option {key!r}: there is no setting {key!r}; settable: "
                             f"{', '.join(sorted({*current, *skip}))}")
        try:
            changes[key] = (parsers[key](value) if key in parsers
                            else coerce(value, current[key], nullable.get(key, False)))
        except (TypeError, ValueError) as err:
            raise ValueError(f"{owner} option {key}={value!r}: {err}") from None
    return dataclasses.replace(base, **changes) if is_dataclass else {**current, **changes}
