#!/usr/bin/env python3
"""PyTorch peer of `slimformer bench encoder`: the same BERT-style encoder (token, position and
segment embeddings with LayerNorm, post-norm GELU layers, dropout 0.1), the same heads (masked LM:
dense, GELU, LayerNorm, tied decoder plus bias; classification: tanh pooler on the first token),
the same loss, AdamW, and a fixed random batch of the same shape. Prints one JSON line.

Run with Debian's python3-torch: /usr/bin/python3 bench/peers/train_encoder.py --objective mlm
"""
import argparse
import json
import time

import torch
from torch import nn


class Encoder(nn.Module):
    def __init__(self, vocab, d, layers, heads, ffn, max_len, dropout):
        super().__init__()
        self.tokens = nn.Embedding(vocab, d)
        self.positions = nn.Embedding(max_len, d)
        self.segments = nn.Embedding(2, d)
        self.norm = nn.LayerNorm(d, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        layer = nn.TransformerEncoderLayer(d, heads, ffn, dropout, activation="gelu",
                                           layer_norm_eps=1e-12, batch_first=True)
        self.layers = nn.TransformerEncoder(layer, layers)
        self.mlm_transform = nn.Linear(d, d)
        self.mlm_norm = nn.LayerNorm(d, eps=1e-12)
        self.mlm_bias = nn.Parameter(torch.zeros(vocab))
        self.pooler = nn.Linear(d, d)
        self.classifier = nn.Linear(d, 2)

    def encode(self, tokens, segments):
        pos = torch.arange(tokens.size(1)).unsqueeze(0)
        x = self.tokens(tokens) + self.positions(pos) + self.segments(segments)
        return self.layers(self.dropout(self.norm(x)))

    def mlm_logits(self, h):
        h = self.mlm_norm(nn.functional.gelu(self.mlm_transform(h)))
        return h @ self.tokens.weight.t() + self.mlm_bias

    def classify(self, h):
        return self.classifier(self.dropout(torch.tanh(self.pooler(h[:, 0]))))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--objective", choices=["mlm", "classify"], default="mlm")
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn-dim", type=int, default=1024)
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: PyTorch's default)")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Encoder(a.vocab_size, a.d_model, a.layers, a.heads, a.ffn_dim, a.seq_len, 0.1)
    if a.objective == "mlm":  # only the head in use exists, as in slimformer (the pooler always)
        del model.classifier
    else:
        del model.mlm_transform, model.mlm_norm, model.mlm_bias
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9,
                            weight_decay=0.01)
    tokens = torch.randint(5, a.vocab_size, (a.batch, a.seq_len))
    segments = torch.cat([torch.zeros(a.batch, a.seq_len // 2, dtype=torch.long),
                          torch.ones(a.batch, a.seq_len - a.seq_len // 2, dtype=torch.long)], 1)
    chosen = torch.rand(a.batch, a.seq_len) < 0.15  # masked-LM predicts only these positions
    targets = tokens[chosen]
    labels = torch.randint(0, 2, (a.batch,))

    def step():
        opt.zero_grad()
        h = model.encode(tokens, segments)
        if a.objective == "mlm":
            loss = nn.functional.cross_entropy(model.mlm_logits(h[chosen]), targets)
        else:
            loss = nn.functional.cross_entropy(model.classify(h), labels)
        loss.backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "bench": "encoder_train_step", "impl": "pytorch", "torch": torch.__version__,
        "objective": a.objective, "parameters": sum(p.numel() for p in model.parameters()),
        "batch": a.batch, "seq_len": a.seq_len, "steps": a.steps,
        "step_ms": 1000 * seconds / a.steps,
        "input_tokens_per_second": a.batch * a.seq_len * a.steps / seconds,
        "intra_op_threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
