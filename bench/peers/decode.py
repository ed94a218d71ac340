#!/usr/bin/env python3
"""The decoding peer: PyTorch from Python decoding the same checkpoint as `slimformer bench
translate` / `bench generate`, batch for batch from the plan those commands write.

Two ways, as PyTorch users write them:
  --mode cache  a hand-written incremental decoder: keys and values of past positions are kept
                (appended with torch.cat every step), cross-attention keys and values are computed
                once per batch;
  --mode naive  the whole prefix is run again every step, as nn.Transformer users decode.

The model is built from config.json and model.safetensors (read here, without the safetensors
package): post- or pre-norm layers, LayerNorm or RMSNorm, sinusoidal, learned or rotary positions,
(gated) feed-forward blocks, grouped-query attention, tied or separate output embeddings. Prints one
JSON line like slimformer's, and writes the output ids, a line per sequence, when asked.
"""
import argparse
import json
import math
import struct
import time

import torch
import torch.nn.functional as F

# config.json leaves out fields at their defaults (models/transformer_config.h).
CONFIG_DEFAULTS = {"normalize_before": False, "position_embedding": "sinusoidal", "rope_theta": 10000.0,
                   "max_position_embeddings": 512, "norm_type": "layer_norm", "norm_eps": 1e-5,
                   "num_key_value_heads": 0, "activation_function": "relu", "scale_embedding": True,
                   "pad_token_id": 0, "bos_token_id": 2, "eos_token_id": 3, "removed_sublayers": [],
                   "blocks": {}}

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = bytearray(data[base + start:base + end])
        t = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]) if raw else torch.empty(0)
        tensors[name] = t.reshape(entry["shape"]).float()
    return tensors


