#!/usr/bin/env python3
"""torch side of bench/distill_step.sh: one training step of one decoder layer (Hugging Face's own layer, default
attention implementation), kl_hidden loss, backward, clip_grad_norm_, AdamW; random teacher states; fp32 on CPU.
Usage: distill_step.py MODEL_DIR [layer] [batch] [seq_len] [steps] [threads]"""
import sys
import time

import torch
import torch.nn.functional as F
import transformers
from transformers import AutoModelForCausalLM

transformers.utils.logging.set_verbosity_error()
model_dir = sys.argv[1]
layer_idx, batch, T, steps = (int(a) for a in (sys.argv[2:6] + ["0", "8", "256", "10"][len(sys.argv[2:6]):]))
if len(sys.argv) > 6:
    torch.set_num_threads(int(sys.argv[6]))
# one thread: the thread's CPU time (robust on a shared machine); more: wall time
clock = time.thread_time if torch.get_num_threads() == 1 else time.perf_counter
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
cfg = model.config
layer = model.model.layers[layer_idx].train()
decay = [p for n, p in layer.named_parameters() if n.endswith("_proj.weight")]
rest = [p for n, p in layer.named_parameters() if not n.endswith("_proj.weight")]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}], lr=1e-4)
g = torch.Generator().manual_seed(0)
x = torch.randn(batch, T, cfg.hidden_size, generator=g)
y = torch.randn(batch, T, cfg.hidden_size, generator=g)
pos = torch.arange(T)[None, :].expand(batch, T)
mask = torch.full((T, T), torch.finfo(torch.float32).min).triu(1)[None, None]
cos_sin = model.model.rotary_emb(x, pos)
times = []
for s in range(steps + 3):
    t0 = clock()
    out = layer(x, attention_mask=mask, position_ids=pos, position_embeddings=cos_sin)
    out = out[0] if isinstance(out, tuple) else out
    logq = F.log_softmax(out, -1)
    logp = F.log_softmax(y, -1)
    loss = (logp.exp() * (logp - logq)).sum(-1).mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(layer.parameters(), 1.0)
    opt.step()
    if s >= 3:
        times.append((clock() - t0) * 1000)
mean = sum(times) / len(times)
print(f"torch {torch.__version__} step (fwd+bwd+AdamW), layer {layer_idx}, batch {batch} x {T} tokens, "
      f"{torch.get_num_threads()} threads, {'thread CPU time' if torch.get_num_threads() == 1 else 'wall time'}, attention {cfg._attn_implementation}: mean {mean:.1f} ms, best {min(times):.1f} ms, "
      f"{batch * T / mean * 1000:.0f} tokens/s")
