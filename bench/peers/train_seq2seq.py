#!/usr/bin/env python3
"""PyTorch peer of `slimformer bench train`: the same post-norm encoder-decoder (sinusoidal
positions, shared and tied embeddings scaled by sqrt(d), ReLU FFN, dropout), the same label-smoothed
loss, Adam, and a fixed random batch of the same shape. Prints one JSON line.

Run with Debian's python3-torch: /usr/bin/python3 bench/peers/train_seq2seq.py --threads 1
"""
import argparse
import json
import math
import time

import torch
from torch import nn


class Seq2Seq(nn.Module):
    def __init__(self, vocab, d, layers, heads, ffn, dropout):
        super().__init__()
        self.d = d
        self.embed = nn.Embedding(vocab, d)
        self.transformer = nn.Transformer(d, heads, layers, layers, ffn, dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)

    def positions(self, length):
        pos = torch.arange(length, dtype=torch.float32).unsqueeze(1)
        rate = torch.exp(torch.arange(0, self.d, 2, dtype=torch.float32) * (-math.log(10000.0) / self.d))
        table = torch.zeros(length, self.d)
        table[:, 0::2] = torch.sin(pos * rate)
        table[:, 1::2] = torch.cos(pos * rate)
        return table

    def embed_tokens(self, tokens):
        return self.dropout(self.embed(tokens) * math.sqrt(self.d) + self.positions(tokens.size(1)))

    def forward(self, src, tgt):
        mask = torch.triu(torch.full((tgt.size(1), tgt.size(1)), float("-inf")), 1)
        h = self.transformer(self.embed_tokens(src), self.embed_tokens(tgt), tgt_mask=mask,
                             src_key_padding_mask=src.eq(0), memory_key_padding_mask=src.eq(0))
        return h @ self.embed.weight.t()


def label_smoothed(logits, target, eps, pad):
    lp = torch.log_softmax(logits.float(), -1)
    keep = target.ne(pad)
    nll = -lp.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    loss = (1 - eps) * nll + eps * (-lp.mean(-1))
    return loss.masked_select(keep).sum(), int(keep.sum())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--d-model", type=int, default=256)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--ffn-dim", type=int, default=1024)
    p.add_argument("--vocab-size", type=int, default=6000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--src-len", type=int, default=20)
    p.add_argument("--tgt-len", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: PyTorch's default)")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Seq2Seq(a.vocab_size, a.d_model, a.layers, a.heads, a.ffn_dim, a.dropout)
    # nn.Transformer adds final encoder/decoder norms that a post-norm stack does not have.
    model.transformer.encoder.norm = None
    model.transformer.decoder.norm = None
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
    src = torch.randint(4, a.vocab_size, (a.batch, a.src_len))
    tgt_in = torch.randint(4, a.vocab_size, (a.batch, a.tgt_len))
    tgt_out = torch.randint(4, a.vocab_size, (a.batch, a.tgt_len))

    def step():
        opt.zero_grad()
        loss, tokens = label_smoothed(model(src, tgt_in), tgt_out, 0.1, 0)
        (loss / tokens).backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "bench": "train_step", "impl": "pytorch", "torch": torch.__version__,
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch": a.batch, "src_len": a.src_len, "tgt_len": a.tgt_len, "steps": a.steps,
        "step_ms": 1000 * seconds / a.steps,
        "target_tokens_per_second": a.batch * a.tgt_len * a.steps / seconds,
        "intra_op_threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
