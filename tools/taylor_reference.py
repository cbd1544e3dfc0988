#!/usr/bin/env python3
"""Reference Taylor importance (method.md §19.5) for TaylorImportanceTest: on a few fixtures, the LM loss of each batch
of random token windows (transformers' own loss with labels = inputs), gradients summed over the batches by autograd,
then per layer Σ |θ ⊙ G| over the projections and norms. Writes src/test/resources/distill/taylor.json.

LLaMA family: `scores` over the top-level `tensors` (the seven projections and both norms). OPT, Gemma 3, Phi-3: the
entry carries its own `tensors` (every weight of the layer: projections, fused projections, norms, q/k norms; not the
biases) and `per_tensor` (per layer, Σ |θ ⊙ G| of every parameter, biases included), so that a test can sum the set its
layer schema scores.

    /work/pyenv/bin/python tools/taylor_reference.py      # from the repository root; deterministic
    /work/pyenv/bin/python tools/taylor_reference.py --only gemma3-f32    # these fixtures only, others kept
"""
import argparse
import json
import os

import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "src", "test", "resources", "fixtures")
OUT = os.path.join(ROOT, "src", "test", "resources", "distill", "taylor.json")
TENSORS = ["self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
           "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight", "input_layernorm.weight",
           "post_attention_layernorm.weight"]
LLAMA_FAMILY = ["llama3-gqa-f32", "qwen2-f32"]
NEW_FAMILIES = ["opt-f32", "opt350-f32", "gemma3-f32", "phi3-f32"]
WINDOWS, T, BATCH = 5, 24, 2

ap = argparse.ArgumentParser()
ap.add_argument("--only", nargs="*", help="fixture names to (re)generate, default all")
only = ap.parse_args().only
transformers.utils.logging.set_verbosity_error()
torch.set_num_threads(1)
out = {"tensors": TENSORS, "batch": BATCH}
if only and os.path.exists(OUT):
    with open(OUT) as f:
        out = json.load(f)
for name in LLAMA_FAMILY + NEW_FAMILIES:
    if only and name not in only:
        continue
    model = AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, name), dtype=torch.float32, attn_implementation="eager")
    gen = torch.Generator().manual_seed(21)
    ids = torch.randint(0, model.config.vocab_size, (WINDOWS, T), generator=gen)
    for b in range(0, WINDOWS, BATCH):
        batch = ids[b:b + BATCH]
        model(batch, labels=batch).loss.backward()  # .grad accumulates: the sum over batches
    layers = model.model.decoder.layers if model.config.model_type == "opt" else model.model.layers
    entry = {"windows": ids.tolist()}
    if name in LLAMA_FAMILY:
        tensors = TENSORS
    else:
        tensors = [n for n, _ in layers[0].named_parameters() if n.endswith(".weight")]
        entry["tensors"] = tensors
        entry["per_tensor"] = [{n: (p * p.grad).abs().sum().item() for n, p in layer.named_parameters()}
                               for layer in layers]
    scores = []
    for layer in layers:
        params = dict(layer.named_parameters())
        scores.append(sum((params[t] * params[t].grad).abs().sum().item() for t in tensors))
    entry["scores"] = scores
    out[name] = entry
    print(name, scores)
with open(OUT, "w") as f:
    json.dump(out, f)
