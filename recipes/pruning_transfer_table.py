"""Collects recipes/pruning-transfer.sh's runs into one table (OUT/table.tsv), printed as Markdown.

Per row: the sparsity, how it was pruned, the masked-LM validation loss at the end of continued
pre-training, each task's dev score (the best of the run's validations, scored on the whole dev
set), their average, and each task's downstream training loss (the mean of the logged training
losses over the last fifth of the updates: whether the model can still fit the task's data).
"""
import json
import pathlib
import re
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


def main(out):
    out = pathlib.Path(out)
    rows = []
    for run in sorted(out.iterdir()):
        m = re.match(r"^(magnitude|random|per-task)-([0-9.]+)$", run.name)
        if not m or not all((run / t / "train_log.jsonl").exists() for t in TASKS):
            continue
        kind, sparsity = m.group(1), float(m.group(2))
        pretrain = out / ("magnitude-0" if kind == "per-task" else run.name) / "pretrain"
        row = {"sparsity": sparsity, "pruned": {"magnitude": "pre-training (magnitude)",
                                                "random": "pre-training (random)",
                                                "per-task": "fine-tuning, per task"}[kind],
               "pretrain_loss": last_validation_loss(pretrain / "train_log.jsonl")}
        for t in TASKS:
            row[t] = dev_score(run / f"{t}.log", t)
        row["average"] = sum(row[t] for t in TASKS) / len(TASKS)
        for t in TASKS:
            row[f"{t} train loss"] = tail_training_loss(run / t / "train_log.jsonl")
        rows.append(row)
    rows.sort(key=lambda r: (r["pruned"] != "pre-training (magnitude)", r["pruned"], r["sparsity"]))
    columns = list(rows[0].keys())
    with open(out / "table.tsv", "w") as f:
        f.write("\t".join(columns) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) for c in columns) + "\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        cells = [f"{100 * r['sparsity']:.0f}%", r["pruned"]]
        cells += [f"{r[c]:.3f}" if "loss" in c else f"{r[c]:.1f}" for c in columns[2:]]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
