#!/usr/bin/env python3
"""Reference training steps for come4j's distillation (src/test/resources/distill/).

For each fixture and each loss: the student layer (layer 0 of the fixture) learns, teacher-forced, to map the
teacher's hidden state entering layer 0 (the embeddings of random tokens) to the state leaving layer 1 (a block of two
original layers). One step is done with Hugging Face's decoder layer, torch autograd, clip_grad_norm_ and
torch.optim.AdamW (weight decay on the projection matrices only; learning rate of step 1 under linear warm-up). The
inputs and the parameters after the step are saved (.safetensors), the loss and gradient norm in expected.json; DistillStepParityTest repeats the step in Java.

Families: the LLaMA family, OPT (positions are part of the embeddings, no RoPE), Gemma 3 (layer 0 is a sliding layer:
its own RoPE base and the window) and Phi-3 (fused qkv_proj / gate_up_proj; the LongRoPE fixture runs T = 12 <=
original_max_position_embeddings = 16, hence its short factors and attention factor). Weight decay applies to the
matrices of the layer (every *_proj, OPT's out_proj, fc1, fc2), not to norms and biases.

    /work/pyenv/bin/python tools/distill_step_reference.py      # from the repository root; deterministic
    /work/pyenv/bin/python tools/distill_step_reference.py --only opt-f32 gemma3-f32   # these fixtures only

Reruns on the same torch/transformers reproduce the files byte for byte; another torch build may move the last bit of
a few values (1e-8), so regenerate only the fixtures you change (--only keeps the other entries of expected.json).
"""

import argparse
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
LOSSES = ["kl_hidden", "mse", "logit_lens_kl"]
# (fixture, losses): every loss on the LLaMA family; the new families kl_hidden (and mse where the files stay small)
CASES = [(n, LOSSES) for n in ["llama3-gqa-f32", "mistral-f32", "qwen2-f32", "qwen3-f32"]] + [
    ("opt-f32", ["kl_hidden", "mse"]), ("opt350-f32", ["kl_hidden"]), ("gemma3-f32", ["kl_hidden", "mse"]),
    ("phi3-f32", ["kl_hidden", "mse"]), ("phi3-longrope-f32", ["kl_hidden"])]


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


def decoder(model):
    """The module holding the decoder layers (OPT nests them under model.decoder)."""
    return model.model.decoder if model.config.model_type == "opt" else model.model


def rope(model, x, pos):
    """cos/sin for layer 0, or None where positions are learned embeddings (OPT)."""
    cfg = model.config
    if cfg.model_type == "opt":
        return None
    if cfg.model_type == "gemma3_text":
        return model.model.rotary_emb(x, pos, cfg.layer_types[0])
    return model.model.rotary_emb(x, pos)


def lm_head(model, h):
    """Logits of hidden states leaving the last layer: final norm (and OPT's project_out), lm_head, softcapping."""
    cfg = model.config
    if cfg.model_type == "opt":
        dec = model.model.decoder
        h = dec.final_layer_norm(h) if dec.final_layer_norm is not None else h
        h = dec.project_out(h) if dec.project_out is not None else h
        return model.lm_head(h)
    z = model.lm_head(model.model.norm(h))
    cap = getattr(cfg, "final_logit_softcapping", None)
    return z if cap is None else torch.tanh(z / cap) * cap


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", help="fixture names to (re)generate, default all")
    only = ap.parse_args().only
    torch.manual_seed(SETTINGS["seed"])
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "settings.json"), "w") as f:
        json.dump(SETTINGS, f, indent=1)
    B, T = SETTINGS["batch"], SETTINGS["seq_len"]
    expected = os.path.join(OUT, "expected.json")
    scalars = {}
    if only and os.path.exists(expected):
        with open(expected) as f:
            scalars = json.load(f)
    for name, losses in CASES:
        if only and name not in only:
            continue
        model = AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, name), dtype=torch.float32,
                                                     attn_implementation="eager").eval()
        cfg = model.config
        gen = torch.Generator().manual_seed(SETTINGS["seed"])
        ids = torch.randint(0, cfg.vocab_size, (B, T), generator=gen)
        with torch.no_grad():
            hs = model(ids, output_hidden_states=True).hidden_states
        x, y = hs[0].clone(), hs[2].clone()  # block = original layers 0..1 (hs[2] is un-normed: 3 layers)
        pos = torch.arange(T)[None, :].expand(B, T)
        cos_sin = rope(model, x, pos)
        window = getattr(cfg, "sliding_window", None) if getattr(cfg, "use_sliding_window", True) else None
        layer_types = getattr(cfg, "layer_types", None)
        if layer_types is not None and layer_types[0] != "sliding_attention":
            window = None
        mask = causal_mask(T, window)
        original = decoder(model).layers[0]
        for loss_name in losses:
            layer = type(original)(cfg, 0)
            layer.load_state_dict(original.state_dict())
            layer.train()
            named = dict(layer.named_parameters())
            decay = [p for n, p in named.items() if p.dim() == 2]  # the matrices; norms and biases are 1-D
            rest = [p for n, p in named.items() if p.dim() != 2]
            opt = torch.optim.AdamW([{"params": decay, "weight_decay": SETTINGS["weight_decay"]},
                                     {"params": rest, "weight_decay": 0.0}], lr=lr_at(1),
                                    betas=(SETTINGS["beta1"], SETTINGS["beta2"]), eps=SETTINGS["eps"])
            rope_kw = {} if cos_sin is None else {"position_embeddings": cos_sin}
            out = layer(x, attention_mask=mask, position_ids=pos, **rope_kw)
            out = out[0] if isinstance(out, tuple) else out
            tau = SETTINGS["tau"]
            if loss_name == "mse":
                loss = F.mse_loss(out, y)
            elif loss_name == "kl_hidden":
                loss = kl(out, y, tau)
            else:
                head = lambda h: lm_head(model, h)
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
    with open(expected, "w") as f:
        json.dump(scalars, f, indent=1)


if __name__ == "__main__":
    transformers.utils.logging.set_verbosity_error()
    main()
