#!/usr/bin/env python3
"""Evaluation throughput: hellaswag-like items (4 choices, ~100 tokens) scored by `come eval` and by
lm-evaluation-harness's hf backend, same model, same items, same machine, same run. Prints items/s of both, their
ratio, and both accuracies (they must agree: same prompts, same metric). come4j runs with --lm-eval-bos because
lm-eval >= 0.4.10 encodes requests with the tokenizer's special tokens (a BOS for LLaMA tokenizers); lm-eval's model
runs in float32 (bf16 weights upcast), which is what come4j computes.

Usage: PYTHON with torch, transformers and lm-eval:  .venv/bin/python bench/eval_throughput.py [--items 200]
       [--model models/sotu-llama-12l-bf16] [--threads N] [--batch 16]
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--model", default=str(ROOT / "models/sotu-llama-12l-bf16"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=16, help="lm-eval batch size")
    a = ap.parse_args()
    tmp = pathlib.Path(tempfile.mkdtemp())
    subprocess.run([sys.executable, str(ROOT / "bench/make_hellaswag_like.py"), str(tmp), str(a.items)], check=True,
                   stdout=subprocess.DEVNULL)
    data = tmp / "hellaswag/validation.jsonl"

    t0 = time.time()
    out = subprocess.run([str(ROOT / "come"), "eval", "--model", a.model, "--tasks", "hellaswag", "--data-dir", str(tmp),
                          "--threads", str(a.threads), "--json", "--lm-eval-bos"], check=True, capture_output=True, text=True).stdout
    come_wall = time.time() - t0
    come = json.loads(out)["tasks"]["hellaswag"]

    import lm_eval
    import torch
    from lm_eval.tasks import TaskManager
    torch.set_num_threads(a.threads)
    official = pathlib.Path(lm_eval.__file__).parent / "tasks/hellaswag"
    tasks = tmp / "tasks"
    tasks.mkdir()
    shutil.copy(official / "utils.py", tasks / "utils.py")  # the official process_docs
    cfg = (official / "hellaswag.yaml").read_text().replace("task: hellaswag", "task: hellaswag_local")
    cfg = cfg.replace("dataset_path: Rowan/hellaswag", f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    validation: {data}")
    cfg = cfg.replace("training_split: train", "training_split: null").replace("tag:\n  - multiple_choice\n", "")
    (tasks / "hellaswag_local.yaml").write_text(cfg)
    t0 = time.time()
    res = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={a.model},dtype=float32", tasks=["hellaswag_local"],
                                  batch_size=a.batch, device="cpu", task_manager=TaskManager(include_path=str(tasks)))
    lm_wall = time.time() - t0
    r = res["results"]["hellaswag_local"]
    n = a.items
    print(f"{n} hellaswag-like items, {a.threads} threads; wall time includes model loading for both")
    print(f"come4j      : {n / come['seconds']:8.1f} items/s scoring ({come['seconds']:.1f} s; {come_wall:.1f} s wall)  acc {come['acc']:.4f} acc_norm {come['acc_norm']:.4f}")
    print(f"lm-eval (hf): {n / lm_wall:8.1f} items/s, wall ({lm_wall:.1f} s)                acc {r['acc,none']:.4f} acc_norm {r['acc_norm,none']:.4f}")
    print(f"ratio come4j / lm-eval: {(n / come_wall) / (n / lm_wall):.2f}x on wall time, {(n / come['seconds']) / (n / lm_wall):.2f}x on scoring time")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
