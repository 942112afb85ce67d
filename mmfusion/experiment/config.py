"""One config style for every paper: a frozen :class:`PaperConfig` subclass with ``paper()`` and
``quick()``. ``resolve`` applies ``--epochs/--batch-size/--set`` (:mod:`mmfusion.overrides`) and
validates the result *before* any run directory exists."""
import dataclasses
import operator

from mmfusion.overrides import apply_overrides


@dataclasses.dataclass(frozen=True)
class PaperConfig:
    """Fields every paper shares; a paper adds its own."""

    epochs: int = 1
    batch_size: int = 16
    twin_n: int | None = None       # synthetic twin size when no data is given (None: the twin's own)
    shard: str | None = None        # "I/N": train the I-th of N shares of the fits (mmfusion merge)

    @classmethod
    def paper(cls) -> "PaperConfig":
        """The paper's protocol (its text's values; ours where it is silent, said in the notes)."""
        return cls()

    @classmethod
    def quick(cls) -> "PaperConfig":
        """A smoke run of the same steps: minutes on 2 CPU cores. Its numbers judge nothing."""
        raise NotImplementedError(f"{cls.__name__} has no quick() setting")

    @classmethod
    def parsers(cls) -> dict:
        """``--set`` keys the generic coercion cannot read: key -> callable(value)."""
        return {}

    def validate(self) -> None:
        """Raise ValueError naming the option and what is allowed: every field declared with
        :func:`option` is checked here; a paper overrides this only for checks across fields."""
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"option {name}={value!r}: must be a whole number >= 1")
        for field in dataclasses.fields(self):
            if field.metadata:
                check_option(field.name, getattr(self, field.name), **field.metadata)
        if self.shard is not None:
            shard_of(self.shard)
        if self.twin_n is not None and self.twin_n < 1:
            raise ValueError(f"option twin_n={self.twin_n!r}: must be >= 1 (or none for the twin's default)")

    def twin_size(self, dataset: str) -> int | None:
        return self.twin_n

    def data_dir(self, dataset: str) -> str | None:
        """A per-dataset root that overrides --data-dir (papers with two datasets)."""
        return None

    def to_dict(self) -> dict:
        return _jsonable(dataclasses.asdict(self))


def option(default, **rules):
    """A config field with its allowed values, ``rules`` the keywords of :func:`check_option` (which
    ``PaperConfig.validate`` calls): choices (``some_of`` for a tuple field, ``empty`` allowed or
    not), bounds (None passes: "not set"); ``why`` replaces the generic message after
    "option NAME=VALUE: "."""
    if isinstance(default, (dict, list)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=rules)
    return dataclasses.field(default=default, metadata=rules)


def check_option(name, value, one_of=None, some_of=None, empty=False, at_least=None, above=None,
                 below=None, at_most=None, why="") -> None:
    def fail(shown, generic):
        raise ValueError(f"option {name}={shown}: {why or generic}")

    if one_of is not None and value not in one_of:
        fail(repr(value), "expected one of " + ", ".join(map(str, one_of)))
    if some_of is not None:
        unknown = [v for v in value if v not in some_of]
        if unknown or not (value or empty):
            fail(list(value), "expected some of " + ", ".join(map(str, some_of))
                 + (f" (unknown: {', '.join(map(str, unknown))})" if unknown else ""))
    if value is None or isinstance(value, (str, tuple, list, dict)):
        return
    bounds = [(sign, test, bound) for sign, test, bound in (
        (">=", operator.ge, at_least), (">", operator.gt, above), ("<", operator.lt, below),
        ("<=", operator.le, at_most)) if bound is not None]
    if not all(test(value, bound) for _, test, bound in bounds):
        fail(value, "must be " + " and ".join(f"{sign} {bound}" for sign, _, bound in bounds))


def shard_of(text: str) -> tuple[int, int]:
    """"2/3" -> (2, 3); the tool's own message for anything else."""
    i, sep, n = str(text).partition("/")
    if not (sep and i.strip().isdigit() and n.strip().isdigit() and 1 <= int(i) <= int(n)):
        raise ValueError(f"option shard={text!r}: expected I/N with 1 <= I <= N, e.g. shard=1/2")
    return int(i), int(n)


def resolve(config_class: type, options, owner: str) -> PaperConfig:
    """The paper's or the quick config with the CLI overrides applied, validated."""
    base = config_class.quick() if options.quick else config_class.paper()
    cfg = apply_overrides(base, options.extra, owner=owner, epochs=options.epochs,
                          batch_size=options.batch_size, parsers=config_class.parsers())
    cfg.validate()
    return cfg


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    return obj
