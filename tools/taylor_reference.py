#!/usr/bin/env python3
"""Reference Taylor importance (method.md §19.5) for TaylorImportanceTest: on two fixtures, the LM loss of each batch of
random token windows (transformers' own loss with labels = inputs), gradients summed over the batches by autograd,
then per layer Σ |θ ⊙ G| over the projections and both norms. Writes src/test/resources/distill/taylor.json.

    /work/pyenv/bin/python tools/taylor_reference.py      # from the repository root; deterministic
"""
import json
import os

import torch
import transformers
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "src", "test", "resources", "fixtures")
TENSORS = ["self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
           "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight", "input_layernorm.weight",
           "post_attention_layernorm.weight"]
WINDOWS, T, BATCH = 5, 24, 2

transformers.utils.logging.set_verbosity_error()
torch.set_num_threads(1)
out = {"tensors": TENSORS, "batch": BATCH}
for name in ["llama3-gqa-f32", "qwen2-f32"]:
    model = AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, name), dtype=torch.float32, attn_implementation="eager")
    gen = torch.Generator().manual_seed(21)
    ids = torch.randint(0, model.config.vocab_size, (WINDOWS, T), generator=gen)
    for b in range(0, WINDOWS, BATCH):
        batch = ids[b:b + BATCH]
        model(batch, labels=batch).loss.backward()  # .grad accumulates: the sum over batches
    scores = []
    for layer in model.model.layers:
        params = dict(layer.named_parameters())
        scores.append(sum((params[t] * params[t].grad).abs().sum().item() for t in TENSORS))
    out[name] = {"windows": ids.tolist(), "scores": scores}
    print(name, scores)
with open(os.path.join(ROOT, "src", "test", "resources", "distill", "taylor.json"), "w") as f:
    json.dump(out, f)
