#!/usr/bin/env python3
"""Serving speed of a span-QA encoder through `slimformer serve`, full model against the
decomposed model with its passage cache (docs/DEFORMER.md), in one run: both servers start, then
rounds alternate between them at each concurrency (1 and 8 clients by default), each client
sending the same held-out SQuAD questions by passage id. Prints questions/s, latency p50/p99,
peak memory of each server, the cache's size per passage, the FLOP ratio the split implies for
the measured question and passage lengths, and EM/F1 of the served answers; writes JSON.

  bench/qa_serve.py --bin build/slimformer --full runs/squad/best \
      --decomposed runs/decompose/finetune/model --cache runs/cache --requests 200
Only the Python standard library is needed."""
import argparse, collections, json, os, re, signal, statistics, string, subprocess, sys, threading
import time, urllib.request, gzip


def normalize(s):  # SQuAD v1.1's official answer normalization
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1(prediction, truth):
    p, t = normalize(prediction).split(), normalize(truth).split()
    common = collections.Counter(p) & collections.Counter(t)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(t)
    return 2 * precision * recall / (precision + recall)


def held_out_questions(path, held_out):
    with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as f:
        articles = json.load(f)["data"][-held_out:]
    out = []
    for a in articles:
        for i, p in enumerate(a["paragraphs"]):
            for q in p["qas"]:
                out.append((q["question"], f"{a['title']}#{i}", [x["text"] for x in q["answers"]]))
    return out


class Server:
    def __init__(self, binary, args, name):
        self.name = name
        self.proc = subprocess.Popen([binary, "serve", *args, "--port", "0"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"http://[0-9.:]+", line)
        if not m:
            raise SystemExit(f"{name}: the server did not start: {line}{self.proc.stdout.read()}")
        self.url = m.group(0)
        self.info = json.load(urllib.request.urlopen(self.url + "/info"))

    def ask(self, question, passage_id):
        body = json.dumps({"question": question, "passage_id": passage_id}).encode()
        req = urllib.request.Request(self.url + "/answer", body,
                                     {"Content-Type": "application/json"})
        return json.load(urllib.request.urlopen(req))

    def peak_rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)


def load(server, questions, clients):
    """Sends every question once, `clients` at a time; returns wall seconds and latencies."""
    latencies, answers, lock, queue = [], {}, threading.Lock(), list(enumerate(questions))

    def worker():
        while True:
            with lock:
                if not queue:
                    return
                i, (q, pid, _) = queue.pop()
            start = time.perf_counter()
            a = server.ask(q, pid)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                answers[i] = a

    start = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, answers


def flops(info, layers, length):  # per layer as docs/DEFORMER.md states it
    d, ffn = info["d_model"], info["ffn_dim"]
    return (2 * length * d * (4 * d + 2 * ffn) + 4 * length * length * d) * layers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default="build/slimformer")
    ap.add_argument("--full", required=True, help="the original span-QA model")
    ap.add_argument("--decomposed", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--squad", default="data/squad/dev-v1.1.json.gz")
    ap.add_argument("--held-out", type=int, default=8)
    ap.add_argument("--requests", type=int, default=200, help="questions per round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--output", default="")
    a = ap.parse_args()
    questions = held_out_questions(a.squad, a.held_out)[: a.requests]
    full = Server(a.bin, [a.full, "--passages", a.squad], "full")
    dec = Server(a.bin, [a.decomposed, "--cache", a.cache], "decomposed + cache")
    results = []
    try:
        for server in (full, dec):  # warm-up, untimed
            load(server, questions[:10], 1)
        best = {}
        for clients in [int(c) for c in a.clients.split(",")]:
            for r in range(a.rounds):
                for server in (full, dec) if r % 2 == 0 else (dec, full):
                    wall, lat, answers = load(server, questions, clients)
                    key = (server.name, clients)
                    if key not in best or wall < best[key][0]:
                        best[key] = (wall, lat, answers)
        for (name, clients), (wall, lat, answers) in best.items():
            lat = sorted(lat)
            em = statistics.mean(max(normalize(answers[i]["answer"]) == normalize(t) for t in q[2])
                                 for i, q in enumerate(questions))
            f = statistics.mean(max(f1(answers[i]["answer"], t) for t in q[2])
                                for i, q in enumerate(questions))
            results.append({"server": name, "clients": clients, "questions": len(questions),
                            "questions_per_s": len(questions) / wall,
                            "p50_ms": 1000 * lat[len(lat) // 2],
                            "p99_ms": 1000 * lat[min(len(lat) - 1, int(0.99 * len(lat)))],
                            "em": 100 * em, "f1": 100 * f,
                            "question_tokens": statistics.mean(x["question_tokens"] for x in answers.values()),
                            "passage_tokens": statistics.mean(x["passage_tokens"] for x in answers.values()),
                            "windows": statistics.mean(x["windows"] for x in answers.values())})
        peaks = {s.name: s.peak_rss_mb() for s in (full, dec)}
    finally:
        full.stop()
        dec.stop()
    info = dec.info
    n, k = info["layers"], info["separate_layers"]
    r = [x for x in results if x["server"] == "full"][0]
    q, p, w = r["question_tokens"], r["passage_tokens"], r["windows"]
    window = q + p / w  # tokens of one joint window
    full_flops = w * flops(info, n, window)
    dec_flops = flops(info, k, q) + w * flops(info, n - k, window)
    cache = json.load(open(os.path.join(a.cache, "report.json")))
    summary = {"flop_ratio": full_flops / dec_flops, "cache": cache, "peak_rss_mb": peaks,
               "results": results, "layers": n, "k": k}
    print(f"FLOP ratio of the split (mean question {q:.1f} tokens, {w:.2f} windows of "
          f"{window:.1f} tokens): {summary['flop_ratio']:.2f}")
    print(f"cache: {cache['passages']} passages, {cache['bytes_per_passage'] / 1e3:.1f} KB each "
          f"({cache['dtype']}); peak memory: " +
          ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()))
    print("server\tclients\tquestions/s\tp50 ms\tp99 ms\tEM\tF1")
    for x in sorted(results, key=lambda x: (x["clients"], x["server"])):
        print(f"{x['server']}\t{x['clients']}\t{x['questions_per_s']:.1f}\t{x['p50_ms']:.1f}\t"
              f"{x['p99_ms']:.1f}\t{x['em']:.2f}\t{x['f1']:.2f}")
    for clients in sorted({x["clients"] for x in results}):
        a_, b_ = (next(x for x in results if x["server"] == s and x["clients"] == clients)
                  for s in ("full", "decomposed + cache"))
        print(f"speed-up at {clients} client(s): {b_['questions_per_s'] / a_['questions_per_s']:.2f} "
              f"(0.8 of the FLOP ratio: {0.8 * summary['flop_ratio']:.2f})")
    if a.output:
        with open(a.output, "w") as f:
            json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
