"""Collects recipes/pruning-transfer.sh's runs into one table (OUT/table.tsv), printed as Markdown.

Per row: the sparsity, how it was pruned, the masked-LM validation loss at the end of continued
pre-training, each task's dev score (the best of the run's validations, scored on the whole dev
set), their average, and each task's downstream training loss (the mean of the logged training
losses over the last fifth of the updates: whether the model can still fit the task's data).
Rows of seed 1 go to table.tsv (the charts' input); rows run under several seeds (name-seedN)
also go to seeds.tsv, and their mean and standard deviation are printed.
"""
import json
import pathlib
import re
import statistics
import sys

TASKS = ["SST-2", "CoLA"]


def last_validation_loss(log):
    losses = [e["loss"] for e in map(json.loads, log.read_text().splitlines())
              if e.get("event") == "validation"]
    return losses[-1]


def tail_training_loss(log):
    events = [e for e in map(json.loads, log.read_text().splitlines()) if e.get("event") == "train"]
    last = events[-1]["step"]
    tail = [e["loss"] for e in events if e["step"] > 0.8 * last]
    return sum(tail) / len(tail)


def dev_score(log, task):
    for line in log.read_text().splitlines():
        m = re.match(rf"^{re.escape(task)} (-?[0-9.]+)", line)
        if m:
            return float(m.group(1))
    raise SystemExit(f"{log}: no '{task} SCORE' line (did the run finish?)")


KINDS = {"magnitude": "pre-training (magnitude)", "random": "pre-training (random)",
         "per-task": "fine-tuning, per task"}


def collect(out):
    """Every finished run under OUT, one row each, with its seed (1 unless the name says)."""
    rows = []
    for run in sorted(out.iterdir()):
        m = re.match(r"^(magnitude|random|per-task)-([0-9.]+)(?:-seed([0-9]+))?$", run.name)
        if not m or not all((run / t / "results.json").exists() for t in TASKS):
            continue
        kind, sparsity, seed = m.group(1), float(m.group(2)), int(m.group(3) or 1)
        pretrain = out / ("magnitude-0" if kind == "per-task" else run.name) / "pretrain"
        row = {"sparsity": sparsity, "pruned": KINDS[kind], "seed": seed,
               "pretrain_loss": last_validation_loss(pretrain / "train_log.jsonl")}
        for t in TASKS:
            row[t] = dev_score(run / f"{t}.log", t)
        row["average"] = sum(row[t] for t in TASKS) / len(TASKS)
        for t in TASKS:
            row[f"{t} train loss"] = tail_training_loss(run / t / "train_log.jsonl")
        rows.append(row)
    rows.sort(key=lambda r: (r["pruned"] != KINDS["magnitude"], r["pruned"], r["sparsity"],
                             r["seed"]))
    return rows


def write_tsv(path, rows, columns):
    with open(path, "w") as f:
        f.write("\t".join(columns) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in columns) + "\n")


def cell(column, value):
    return f"{value:.3f}" if "loss" in column else f"{value:.1f}"


def main(out):
    out = pathlib.Path(out)
    rows = collect(out)
    if not rows:
        raise SystemExit(f"{out}: no finished run")
    # table.tsv and the charts: seed 1, one row per sparsity and kind.
    first = [r for r in rows if r["seed"] == 1]
    columns = [c for c in rows[0] if c != "seed"]
    write_tsv(out / "table.tsv", first, columns)
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in first:
        cells = [f"{100 * r['sparsity']:.0f}%", r["pruned"]]
        cells += [cell(c, r[c]) for c in columns[2:]]
        print("| " + " | ".join(cells) + " |")
    # Rows run under several seeds: every run in seeds.tsv, and their mean ± sd.
    groups = {}
    for r in rows:
        groups.setdefault((r["sparsity"], r["pruned"]), []).append(r)
    seeded = {k: g for k, g in groups.items() if len(g) > 1}
    if not seeded:
        return
    write_tsv(out / "seeds.tsv", [r for g in seeded.values() for r in g], list(rows[0].keys()))
    print()
    print("| sparsity | pruned | seeds | " + " | ".join(columns[2:]) + " |")
    print("|" + "---|" * (len(columns) + 1))
    for (sparsity, pruned), g in seeded.items():
        cells = [f"{100 * sparsity:.0f}%", pruned, ", ".join(str(r["seed"]) for r in g)]
        for c in columns[2:]:
            values = [r[c] for r in g]
            mean = statistics.mean(values)
            cells.append(f"{cell(c, mean)} ± {cell(c, statistics.stdev(values))}")
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
