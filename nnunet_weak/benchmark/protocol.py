"""A benchmark protocol: annotation kinds with their budgets, read from a small TOML file.

Each ``[[kind]]`` table names one kind and its budgets; a list of budgets is a sweep, one arm
(one weak dataset) per value::

    [[kind]]
    name = "slices"
    counts = [1, 3, 6]              # slices per orientation, one arm each
    orientations = ["axial"]        # or axes = [0]
    presets = ["3d2dct"]            # published slice protocols, one arm each

    [[kind]]
    name = "points"                 # PA-Seg's 7 clicks per object, expanded by geodesic distance
    threshold = 0.15                # expand-points flags (defaults: README's recommendation)
    background_threshold = 0.4

    [[kind]]
    name = "scribbles"
    slice_share = [1.0, 0.2]

    [[kind]]
    name = "semi"
    labelled = [2, 4]               # labelled cases, the rest unlabelled (all ignore)
    first = true                    # the first N of dataset.json's train_list (default: drawn, seed 0)
    unlabelled_on_top = true        # ours see 2 labelled + 2 unlabelled patches a batch (default: 1 + 1)

    [[kind]]
    name = "full"                   # every training case labelled: the ceiling

Every arm trains the stock trainer (:data:`STOCK`) on its weak labels beside the kind's trainer
of ours (:data:`OURS`); ``trainers = [...]`` in a table replaces ours (``[]``: stock only). A
``semi`` arm trains the stock trainer on its labelled cases alone instead, the fair baseline (on all
cases, most of them all ``ignore``, it barely learns; list it in ``trainers`` to run it there too).
``repeats = N`` in a table trains its runs N times instead of ``--repeats`` times (e.g. three where
ours and stock come close, one for the points of a curve that back no claim).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from nnunet_weak.annotations.sparse_slices import PRESETS
from nnunet_weak.benchmark import toml
from nnunet_weak.errors import WeakDatasetError

DEFAULT_PROTOCOL = Path(__file__).with_name("default_protocol.toml")
STOCK = "nnUNetTrainerBenchmark"
# each kind's trainer of ours: the one made for it
OURS: dict[str, tuple[str, ...]] = {
    "slices": ("nnUNetTrainerCrossTeach",),
    "points": ("nnUNetTrainerPointSeg",),
    "scribbles": ("nnUNetTrainerGatedCRF",),
    "semi": ("nnUNetTrainerDTML",),
    "full": (),
}
ORIENTATIONS = ("axial", "coronal", "sagittal")
# the keys every table may hold besides name
COMMON_KEYS = ("trainers", "repeats")
# kind: the keys its table may hold besides name and COMMON_KEYS
KEYS: dict[str, tuple[str, ...]] = {
    "slices": ("counts", "orientations", "axes", "presets", "same_count"),
    "points": ("threshold", "background_threshold", "outside_seeds"),
    "scribbles": ("slice_share", "orientations", "axes"),
    "semi": ("labelled", "first", "unlabelled_on_top"),
    "full": (),
}


@dataclass(frozen=True)
class Arm:
    """One weak dataset of a protocol and the trainers run on it.

    ``options`` are what the dataset is derived with (the keyword arguments of the kind's
    annotator in ``nnunet_weak/derive.py``); ``budget`` names it for people; ``settings`` are
    trainer settings (``nnUNet_weak_*`` environment variables) our trainers run with, not stock."""

    kind: str
    budget: str
    options: dict = field(hash=False)
    trainers: tuple[str, ...]
    repeats: int | None = None  # trainings of each run; None: the command's --repeats
    settings: dict = field(default_factory=dict, hash=False)

    @property
    def key(self) -> str:
        """Names the arm in folder and dataset names: letters, digits and dashes."""
        text = f"{self.kind}-{self.budget}".replace(".", "p").replace("+", "-")
        return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-")


def read_protocol(path: Path, trainers_override: dict[str, tuple[str, ...]] | None = None) -> list[Arm]:
    """The arms of the protocol file ``path`` in file order; ``trainers_override`` replaces the
    trainers of ours per kind (the file's ``trainers`` included). Raises WeakDatasetError naming
    the file and the key for anything it cannot use."""
    path = Path(path)
    try:
        content = toml.loads(path.read_text())
    except OSError as e:
        raise WeakDatasetError(f"protocol {path} cannot be read ({e.strerror}); give a TOML file, e.g. "
                               f"{DEFAULT_PROTOCOL}") from None
    except toml.TOMLDecodeError as e:
        raise WeakDatasetError(f"protocol {path} is not valid TOML ({e}); see documentation/benchmark.md") from None
    unknown = sorted(set(content) - {"kind"})
    if unknown or not isinstance(content.get("kind"), list) or not content["kind"]:
        raise WeakDatasetError(f"protocol {path}: expected one or more [[kind]] tables and nothing else"
                               + (f", found key '{unknown[0]}'" if unknown else ""))
    arms: list[Arm] = []
    for number, table in enumerate(content["kind"], 1):
        arms += _arms(table, f"protocol {path}: [[kind]] number {number}", trainers_override or {})
    seen: set[str] = set()
    for arm in arms:
        if arm.key in seen:
            raise WeakDatasetError(f"protocol {path}: the budget {arm.kind} {arm.budget} is listed twice; give it once")
        seen.add(arm.key)
    return arms


def _arms(table: dict, where: str, trainers_override: dict[str, tuple[str, ...]]) -> list[Arm]:
    arms = _budgets(table, where, trainers_override)
    if "repeats" not in table:
        return arms
    repeats = table["repeats"]
    if type(repeats) is not int or repeats < 1:
        raise WeakDatasetError(f"{where} ({table['name']}): key 'repeats' must be a whole number of at least 1 "
                               f"(trainings of each run), got {repeats!r}")
    return [replace(arm, repeats=repeats) for arm in arms]


def _budgets(table: dict, where: str, trainers_override: dict[str, tuple[str, ...]]) -> list[Arm]:
    name = table.get("name")
    if name not in KEYS:
        raise WeakDatasetError(f"{where}: key 'name' is {name!r}; use one of {', '.join(KEYS)}")
    extra = sorted(set(table) - {"name", *COMMON_KEYS, *KEYS[name]})
    if extra:
        allowed = ", ".join([*COMMON_KEYS, *KEYS[name]])
        raise WeakDatasetError(f"{where} ({name}): key '{extra[0]}' is not known; use {allowed}")
    where = f"{where} ({name})"
    ours = table.get("trainers", OURS[name])
    if not isinstance(ours, (list, tuple)) or not all(isinstance(t, str) and t for t in ours):
        raise WeakDatasetError(f"{where}: key 'trainers' must be a list of trainer names, e.g. "
                               f"[\"nnUNetTrainerCrossTeach\"]")
    if name in trainers_override:
        ours, where = trainers_override[name], f"--trainers-override {name}="
    twice = sorted({t for t in ours if list(ours).count(t) > 1})
    if twice:  # two trainings of one trainer would share one results folder
        raise WeakDatasetError(f"{where}: trainer {twice[0]} is listed twice; give it once (--repeats trains "
                               "it again)")
    trainers = (STOCK, *(t for t in ours if t != STOCK))
    if name == "full":
        return [Arm(name, "all", {}, trainers)]
    if name == "semi":  # stock's baseline is its labelled cases alone (the runner adds it): on all cases,
        # where the unlabelled ones are all ignore, it barely learns; list it in trainers to run it anyway
        counts = _numbers(table, "labelled", where, int, low=1, required=True)
        first, on_top = _flag(table, "first", where), _flag(table, "unlabelled_on_top", where)
        if on_top and not ours:
            raise WeakDatasetError(f"{where}: key 'unlabelled_on_top' sets how our trainers sample, and "
                                   "trainers = [] runs none; drop the key or name a trainer")
        settings = {"nnUNet_weak_unlabelled_on_top": "1"} if on_top else {}
        return [Arm(name, ("first " if first else "") + f"{n} labelled" + (", unlabelled on top" if on_top else ""),
                    {"labelled": n, "first": first}, tuple(ours), settings=settings) for n in counts]
    if name == "points":
        options = {"threshold": _number(table, "threshold", where, 0.15),
                   "background_threshold": _number(table, "background_threshold", where, 0.4),
                   "outside_seeds": _flag(table, "outside_seeds", where)}
        return [Arm(name, "7 clicks", options, trainers)]
    axes = _axes(table, where)
    if name == "scribbles":
        shares = _numbers(table, "slice_share", where, float, low=0.0, high=1.0, required=True)
        return [Arm(name, f"{share:g} of {_axes_label(axes)} slices", {**axes, "slice_share": share}, trainers)
                for share in shares]
    counts = _numbers(table, "counts", where, int, low=1, required=False)
    presets = table.get("presets", [])
    if not isinstance(presets, list) or any(p not in PRESETS for p in presets):
        raise WeakDatasetError(f"{where}: key 'presets' must list published protocols of {', '.join(PRESETS)}")
    if not counts and not presets:
        raise WeakDatasetError(f"{where}: give key 'counts' (slices per orientation) or 'presets'")
    same = _flag(table, "same_count", where)
    arms = [Arm(name, f"{n} {_axes_label(axes)}", {**axes, "count": n, "same_count": same}, trainers) for n in counts]
    return arms + [Arm(name, preset, dict(PRESETS[preset]), trainers) for preset in presets]


def _axes(table: dict, where: str) -> dict:
    """``{"axes": [...], "orientations": None}`` or the other way round (default: axes [0])."""
    if "axes" in table and "orientations" in table:
        raise WeakDatasetError(f"{where}: give key 'axes' or 'orientations', not both")
    orientations = table.get("orientations")
    if orientations is not None:
        if not isinstance(orientations, list) or not orientations or any(o not in ORIENTATIONS for o in orientations):
            raise WeakDatasetError(f"{where}: key 'orientations' must list some of {', '.join(ORIENTATIONS)}")
        return {"axes": None, "orientations": list(orientations)}
    axes = table.get("axes", [0])
    if not isinstance(axes, list) or not axes or any(type(a) is not int or not 0 <= a <= 2 for a in axes):
        raise WeakDatasetError(f"{where}: key 'axes' must list array axes 0, 1 or 2")
    return {"axes": list(axes), "orientations": None}


def _axes_label(axes: dict) -> str:
    return "+".join(axes["orientations"] or [f"axis{a}" for a in axes["axes"]])


def _numbers(table: dict, key: str, where: str, kind: type, low: float, high: float | None = None,
             required: bool = True) -> list:
    """A budget sweep: a list of numbers in (low, high] for floats, >= low for whole numbers."""
    values = table.get(key)
    if values is None and not required:
        return []
    values = values if isinstance(values, list) else [values]
    ok = values and all(type(v) is kind or (kind is float and type(v) is int) for v in values)
    if ok and kind is int:
        ok = all(v >= low for v in values)
    elif ok:
        ok = all(low < v <= high for v in values)
    if not ok:
        rule = f"whole numbers of at least {low}" if kind is int else f"numbers above {low:g} and at most {high:g}"
        raise WeakDatasetError(f"{where}: key '{key}' must be {rule} (a list sweeps the budget), got {values!r}")
    if len(set(values)) != len(values):
        raise WeakDatasetError(f"{where}: key '{key}' lists a value twice: {values!r}")
    return values


def _number(table: dict, key: str, where: str, default: float) -> float:
    value = table.get(key, default)
    if type(value) not in (int, float) or not 0 < value < 1:
        raise WeakDatasetError(f"{where}: key '{key}' must be a number between 0 and 1, got {value!r}")
    return float(value)


def _flag(table: dict, key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise WeakDatasetError(f"{where}: key '{key}' must be true or false, got {value!r}")
    return value
