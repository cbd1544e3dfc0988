#!/usr/bin/env python3
"""Reference for Phi-3 LongRoPE decoding with a KV cache (Phi3Test): transformers picks the short or long factors per
forward call (max(position_ids) + 1 against original_max_position_embeddings), and the cache keeps the keys as they
were rotated. On phi3-longrope-f32 (original 16), with the golden's 20 input_ids:

  * "chunk": a 12-token call (short factors) filling the cache, then one call with tokens 12..19 (positions up to 19:
    long factors for these 8 queries and keys, the 12 cached keys stay short); logits of the second call [8 x 384];
  * "steps": the same 12-token call, then tokens 12..19 one per call; logits of each call's token [8 x 384] (the calls
    at positions 12..15 use the short factors, from position 16 on the long ones).

Writes src/test/resources/phi3-longrope-cache.json (logits rounded to 6 decimals). Deterministic; CPU, one thread:
    /work/main/.venv/bin/python tools/phi3_cache_reference.py
"""
import json
import pathlib

import torch
import transformers

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "src/test/resources/fixtures/phi3-longrope-f32"
OUT = ROOT / "src/test/resources/phi3-longrope-cache.json"
PROMPT = 12


def main():
    torch.set_num_threads(1)
    ids = json.loads((FIXTURE / "golden.json").read_text())["input_ids"]
    model = transformers.AutoModelForCausalLM.from_pretrained(FIXTURE, dtype=torch.float32, attn_implementation="eager")
    model.eval()
    out = {"transformers_version": transformers.__version__, "torch_version": torch.__version__, "input_ids": ids,
           "prompt_len": PROMPT}
    with torch.no_grad():
        first = model(torch.tensor([ids[:PROMPT]]), use_cache=True)
        chunk = model(torch.tensor([ids[PROMPT:]]), past_key_values=first.past_key_values, use_cache=True).logits[0]
        out["chunk"] = [round(float(x), 6) for x in chunk.flatten().tolist()]
        cache = model(torch.tensor([ids[:PROMPT]]), use_cache=True).past_key_values
        steps = []
        for t in ids[PROMPT:]:
            r = model(torch.tensor([[t]]), past_key_values=cache, use_cache=True)
            cache = r.past_key_values
            steps.append(r.logits[0, -1])
        out["steps"] = [round(float(x), 6) for x in torch.stack(steps).flatten().tolist()]
    OUT.write_text(json.dumps(out, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
