#!/usr/bin/env python3
"""Goldens for `come compress` on the tiny fixtures: transformers' logits of each compressed checkpoint.

For every fixture in src/test/resources/fixtures, runs `./come compress` (target L-1 and L-2 with CoMe; CoMe-P at L-1
on the fp32 fixtures; WeightSum at L-1 on llama3-gqa-f32), loads the output with transformers in float32 and records
{method, target_layers, args, model_sha256, input_ids, logits} in <fixture>/compressed.json. CompressTest reruns the
same commands and checks the bytes (determinism) and its own logits against these (1e-4).

Run from the project root with the venv of tools/make_fixtures.py:  .venv/bin/python tools/compressed_goldens.py
(python3 -m venv .venv && .venv/bin/pip install torch transformers; pip is set up for an offline wheelhouse here)
"""
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
COMMON = ["--calib", "src/test/resources/fixtures/ppl.txt", "--seq-len", "32", "--threads", "2"]


def runs(name, layers):
    out = [("come", layers - 1), ("come", layers - 2)]
    if name.endswith("f32"):
        out.append(("come-p", layers - 1))
    if name == "llama3-gqa-f32":
        out.append(("weightsum", layers - 1))
    return out


def main():
    for fixture in sorted(p for p in FIXTURES.iterdir() if (p / "golden.json").exists()):
        golden = json.loads((fixture / "golden.json").read_text())
        layers = json.loads((fixture / "config.json").read_text())["num_hidden_layers"]
        records = []
        for method, target in runs(fixture.name, layers):
            args = ["--target-layers", str(target), "--method", method] + COMMON
            with tempfile.TemporaryDirectory() as tmp:
                out = pathlib.Path(tmp) / "out"
                cmd = [str(ROOT / "come"), "compress", "--model", str(fixture.relative_to(ROOT)), "--out", str(out)] + args
                subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
                model, info = transformers.AutoModelForCausalLM.from_pretrained(
                    out, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
                if any(info[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys")):
                    sys.exit(f"{fixture.name} {args}: transformers reports {info}")
                assert model.config.num_hidden_layers == target
                with torch.no_grad():
                    logits = model(torch.tensor([golden["input_ids"]])).logits[0].float().flatten().tolist()
                sha = hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest()
            records.append({"method": method, "target_layers": target, "args": args, "model_sha256": sha,
                            "input_ids": golden["input_ids"], "logits": [float(repr_f32(x)) for x in logits]})
            print(fixture.name, method, target, "ok")
        (fixture / "compressed.json").write_text(json.dumps(records) + "\n")


def repr_f32(x):
    """Shortest decimal that reads back as the same float32."""
    import numpy as np
    return np.format_float_positional(np.float32(x), unique=True, trim="-")


if __name__ == "__main__":
    main()
