#!/usr/bin/env python3
"""Does a checkpoint written by come4j load unchanged in transformers, with the logits come4j computes?

Loads each DIR with AutoModelForCausalLM (float32, eager attention), checks that no weight is missing, unexpected or
mismatched, runs a sentence through it, and compares the logits with `./come logits` on the same folder and ids.
Exit status 1 if any folder fails.

Usage: .venv/bin/python tools/check_output.py DIR... [--tol 1e-4] [--text "..."]
"""
import argparse
import json
import pathlib
import subprocess
import sys

import numpy as np
import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent


def check(d, text, tol):
    model, info = transformers.AutoModelForCausalLM.from_pretrained(
        d, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    bad = {k: sorted(v) for k, v in info.items() if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
    ids = transformers.AutoTokenizer.from_pretrained(d)(text)["input_ids"]
    with torch.no_grad():
        ref = model(torch.tensor([ids])).logits[0].numpy()
    out = subprocess.run([str(ROOT / "come"), "logits", "--model", str(d), "--ids", ",".join(map(str, ids))],
                         capture_output=True, text=True, check=True).stdout
    ours = np.array(json.loads(out)["logits"], dtype=np.float64).reshape(len(ids), -1)
    diff = float(np.abs(ours - ref).max())
    ok = not bad and diff <= tol
    print(f"{d}: {model.config.num_hidden_layers} layers, {len(ids)} tokens, max |logit diff| {diff:.2e}"
          f" (max |logit| {np.abs(ref).max():.1f}){'' if not bad else ', loading problems: ' + str(bad)}"
          f" -> {'ok' if ok else 'FAIL'}")
    return ok


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--text", default="Mr. Speaker, the state of our Union is strong, and our economy is growing.")
    a = ap.parse_args()
    results = [check(pathlib.Path(d), a.text, a.tol) for d in a.dirs]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
