#!/usr/bin/env python3
"""Does a checkpoint (typically one written by `come compress`) load cleanly in transformers, with the logits come4j
computes?

For each model folder:
  1. config.json's num_hidden_layers must equal the number of distinct model.layers.N in the weights
     (model.safetensors, or the shards named by model.safetensors.index.json);
  2. AutoModelForCausalLM (eager attention, float32 -- bf16 weights are upcast) must report no missing, unexpected or
     mismatched keys (output_loading_info=True);
  3. transformers' logits on the ids are compared with `come logits --model DIR --ids ...` (come4j, fp32);
     the max absolute difference must be <= --tol.
Default ids: the first 20 tokens of a fixed sentence, tokenized by the folder's own tokenizer.
Exit status 0 if every folder passes, 1 otherwise.

Usage: /work/pyenv/bin/python tools/check_output.py --model DIR [--model DIR2 ...] [--ids 1,2,3] [--tol 1e-4]
       [--come ./come]        (folders may also be given positionally)
"""
import argparse
import json
import pathlib
import re
import struct
import subprocess
import sys

import numpy as np
import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
SENTENCE = ("Mr. Speaker, the state of our Union is strong, and together we will build an economy "
            "that works for every American family.")
N_DEFAULT_IDS = 20
LAYER = re.compile(r"^model\.layers\.(\d+)\.")


def weight_names(d):
    """Tensor names from the safetensors headers (no tensor data is read)."""
    index = d / "model.safetensors.index.json"
    files = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() else ["model.safetensors"]
    names = []
    for f in files:
        with open(d / f, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            names += [k for k in json.loads(fh.read(n)) if k != "__metadata__"]
    return names


def come_logits(come, d, ids):
    cmd = [come, "logits", "--model", str(d), "--ids", ",".join(map(str, ids))]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()[-2000:]}")
    out = json.loads(r.stdout)
    if list(out["ids"]) != list(ids):
        raise RuntimeError(f"come logits echoed ids {out['ids']}, expected {ids}")
    return np.asarray(out["logits"], dtype=np.float64).reshape(len(ids), int(out["vocab"]))


def check(d, ids_arg, tol, come):
    problems = []
    config = json.loads((d / "config.json").read_text())
    layers_cfg = config["num_hidden_layers"]
    idx = sorted({int(m.group(1)) for m in map(LAYER.match, weight_names(d)) if m})
    if len(idx) != layers_cfg or idx != list(range(len(idx))):
        problems.append(f"config.json num_hidden_layers={layers_cfg}, weights have layers {idx}")
    try:
        return compare(d, ids_arg, tol, come, layers_cfg, problems)
    except Exception as e:  # a loading or come failure is one more problem of this folder
        problems.append(f"{type(e).__name__}: {e}")
        print(f"{d}: FAIL")
        for p in problems:
            print(f"  {p}")
        return False


def compare(d, ids_arg, tol, come, layers_cfg, problems):
    model, info = transformers.AutoModelForCausalLM.from_pretrained(
        d, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    model.eval()
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        if info.get(key):
            problems.append(f"{key}: {sorted(map(str, info[key]))}")
    if model.config.num_hidden_layers != len(model.model.layers):
        problems.append(f"transformers built {len(model.model.layers)} layers for num_hidden_layers="
                        f"{model.config.num_hidden_layers}")

    if ids_arg:
        ids = [int(x) for x in ids_arg.split(",") if x.strip()]
    else:
        ids = transformers.AutoTokenizer.from_pretrained(d)(SENTENCE)["input_ids"][:N_DEFAULT_IDS]
    with torch.no_grad():
        ref = model(torch.tensor([ids])).logits[0].double().numpy()
    ours = come_logits(come, d, ids)
    if ours.shape != ref.shape:
        problems.append(f"come logits shape {ours.shape}, transformers {ref.shape}")
        diff = float("inf")
    else:
        diff = float(np.abs(ours - ref).max())
    if diff > tol:
        problems.append(f"max |logit diff| {diff:.3e} > tol {tol:g}")
    print(f"{d}: {layers_cfg} layers, {len(ids)} ids, max |logit diff| {diff:.3e} "
          f"(max |logit| {np.abs(ref).max():.2f}, tol {tol:g}) -> {'ok' if not problems else 'FAIL'}")
    for p in problems:
        print(f"  {p}")
    return not problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", default=[], metavar="DIR", help="model folder (repeatable)")
    ap.add_argument("dirs", nargs="*", metavar="DIR", help="more model folders")
    ap.add_argument("--ids", help="comma-separated token ids (default: 20 tokens of a fixed sentence)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max allowed |logit difference| (default 1e-4)")
    ap.add_argument("--come", default=str(ROOT / "come"), help="the come launcher (default: ./come of this repo)")
    a = ap.parse_args()
    dirs = [pathlib.Path(x) for x in a.model + a.dirs]
    if not dirs:
        ap.error("give at least one --model DIR")
    torch.set_grad_enabled(False)
    ok = True
    for d in dirs:
        try:
            ok &= check(d, a.ids, a.tol, a.come)
        except Exception as e:  # report and go on with the next folder
            print(f"{d}: FAIL ({type(e).__name__}: {e})")
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
