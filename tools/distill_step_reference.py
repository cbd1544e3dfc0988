#!/usr/bin/env python3
"""Reference training steps for come4j's distillation (src/test/resources/distill/).

For each fixture and each loss: the student layer (layer 0 of the fixture) learns, teacher-forced, to map the
teacher's hidden state entering layer 0 (the embeddings of random tokens) to the state leaving layer 1 (a block of two
original layers). One step is done with Hugging Face's decoder layer, torch autograd, clip_grad_norm_ and
torch.optim.AdamW (weight decay on the projection matrices only; learning rate of step 1 under linear warm-up). The
inputs and the parameters after the step are saved (.safetensors), the loss and gradient norm in expected.json; DistillStepParityTest repeats the step in Java.

    /work/pyenv/bin/python tools/distill_step_reference.py      # from the repository root; deterministic
"""

import json
import math
import os

import torch
import torch.nn.functional as F
import transformers
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "src", "test", "resources", "fixtures")
OUT = os.path.join(ROOT, "src", "test", "resources", "distill")
# Shared with DistillStepParityTest (also written to settings.json there).
SETTINGS = dict(batch=2, seq_len=12, lr=1e-3, warmup=4, steps=10, min_lr_ratio=0.1, weight_decay=0.01, clip=0.03,
                beta1=0.9, beta2=0.999, eps=1e-8, tau=1.5, seed=1234)
FIXTURE_NAMES = ["llama3-gqa-f32", "mistral-f32", "qwen2-f32", "qwen3-f32"]
LOSSES = ["kl_hidden", "mse", "logit_lens_kl"]


def lr_at(step):
    s = SETTINGS
    if step <= s["warmup"]:
        return s["lr"] * step / s["warmup"]
    progress = min(1.0, (step - s["warmup"]) / max(1, s["steps"] - s["warmup"]))
    low = s["lr"] * s["min_lr_ratio"]
    return low + (s["lr"] - low) * 0.5 * (1 + math.cos(math.pi * progress))


def causal_mask(T, window):
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    ok = (j <= i) & ((window is None) | (i - j < (window or T + 1)))
    return torch.where(ok, 0.0, torch.finfo(torch.float32).min)[None, None, :, :]


def kl(student, teacher, tau):
    """mean over rows of KL(softmax(teacher/tau) || softmax(student/tau))."""
    logq = F.log_softmax(student / tau, dim=-1)
    logp = F.log_softmax(teacher / tau, dim=-1)
    return (logp.exp() * (logp - logq)).sum(-1).mean()


def main():
    torch.manual_seed(SETTINGS["seed"])
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "settings.json"), "w") as f:
        json.dump(SETTINGS, f, indent=1)
    B, T = SETTINGS["batch"], SETTINGS["seq_len"]
    scalars = {}
    for name in FIXTURE_NAMES:
        model = AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, name), dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        cfg = model.config
        gen = torch.Generator().manual_seed(SETTINGS["seed"])
        ids = torch.randint(0, cfg.vocab_size, (B, T), generator=gen)
        with torch.no_grad():
            hs = model(ids, output_hidden_states=True).hidden_states
        x, y = hs[0].clone(), hs[2].clone()  # block = original layers 0..1 (hs[2] is un-normed: 3 layers)
        pos = torch.arange(T)[None, :].expand(B, T)
        cos_sin = model.model.rotary_emb(x, pos)
        window = getattr(cfg, "sliding_window", None) if getattr(cfg, "use_sliding_window", True) else None
        layer_types = getattr(cfg, "layer_types", None)
        if layer_types is not None and layer_types[0] != "sliding_attention":
            window = None
        mask = causal_mask(T, window)
        for loss_name in LOSSES:
            layer = type(model.model.layers[0])(cfg, 0)
            layer.load_state_dict(model.model.layers[0].state_dict())
            layer.train()
            named = dict(layer.named_parameters())
            decay = [p for n, p in named.items() if n.endswith("_proj.weight")]
            rest = [p for n, p in named.items() if not n.endswith("_proj.weight")]
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": SETTINGS["weight_decay"]},
                                     {"params": rest, "weight_decay": 0.0}], lr=lr_at(1),
                                    betas=(SETTINGS["beta1"], SETTINGS["beta2"]), eps=SETTINGS["eps"])
            out = layer(x, attention_mask=mask, position_ids=pos, position_embeddings=cos_sin)
            out = out[0] if isinstance(out, tuple) else out
            tau = SETTINGS["tau"]
            if loss_name == "mse":
                loss = F.mse_loss(out, y)
            elif loss_name == "kl_hidden":
                loss = kl(out, y, tau)
            else:
                head = lambda h: model.lm_head(model.model.norm(h))
                with torch.no_grad():
                    zt = head(y)
                loss = kl(head(out), zt, tau)
            loss.backward()
            model.zero_grad(set_to_none=True)  # the frozen head gets no update
            grad_norm = torch.nn.utils.clip_grad_norm_(layer.parameters(), SETTINGS["clip"])
            opt.step()
            tensors = {"x": x.reshape(B * T, -1).contiguous(), "y": y.reshape(B * T, -1).contiguous(),
}
            scalars[f"{name}-{loss_name}"] = {"loss": loss.item(), "grad_norm": grad_norm.item()}
            for n, p in layer.named_parameters():
                tensors["after." + n] = p.detach().contiguous()
            save_file(tensors, os.path.join(OUT, f"{name}-{loss_name}.safetensors"))
            print(name, loss_name, "loss", loss.item(), "grad norm", grad_norm.item())
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(scalars, f, indent=1)


if __name__ == "__main__":
    transformers.utils.logging.set_verbosity_error()
    main()
