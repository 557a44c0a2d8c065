"""The benchmark's report folder: ``results.csv`` and ``results.json`` (one row per run),
``report.md`` (one line per kind, budget and trainer, runs averaged; what to buy: each annotation
with its best trainer against annotator hours; paired per-case comparisons of ours against stock;
the cost model's rates and sources) and ``dice_vs_cost.png``."""

from __future__ import annotations

import csv
import json
import math
import statistics
from collections import defaultdict
from pathlib import Path

from nnunet_weak.benchmark.cost import Rate
from nnunet_weak.benchmark.paired import case_dice, compare, mean_over_runs, run_spread
from nnunet_weak.benchmark.protocol import STOCK
from nnunet_weak.benchmark.runs import SCHEDULES
from nnunet_weak.pipeline import CPU_PLANS

COLUMNS = ("kind", "budget", "data", "trainer", "repeat", "folds", "schedule", "iterations", "target_spacing",
           "dataset", "dice", "hd95",
           "surface_dice", "annotator_hours", "voxel_percent", "labelled_cases", "training_cases",
           "seconds_per_iteration", "peak_mib", "test_cases", "scores")


def write_report(rows: list[dict], work: Path, cost_model: dict[str, Rate]) -> Path:
    """Write the report of ``rows`` (``run_benchmark``'s) into ``work/report``; returns the folder.
    Rows marked "missing" (``--no-train``: not scored yet) are left out of the results, the tables
    and the plot, and listed in the report as such."""
    folder = Path(work) / "report"
    folder.mkdir(parents=True, exist_ok=True)
    missing = [r for r in rows if r.get("missing")]
    rows = [r for r in rows if not r.get("missing")]
    with open(folder / "results.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (folder / "results.json").write_text(json.dumps([_strict(r) for r in rows], indent=1) + "\n")
    groups = group_runs(rows)
    comparisons = paired_comparisons(rows, Path(work))
    (folder / "report.md").write_text(markdown(groups, comparisons, cost_model, split_note(rows),
                                               training_note(rows or missing), missing))
    plot(groups, folder / "dice_vs_cost.png", len(missing))
    return folder


def group_runs(rows: list[dict]) -> list[dict]:
    """Runs of one kind, budget, data and trainer together: mean scores, the Dice's standard
    deviation between repeats (0 for one run) and how many runs."""
    grouped: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[(row["kind"], row["budget"], row["data"], row["trainer"])].append(row)
    out = []
    for (kind, budget, data, trainer), runs in grouped.items():
        dice = [r["dice"] for r in runs]
        out.append({"kind": kind, "budget": budget, "data": data, "trainer": trainer, "runs": len(runs),
                    "dice": statistics.fmean(dice), "dice_sd": statistics.stdev(dice) if len(dice) > 1 else 0.0,
                    "hd95": _mean(r["hd95"] for r in runs), "surface_dice": _mean(r["surface_dice"] for r in runs),
                    "annotator_hours": runs[0]["annotator_hours"], "voxel_percent": runs[0]["voxel_percent"],
                    "seconds_per_iteration": _mean(r["seconds_per_iteration"] for r in runs),
                    "peak_mib": max((r["peak_mib"] for r in runs if not math.isnan(r["peak_mib"])), default=math.nan)})
    return out


TOLERANCES = (0.01, 0.02, 0.05)  # Dice below full labels' that "what to buy" names the cheapest annotation for


def best_buys(groups: list[dict]) -> list[dict]:
    """Each annotation (kind and budget) with its best trainer, cheapest first; ``efficient``: no
    cheaper annotation scored as well (the Dice-against-hours front)."""
    best: dict[tuple, dict] = {}
    for g in groups:
        key = (g["kind"], g["budget"])
        if key not in best or g["dice"] > best[key]["dice"]:
            best[key] = g
    out, top = [], -math.inf
    for g in sorted(best.values(), key=lambda g: (g["annotator_hours"], -g["dice"])):
        out.append({**g, "efficient": g["dice"] > top})
        top = max(top, g["dice"])
    return out


def paired_comparisons(rows: list[dict], work: Path) -> list[dict]:
    """Per arm, each trainer of ours against each stock run group on the same test cases (per case:
    Dice averaged over classes, then over a side's repeats), beside the largest spread between two
    repeats of one side."""
    by: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        by[(row["arm"], row["data"], row["trainer"])].append(row)
    out = []
    for (arm, _, trainer), ours in by.items():
        if trainer == STOCK:
            continue
        for (other_arm, other_data, other_trainer), stock in by.items():
            if other_arm != arm or other_trainer != STOCK:
                continue
            runs_a = [case_dice(work / r["scores"]) for r in ours]
            runs_b = [case_dice(work / r["scores"]) for r in stock]
            result = compare(mean_over_runs(runs_a), mean_over_runs(runs_b))
            result.update(kind=ours[0]["kind"], budget=ours[0]["budget"], ours=trainer,
                          stock=STOCK + ("" if other_data == "weak" else f" ({other_data})"),
                          runs=(len(runs_a), len(runs_b)), spread=max(run_spread(runs_a), run_spread(runs_b)))
            out.append(result)
    return out


def split_note(rows: list[dict]) -> str:
    """What the scores were computed on: the held-out cases, or nnU-Net's cross-validation folds."""
    folds = {r["folds"] for r in rows if r.get("folds")}
    if not folds:
        return "the held-out cases"
    return (f"nnU-Net's cross-validation folds {', '.join(sorted(folds))} ({rows[0]['test_cases']} cases, each scored "
            "by the fold that held it out; annotator hours, % voxels and s/it averaged over the folds)")


def training_note(rows: list[dict]) -> str:
    """How the runs trained: schedule, iterations and plans (the CPU schedules' plans are shrunk;
    a target spacing given to the benchmark is named)."""
    if not rows:
        return ""
    row = rows[0]
    plans = "nnU-Net's plans shrunk to batch 2 and 16-128 features, one CPU thread" \
        if SCHEDULES[row["schedule"]][2] == CPU_PLANS else "nnU-Net's own plans"
    spacing = row.get("target_spacing")
    at = "" if spacing is None else f", planned at {' x '.join(f'{s:g}' for s in spacing)} mm (--target-spacing)"
    return f"Trained at {row['schedule']} ({row['iterations']} iterations) on {plans}{at}. "


def markdown(groups: list[dict], comparisons: list[dict], cost_model: dict[str, Rate],
             scored_on: str = "the held-out cases", trained: str = "", missing: list[dict] = ()) -> str:
    lines = ["# Benchmark report", ""]
    if missing:
        lines += [f"**Partial report** (`--no-train`): {len(missing)} of the protocol's runs are not scored yet and "
                  "are left out of every table and the plot (listed under *Not scored yet*); rerun without "
                  "`--no-train` to train them.", ""]
    lines += [f"{trained}Scores against the dense truth of {scored_on}; Dice is the mean over classes, averaged over "
              "runs (± the standard deviation between repeats). Annotator hours come from the cost model below.", "",
              "| kind | budget | trainer | Dice | HD95 (mm) | surface Dice | annotator hours | % voxels | s/it "
              "| peak MiB | runs |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for g in groups:
        trainer = g["trainer"] + ("" if g["data"] == "weak" else f" ({g['data']})")
        spread = f" ± {g['dice_sd']:.4f}" if g["runs"] > 1 else ""
        lines.append(f"| {g['kind']} | {g['budget']} | {trainer} | {g['dice']:.4f}{spread} | {g['hd95']:.2f} "
                     f"| {g['surface_dice']:.4f} | {g['annotator_hours']:.2f} | {g['voxel_percent']:.2f} "
                     f"| {g['seconds_per_iteration']:.2f} | {g['peak_mib']:.0f} | {g['runs']} |")
    lines += _what_to_buy(groups)
    lines += ["", "## Ours against stock, case by case", ""]
    if comparisons:
        lines += ["| kind | budget | ours | stock | runs | ours - stock | standard error | ours better on "
                  "| Wilcoxon p | spread between repeats |", "|---|---|---|---|---|---|---|---|---|---|"]
        for c in comparisons:
            spread = "none: one run a side" if c["runs"] == (1, 1) else \
                f"{c['spread']:.4f} ({'beyond' if abs(c['difference']) > c['spread'] else 'within'})"
            lines.append(f"| {c['kind']} | {c['budget']} | {c['ours']} | {c['stock']} | {c['runs'][0]} vs "
                         f"{c['runs'][1]} | {c['difference']:+.4f} | {c['standard_error']:.4f} "
                         f"| {c['a_better']} of {c['cases']} | {c['p_wilcoxon']:.3g} | {spread} |")
        lines += ["", "Two trainings of one command differ too: a difference within the spread between repeats is "
                  "no evidence, whatever p says. With one run a side there is no spread to compare with."]
    else:
        lines.append("No trainer of ours ran beside the stock one.")
    if missing:
        lines += ["", "## Not scored yet", "", "| kind | budget | trainer | repeat |", "|---|---|---|---|"]
        lines += [f"| {r['kind']} | {r['budget']} | {r['trainer']}" + ("" if r["data"] == "weak" else f" ({r['data']})")
                  + f" | {r['repeat']} |" for r in missing]
    lines += ["", "## Cost model", "", "| rate | seconds | status | source |", "|---|---|---|---|"]
    for key, rate in cost_model.items():
        seconds = "derived per case" if rate.seconds is None else f"{rate.seconds:g}"
        lines.append(f"| {key} | {seconds} | {rate.status} | {rate.source} |")
    return "\n".join(lines) + "\n"


def _what_to_buy(groups: list[dict]) -> list[str]:
    buys = best_buys(groups)
    full = next((b for b in buys if b["kind"] == "full"), None)
    lines = ["", "## What to buy", "",
             "Each annotation with the trainer that scored best on it, cheapest first. *Front*: no cheaper "
             "annotation scored as well; the others cost more for less. Differences within the spread between "
             "repeats (the table's ±, and the paired comparisons below) are no evidence.", "",
             "| annotator hours | % voxels | kind | budget | best trainer | Dice | runs | front |",
             "|---|---|---|---|---|---|---|---|"]
    for b in buys:
        trainer = b["trainer"] + ("" if b["data"] == "weak" else f" ({b['data']})")
        lines.append(f"| {b['annotator_hours']:.2f} | {b['voxel_percent']:.2f} | {b['kind']} | {b['budget']} "
                     f"| {trainer} | {b['dice']:.4f} | {b['runs']} | {'yes' if b['efficient'] else ''} |")
    if full is None:
        return lines + ["", "No full-label run to compare the annotations with (add `[[kind]] name = \"full\"`)."]
    lines.append("")
    for tolerance in TOLERANCES:
        cheapest = next((b for b in buys if b["dice"] >= full["dice"] - tolerance - 1e-9), full)
        share = cheapest["annotator_hours"] / full["annotator_hours"] if full["annotator_hours"] else math.nan
        lines.append(f"- Within {tolerance:g} Dice of full labels ({full['dice']:.4f}, "
                     f"{full['annotator_hours']:.2f} h): {cheapest['kind']} {cheapest['budget']} with "
                     f"{cheapest['trainer']}, {cheapest['dice']:.4f} "
                     f"for {cheapest['annotator_hours']:.2f} h ({100 * share:.0f} % of full labels' hours).")
    return lines


def plot(groups: list[dict], path: Path, missing: int = 0) -> None:
    """Dice against annotator hours and against % voxels annotated: one curve per kind and trainer
    (error bars: standard deviation between repeats), full labels' stock Dice as a horizontal line;
    titled as partial when ``missing`` runs are not scored yet."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    curves: dict[tuple, list[dict]] = defaultdict(list)
    for g in groups:
        if g["kind"] != "full":
            curves[(g["kind"], g["trainer"], g["data"])].append(g)
    ceiling = [g for g in groups if g["kind"] == "full" and g["trainer"] == STOCK]
    for ax, x, label in zip(axes, ("annotator_hours", "voxel_percent"), ("annotator hours", "% of voxels annotated"),
                            strict=True):
        for (kind, trainer, data), points in sorted(curves.items()):
            points = sorted(points, key=lambda g: g[x])
            name = f"{kind}: {trainer.removeprefix('nnUNetTrainer')}" + ("" if data == "weak" else f" ({data})")
            ax.errorbar([g[x] for g in points], [g["dice"] for g in points], yerr=[g["dice_sd"] for g in points],
                        marker="o", capsize=3, label=name)
        if ceiling:
            ax.axhline(ceiling[0]["dice"], color="black", linestyle="--",
                       label=f"full labels (stock), {ceiling[0]['annotator_hours']:.3g} h")
        if all(g[x] > 0 for g in groups):
            ax.set_xscale("log")  # labelled at 1, 2 and 5 of each decade: the minor ticks' labels would overlap
            ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("Dice (mean over classes)")
    if missing:
        fig.suptitle(f"Partial: {missing} run{'s' if missing > 1 else ''} of the protocol not scored yet "
                     "(report.md lists them)", fontsize=10)
    if groups:
        axes[1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _mean(values) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.fmean(finite) if finite else math.nan


def _strict(row: dict) -> dict:
    """A row as strict JSON: NaN (an undefined HD95, an unknown peak) becomes null."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
