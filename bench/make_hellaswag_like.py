#!/usr/bin/env python3
"""Hellaswag-format items (4 endings, ~100 tokens of context and ending together) cut from held-out SOTU text, for the
evaluation throughput benchmark. Deterministic. Usage: make_hellaswag_like.py OUT_DIR [N]  -> OUT_DIR/hellaswag/validation.jsonl
"""
import json
import pathlib
import random
import re
import sys

out = pathlib.Path(sys.argv[1]) / "hellaswag"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
text = (pathlib.Path(__file__).resolve().parent.parent / "models/sotu-llama-12l-bf16/heldout.txt").read_text()
sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if 60 <= len(s) <= 200]
rng = random.Random(0)
out.mkdir(parents=True, exist_ok=True)
with open(out / "validation.jsonl", "w") as f:
    for i in range(n):
        a, b = rng.sample(sentences, 2)
        words = b.split()
        endings = [" ".join(rng.sample(sentences, 1)[0].split()[:10]) for _ in range(3)] + [" ".join(words[len(words) // 2:])]
        rng.shuffle(endings)
        rec = {"ind": i, "activity_label": "Speech", "ctx_a": a + " " + " ".join(sentences[(i * 7) % len(sentences)].split()[:20]),
               "ctx_b": " ".join(words[: len(words) // 2]), "ctx": "", "endings": endings, "source_id": "sotu",
               "split": "val", "split_type": "indomain", "label": str(endings.index(" ".join(words[len(words) // 2:])))}
        f.write(json.dumps(rec) + "\n")
print(out / "validation.jsonl", n)
