#!/usr/bin/env python3
"""Goldens for `come compress`: every tiny fixture compressed by come4j, then run by transformers.

For each fixture folder in src/test/resources/fixtures (every one with a golden.json; all have L = 3 layers; for the
OPT, Gemma 3 and Phi-3 fixtures run it with --only once come4j compresses those families):
  * CoMe to L-1 and L-2 layers,
  * CoMe-P to L-1 on the fp32 fixtures,
  * WeightSum to L-1 on llama3-gqa-f32,
each as `come compress --model FIXTURE --out TMP <args>` with
  args = --target-layers N --method M --calib src/test/resources/fixtures/ppl.txt --calib-seq-len 32 --calib-authors-recipe
(paths relative to the project root, the working directory of the runs and of the Java tests). Every run is done
twice, the second time with --threads 1, and the two model.safetensors must be byte-identical. The output is loaded
with AutoModelForCausalLM (float32, eager; bf16 weights upcast), must have no missing/unexpected/mismatched keys and N
layers, and is run on the fixture's golden input_ids.

Writes <fixture>/compressed.json: a list of
  {"method", "target_layers", "args", "model_sha256" (of the written model.safetensors), "input_ids",
   "logits" (transformers, T x V row-major, rounded to 6 decimals: error <= 5e-7, far below the 1e-4 tolerance)}.
CompressTest reruns each args list and checks the hash (determinism) and come4j's logits of the output (1e-4).

Usage (from anywhere): /work/pyenv/bin/python tools/compressed_goldens.py [--come PATH] [--only FIXTURE...]
--come: the launcher to run (default ./come). To make goldens from committed code while the working tree has
uncommitted main sources, point it at a clean worktree:  git worktree add /tmp/wt HEAD; --come /tmp/wt/come
"""
import argparse
import hashlib
import json
import pathlib
import subprocess
import sys
import tempfile

import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "src/test/resources/fixtures"
CALIB = "src/test/resources/fixtures/ppl.txt"


def plan(name, layers):
    """(method, target layers) for one fixture."""
    runs = [("come", layers - 1), ("come", layers - 2)]
    if name.endswith("-f32"):
        runs.append(("come-p", layers - 1))
    if name == "llama3-gqa-f32":
        runs.append(("weightsum", layers - 1))
    return runs


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def compress(come, fixture, out, args):
    cmd = [come, "compress", "--model", str(fixture.relative_to(ROOT)), "--out", str(out)] + args
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return sha256(out / "model.safetensors")


def record(come, fixture, method, target, input_ids):
    args = ["--target-layers", str(target), "--method", method, "--calib", CALIB, "--calib-seq-len", "32", "--calib-authors-recipe"]
    with tempfile.TemporaryDirectory(prefix="come-goldens-") as tmp:
        out = pathlib.Path(tmp) / "out"
        sha = compress(come, fixture, out, args)
        again = compress(come, fixture, pathlib.Path(tmp) / "again", args + ["--threads", "1"])
        if again != sha:
            sys.exit(f"{fixture.name} {args}: not deterministic (default threads {sha}, --threads 1 {again})")
        model, info = transformers.AutoModelForCausalLM.from_pretrained(
            out, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
        bad = {k: sorted(map(str, v)) for k, v in info.items()
               if k in ("missing_keys", "unexpected_keys", "mismatched_keys") and v}
        if bad:
            sys.exit(f"{fixture.name} {args}: transformers reports {bad}")
        layers = model.model.decoder.layers if model.config.model_type == "opt" else model.model.layers
        if model.config.num_hidden_layers != target or len(layers) != target:
            sys.exit(f"{fixture.name} {args}: {model.config.num_hidden_layers} layers, expected {target}")
        model.eval()
        with torch.no_grad():
            logits = model(torch.tensor([input_ids])).logits[0].float()
    flat = [round(float(x), 6) for x in logits.flatten().tolist()]
    return {"method": method, "target_layers": target, "args": args, "model_sha256": sha,
            "input_ids": input_ids, "logits": flat}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--come", default=str(ROOT / "come"))
    ap.add_argument("--only", nargs="*", help="fixture folder names (default: all)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    fixtures = sorted(p for p in FIXTURES.iterdir() if (p / "golden.json").is_file())
    if a.only:
        fixtures = [p for p in fixtures if p.name in a.only]
    for fixture in fixtures:
        input_ids = json.loads((fixture / "golden.json").read_text())["input_ids"]
        layers = json.loads((fixture / "config.json").read_text())["num_hidden_layers"]
        records = []
        for method, target in plan(fixture.name, layers):
            records.append(record(a.come, fixture, method, target, input_ids))
            print(f"{fixture.name}: {method} -> {target} layers, sha256 {records[-1]['model_sha256'][:12]}", flush=True)
        (fixture / "compressed.json").write_text(json.dumps(records, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
