#!/usr/bin/env python3
"""Reference perplexity with Hugging Face transformers on CPU (pruning-paper protocol), for checking and timing come4j.

Python environment (torch CPU + transformers; pip is configured for a local offline wheelhouse):

    python3 -m venv .venv && .venv/bin/pip install torch transformers

Usage:

    .venv/bin/python tools/ppl_reference.py --model DIR --text FILE --seq-len N [--threads T] [--dtype native|fp32]
                                            [--batch B] [--json]

Protocol (../shared/docs/evaluation.md section 1): the file is read as UTF-8 and taken as is (documents are already
joined with blank lines); the whole text is tokenized once with the tokenizer's default special tokens (LLaMA-style
tokenizers add one BOS at the start, Qwen-style none); it is cut into non-overlapping windows of N tokens and the tail
shorter than N is dropped; each window is a fresh forward pass; the loss of a window is the mean over its N-1 predicted
positions of -log softmax (computed in float32 from the logits); ppl = exp(mean of window losses), accumulated in
float64. Windows have equal length and no padding, so the batch size does not change the result (beyond float
rounding).

Timing covers only the forward passes and the loss, not loading or tokenization. tokens = windows * seq_len (tokens
processed), tokens_per_second = tokens / seconds.
"""

import argparse
import json
import math
import sys
import time

import torch
import transformers
from transformers import AutoModelForCausalLM, AutoTokenizer


def main():
    ap = argparse.ArgumentParser(description="pruning-paper perplexity with transformers (CPU)")
    ap.add_argument("--model", required=True, help="Hugging Face checkpoint folder")
    ap.add_argument("--text", required=True, help="UTF-8 text file")
    ap.add_argument("--seq-len", type=int, required=True, help="window length in tokens")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's default)")
    ap.add_argument("--dtype", choices=["native", "fp32"], default="native",
                    help="native: the checkpoint's dtype (config.json); fp32: weights upcast to float32")
    ap.add_argument("--batch", type=int, default=4, help="windows per forward pass (default 4)")
    ap.add_argument("--attn", default="sdpa", choices=["sdpa", "eager"],
                    help="attention implementation (default sdpa, transformers' default and faster on CPU)")
    ap.add_argument("--max-windows", type=int, default=None, help="score only the first K windows (quick checks)")
    ap.add_argument("--json", action="store_true", help="print only the JSON result on stdout")
    args = ap.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()

    tok = AutoTokenizer.from_pretrained(args.model)
    dtype = "auto" if args.dtype == "native" else torch.float32
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=dtype, attn_implementation=args.attn).eval()

    with open(args.text, encoding="utf-8") as f:
        text = f.read()
    ids = tok(text, add_special_tokens=True)["input_ids"]
    L = args.seq_len
    n = len(ids) // L
    if args.max_windows is not None:
        n = min(n, args.max_windows)
    if n == 0:
        sys.exit(f"ppl_reference: text has {len(ids)} tokens, fewer than one window of {L}")
    windows = torch.tensor(ids[: n * L], dtype=torch.long).view(n, L)

    losses = []
    t0 = time.perf_counter()
    with torch.inference_mode():
        for s in range(0, n, args.batch):
            x = windows[s:s + args.batch]
            logits = model(input_ids=x, use_cache=False).logits[:, :-1, :].to(torch.float32)
            logp = torch.log_softmax(logits, dim=-1)
            nll = -logp.gather(-1, x[:, 1:, None]).squeeze(-1)  # [b, L-1], float32
            losses.extend(nll.mean(dim=-1).tolist())
            if not args.json:
                print(f"\r{len(losses)}/{n} windows", end="", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - t0
    if not args.json:
        print(file=sys.stderr)

    ppl = math.exp(math.fsum(losses) / n)
    result = {
        "ppl": ppl,
        "tokens": n * L,
        "windows": n,
        "seconds": seconds,
        "tokens_per_second": n * L / seconds,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(f"model {args.model} ({next(model.parameters()).dtype}), text {args.text}: {len(ids)} tokens, "
              f"{n} windows of {L}, threads {torch.get_num_threads()}, batch {args.batch}")
        print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