class Model:
    """The checkpoint's parameters and the forward pass of one stack of layers."""

    def __init__(self, directory):
        with open(f"{directory}/config.json") as f:
            self.c = {**CONFIG_DEFAULTS, **json.load(f)}
        self.w = load_safetensors(f"{directory}/model.safetensors")
        c = self.c
        self.d = c["d_model"]
        self.removed = set(c.get("removed_sublayers", []))
        self.blocks = c.get("blocks", {})
        if c["model_type"] == "seq2seq":
            self.embed = self.w["encoder_embed_tokens.weight"]
            self.target_embed = self.w.get("decoder_embed_tokens.weight", self.embed)
        else:
            self.embed = self.target_embed = self.w["embed_tokens.weight"]
        self.out = self.w.get("lm_head.weight", self.target_embed)
        positions = c.get("max_position_embeddings", 512)
        rate = torch.exp(torch.arange(0, self.d, 2, dtype=torch.float32) * (-math.log(10000.0) / self.d))
        angle = torch.arange(positions, dtype=torch.float32).unsqueeze(1) * rate
        self.sinusoids = torch.zeros(positions, self.d)
        self.sinusoids[:, 0::2] = torch.sin(angle)
        self.sinusoids[:, 1::2] = torch.cos(angle)[:, : self.d // 2]

    def linear(self, x, name):
        return F.linear(x, self.w[name + ".weight"], self.w.get(name + ".bias"))

    def norm(self, x, name):
        if self.c["norm_type"] == "rms_norm":
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.c["norm_eps"]) * self.w[name + ".weight"]
        return F.layer_norm(x, (self.d,), self.w[name + ".weight"], self.w[name + ".bias"], self.c["norm_eps"])

    def embed_tokens(self, tokens, start, table, positions_name):
        x = F.embedding(tokens, table)
        if self.c.get("scale_embedding"):
            x = x * math.sqrt(self.d)
        kind = self.c["position_embedding"]
        if kind == "learned":
            x = x + self.w[positions_name][start:start + tokens.shape[1]]
        elif kind == "sinusoidal":
            x = x + self.sinusoids[start:start + tokens.shape[1]]
        return x

    def heads(self, path, stack):
        spec = self.blocks.get(path, {})
        heads = spec.get("heads", self.c[f"{stack}_attention_heads"])
        kv = spec.get("kv_heads", 0) or (self.c.get("num_key_value_heads", 0) if "self_attn" in path else 0) or heads
        return heads, kv

    def rotary(self, x, start):
        hd = x.shape[-1]
        inv = torch.pow(self.c.get("rope_theta", 10000.0), torch.arange(0, hd, 2, dtype=torch.float32) / hd).reciprocal()
        angle = torch.arange(start, start + x.shape[-2], dtype=torch.float32).unsqueeze(1) * inv
        cos, sin = angle.cos(), angle.sin()
        even, odd = x[..., 0::2], x[..., 1::2]
        return torch.stack([even * cos - odd * sin, even * sin + odd * cos], -1).flatten(-2)

    def attention(self, x, path, stack, start, cache, memory=None, memory_mask=None):
        heads, kv_heads = self.heads(path, stack)
        b, t, _ = x.shape
        p = path + ".block."
        q = self.linear(x, p + "q_proj")
        hd = q.shape[-1] // heads
        q = q.view(b, t, heads, hd).transpose(1, 2)
        if memory is not None:
            if cache is not None and "k" in cache:
                k, v = cache["k"], cache["v"]
            else:
                k = self.linear(memory, p + "k_proj").view(b, -1, kv_heads, hd).transpose(1, 2)
                v = self.linear(memory, p + "v_proj").view(b, -1, kv_heads, hd).transpose(1, 2)
                if cache is not None:
                    cache["k"], cache["v"] = k, v
            mask = memory_mask
        else:
            k = self.linear(x, p + "k_proj").view(b, t, kv_heads, hd).transpose(1, 2)
            v = self.linear(x, p + "v_proj").view(b, t, kv_heads, hd).transpose(1, 2)
            if self.c["position_embedding"] == "rotary":
                q, k = self.rotary(q, start), self.rotary(k, start)
            if cache is not None:
                if "k" in cache:
                    k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
                cache["k"], cache["v"] = k, v
            mask = memory_mask  # the encoder's padding mask, or None
            if stack == "decoder" and t > 1:
                causal = torch.ones(t, k.shape[2], dtype=torch.bool).triu(1 + k.shape[2] - t)
                mask = causal if mask is None else (mask | causal)
        if kv_heads != heads:
            k = k.repeat_interleave(heads // kv_heads, 1)
            v = v.repeat_interleave(heads // kv_heads, 1)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(hd)
        if mask is not None:
            scores = scores.masked_fill(mask, float("-inf"))
        out = torch.matmul(torch.softmax(scores, -1), v).transpose(1, 2).reshape(b, t, -1)
        return self.linear(out, p + "out_proj")

    def feed_forward(self, x, path):
        p = path + ".block."
        act = {"relu": F.relu, "gelu": F.gelu, "silu": F.silu, "swish": F.silu}[self.c["activation_function"]]
        h = act(self.linear(x, p + "fc1"))
        if p + "fc3.weight" in self.w:
            h = h * self.linear(x, p + "fc3")
        return self.linear(h, p + "fc2")

    def sublayer(self, x, path, fn):
        if path in self.removed:
            return x
        if self.c["normalize_before"]:
            return x + fn(self.norm(x, path + ".norm"))
        return self.norm(x + fn(x), path + ".norm")

    def stack(self, x, stack, start, caches=None, memory=None, memory_mask=None, self_mask=None):
        for i in range(self.c[f"{stack}_layers"]):
            base = f"{stack}.layers.{i}"
            cache = caches[i] if caches is not None else {}
            x = self.sublayer(x, base + ".self_attn", lambda h: self.attention(
                h, base + ".self_attn", stack, start, cache.setdefault("self", {}) if caches is not None else None,
                memory_mask=self_mask))
            if memory is not None:
                x = self.sublayer(x, base + ".cross_attn", lambda h: self.attention(
                    h, base + ".cross_attn", stack, start, cache.setdefault("cross", {}) if caches is not None else None,
                    memory=memory, memory_mask=memory_mask))
            x = self.sublayer(x, base + ".ffn", lambda h: self.feed_forward(h, base + ".ffn"))
        if self.c["normalize_before"]:
            x = self.norm(x, f"{stack}.final_norm")
        return x

    def logits(self, x):
        return torch.matmul(x, self.out.t())


class Seq2SeqSteps:
    """Next-token log-probabilities of a translation model, with or without a cache."""

    def __init__(self, model, src, use_cache):
        self.m, self.use_cache = model, use_cache
        pad = model.c["pad_token_id"]
        mask = src.eq(pad).unsqueeze(1).unsqueeze(1)
        self.mask = mask if bool(mask.any()) else None
        x = model.embed_tokens(src, 0, model.embed, "encoder_embed_positions.weight")
        self.memory = model.stack(x, "encoder", 0, self_mask=self.mask)
        self.caches = [dict() for _ in range(model.c["decoder_layers"])] if use_cache else None

    def expand(self, order):
        self.memory = self.memory.index_select(0, order)
        if self.mask is not None:
            self.mask = self.mask.index_select(0, order)

    def reorder(self, order):
        if self.caches is None:
            return
        for cache in self.caches:
            if "k" in cache.get("self", {}):
                cache["self"]["k"] = cache["self"]["k"].index_select(0, order)
                cache["self"]["v"] = cache["self"]["v"].index_select(0, order)

    def log_probs(self, prefix):
        """prefix: [rows, t] tokens so far (starting with <s>)."""
        m = self.m
        if self.use_cache:
            start = prefix.shape[1] - 1
            tokens = prefix[:, -1:]
        else:
            start, tokens = 0, prefix
        x = m.embed_tokens(tokens, start, m.target_embed, "decoder_embed_positions.weight")
        x = m.stack(x, "decoder", start, self.caches, memory=self.memory, memory_mask=self.mask)
        lp = torch.log_softmax(m.logits(x[:, -1]), -1)
        lp[:, m.c["pad_token_id"]] = float("-inf")
        lp[:, m.c["bos_token_id"]] = float("-inf")
        return lp


def greedy(model, src, max_length, use_cache):
    steps = Seq2SeqSteps(model, src, use_cache)
    eos = model.c["eos_token_id"]
    prefix = torch.full((src.shape[0], 1), model.c["bos_token_id"], dtype=torch.long)
    out = [[] for _ in range(src.shape[0])]
    done = [False] * src.shape[0]
    for _ in range(max_length):
        nxt = steps.log_probs(prefix).argmax(-1)
        for b, token in enumerate(nxt.tolist()):
            if done[b]:
                continue
            if token == eos:
                done[b] = True
            else:
                out[b].append(token)
        if all(done):
            break
        prefix = torch.cat([prefix, nxt.unsqueeze(1)], 1)
    return out


class PromptSteps:
    """Next-token log-probabilities of a language model continuing one prompt, for k beams."""

    def __init__(self, model, prompt, k, use_cache):
        self.m, self.k = model, k
        self.prompt = torch.tensor([prompt], dtype=torch.long)
        self.caches = [dict() for _ in range(model.c["decoder_layers"])] if use_cache else None

    def reorder(self, order):
        for cache in self.caches or []:
            cache["self"]["k"] = cache["self"]["k"].index_select(0, order)
            cache["self"]["v"] = cache["self"]["v"].index_select(0, order)

    def log_probs(self, prefix):
        """prefix: [rows, 1 + generated] (a start column, then the tokens generated so far)."""
        m, generated, length = self.m, prefix[:, 1:], self.prompt.shape[1]
        if generated.shape[1] == 0:  # the prompt, once, repeated for every beam
            x = m.stack(m.embed_tokens(self.prompt, 0, m.embed, "embed_positions.weight"), "decoder", 0, self.caches)
            self.reorder(torch.zeros(self.k, dtype=torch.long))
            return torch.log_softmax(m.logits(x[:, -1]), -1).expand(self.k, -1)
        if self.caches is not None:
            start, tokens = length + generated.shape[1] - 1, generated[:, -1:]
        else:
            start, tokens = 0, torch.cat([self.prompt.expand(prefix.shape[0], -1), generated], 1)
        x = m.stack(m.embed_tokens(tokens, start, m.embed, "embed_positions.weight"), "decoder", start, self.caches)
        return torch.log_softmax(m.logits(x[:, -1]), -1)


def beam(steps, batch, max_length, k, length_penalty, start_token, end_tokens):
    """Beam search over `steps` (batch * k rows), as slimformer's eval/beam_search.cpp."""
    inf = float("inf")
    finished = [[] for _ in range(batch)]
    done = [False] * batch
    history = [[] for _ in range(batch * k)]
    scores = [0.0 if j == 0 else -inf for _ in range(batch) for j in range(k)]
    prefix = torch.full((batch * k, 1), start_token, dtype=torch.long)

    def normalized(score, length):
        return score / math.pow(length, length_penalty)

    for _ in range(max_length):
        lp = steps.log_probs(prefix)
        vocab = lp.shape[1]
        total = lp.double() + torch.tensor(scores, dtype=torch.float64).unsqueeze(1)
        top_scores, top_index = total.view(batch, k * vocab).topk(2 * k, 1)
        top_scores, top_index = top_scores.tolist(), top_index.tolist()
        order, tokens, new_scores = [0] * (batch * k), [start_token] * (batch * k), [-inf] * (batch * k)
        for b in range(batch):
            filled = 0
            for c in range(2 * k):
                if filled >= k:
                    break
                beam_index, token = divmod(top_index[b][c], vocab)
                score = top_scores[b][c]
                if not math.isfinite(score):
                    break
                row = b * k + beam_index
                if token in end_tokens:
                    if not done[b] and len(finished[b]) < k:
                        finished[b].append((history[row], normalized(score, len(history[row]) + 1)))
                    continue
                order[b * k + filled], tokens[b * k + filled] = row, token
                new_scores[b * k + filled] = score
                filled += 1
            for j in range(filled, k):
                order[b * k + j] = b * k
            if len(finished[b]) >= k:
                done[b] = True
        if all(done):
            break
        history = [history[order[r]] + [tokens[r]] for r in range(batch * k)]
        scores = new_scores
        order_t = torch.tensor(order)
        steps.reorder(order_t)
        prefix = torch.cat([prefix.index_select(0, order_t), torch.tensor(tokens).unsqueeze(1)], 1)
    out = []
    for b in range(batch):
        candidates = list(finished[b])
        if not done[b]:
            for j in range(k):
                r = b * k + j
                if math.isfinite(scores[r]):
                    candidates.append((history[r], normalized(scores[r], len(history[r]))))
        best = None
        for c in candidates:
            if best is None or c[1] > best[1]:
                best = c
        out.append(best[0] if best else [])
    return out


def generate(model, prompt, new_tokens, use_cache):
    caches = [dict() for _ in range(model.c["decoder_layers"])] if use_cache else None
    tokens = torch.tensor([prompt], dtype=torch.long)
    feed, start, out = tokens, 0, []
    for _ in range(new_tokens):
        x = model.embed_tokens(feed, start, model.embed, "embed_positions.weight")
        x = model.stack(x, "decoder", start, caches)
        token = int(model.logits(x[:, -1])[0].argmax())
        out.append(token)
        tokens = torch.cat([tokens, torch.tensor([[token]])], 1)
        if use_cache:
            start += feed.shape[1]
            feed = tokens[:, -1:]
        else:
            feed = tokens
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="checkpoint directory")
    parser.add_argument("--plan", required=True, help="the batches slimformer bench wrote")
    parser.add_argument("--mode", choices=["cache", "naive"], default="cache")
    parser.add_argument("--output-ids", help="write the output ids here, a line per sequence")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads")
    parser.add_argument("--warmup", type=int, default=1, help="untimed batches first")
    parser.add_argument("--limit-batches", type=int, default=0, help="first N batches only (0: all)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model = Model(args.model)
    load_seconds = time.perf_counter() - start
    with open(args.plan) as f:
        plan = json.load(f)
    batches = plan["batches"][: args.limit_batches or None]
    use_cache = args.mode == "cache"
    lm = model.c["model_type"] == "causal_lm"

    def run(batch):
        k = plan.get("beam", 1)
        if lm and k <= 1:
            return [generate(model, p, plan["new_tokens"], use_cache) for p in batch["src"]]
        if lm:  # no end token: every prompt the same work, as slimformer's bench generate
            return [beam(PromptSteps(model, p, k, use_cache), 1, plan["new_tokens"], k, plan["length_penalty"], 0, [])[0]
                    for p in batch["src"]]
        src = torch.tensor(batch["src"], dtype=torch.long)
        if k <= 1:
            return greedy(model, src, batch["max_length"], use_cache)
        steps = Seq2SeqSteps(model, src, use_cache)
        steps.expand(torch.arange(src.shape[0]).repeat_interleave(k))
        return beam(steps, src.shape[0], batch["max_length"], k, plan["length_penalty"],
                    model.c["bos_token_id"], [model.c["eos_token_id"]])

    with torch.inference_mode():
        for batch in batches[: args.warmup]:
            run(batch)
        outputs, latencies = [], []
        start = time.perf_counter()
        for batch in batches:
            t0 = time.perf_counter()
            outputs.extend(run(batch))
            latencies.append(time.perf_counter() - t0)
        seconds = time.perf_counter() - start
    tokens = sum(len(o) + (0 if lm else 1) for o in outputs)
    if args.output_ids:
        with open(args.output_ids, "w") as f:
            for o in outputs:
                f.write(" ".join(map(str, o)) + "\n")
    latencies.sort()

    def quantile(q):
        return latencies[min(len(latencies) - 1, max(0, math.ceil(q * len(latencies)) - 1))]

    print(json.dumps({
        "bench": "generate" if lm else "translate", "impl": f"pytorch-{args.mode}",
        "load_seconds": load_seconds, "seconds": seconds, "sequences": len(outputs),
        "output_tokens": tokens, "tokens_per_second": tokens / seconds,
        "sequences_per_second": len(outputs) / seconds,
        "batch_latency_ms_p50": 1000 * quantile(0.5), "batch_latency_ms_p90": 1000 * quantile(0.9),
        "intra_op_threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
