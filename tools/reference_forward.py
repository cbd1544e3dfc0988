#!/usr/bin/env python3
"""The forward passes of OPT, Gemma 3 and Phi-3 written out in plain torch (float64, no transformers modules), checked
against the fixtures' golden.json: a second, independent reading of what transformers computes, and a compact statement
of it for whoever implements these families (every convention the goldens depend on is visible here: OPT's position
offset 2, pre/post-norm and project_in/out; Gemma's (1 + w) norms, sqrt(d) embedding scale, q/k norms,
query_pre_attn_scalar, per-layer-type RoPE and window; Phi-3's fused projections, partial rotary and LongRoPE's
factor selection and attention factor).

    .venv/bin/python tools/reference_forward.py opt-f32 opt350-f32 gemma3-f32 phi3-f32 phi3-longrope-f32 ...

Prints the largest |difference| to logits_fp32 (and logits_fp32_prefix) and to hidden_states; measured <= 5e-6 on
every new fixture, f32 and bf16.
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import load_file

D = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src", "test", "resources", "fixtures") + "/"
torch.set_default_dtype(torch.float64)

def lin(x, W, b=None):
    y = x @ W.T
    return y if b is None else y + b

def rope_cs(inv, T, scale=1.0):
    pos = torch.arange(T, dtype=torch.float64)[:, None]
    f = pos * inv[None, :]
    e = torch.cat([f, f], -1)
    return e.cos() * scale, e.sin() * scale

def rot(x, cos, sin):  # x [H,T,hd]; rotates first cos.shape[-1] dims, rotate_half style
    r = cos.shape[-1]
    xr, xp = x[..., :r], x[..., r:]
    x1, x2 = xr[..., :r // 2], xr[..., r // 2:]
    rh = torch.cat([-x2, x1], -1)
    return torch.cat([xr * cos + rh * sin, xp], -1)

def attend(q, k, v, scale, window):  # q [H,T,hd], k,v [KV,T,hd]
    H, T, _ = q.shape
    rep = H // k.shape[0]
    k = k.repeat_interleave(rep, 0); v = v.repeat_interleave(rep, 0)
    s = q @ k.transpose(1, 2) * scale
    i = torch.arange(T)[:, None]; j = torch.arange(T)[None, :]
    ok = j <= i
    if window: ok = ok & (j > i - window)
    s = s.masked_fill(~ok, float("-inf"))
    return torch.softmax(s, -1) @ v

def heads(x, n, hd): return x.view(x.shape[0], n, hd).transpose(0, 1)
def merge(x): return x.transpose(0, 1).reshape(x.shape[1], -1)
def rms(x, w, eps, gemma=False):
    y = x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps)
    return y * ((1 + w) if gemma else w)
def ln(x, w, b): return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, 1e-5)  # nn.LayerNorm's eps; not in config

def opt(W, c, ids):
    T = len(ids); H = c["num_attention_heads"]; d = c["hidden_size"]; hd = d // H
    P = "model.decoder."
    x = W[P + "embed_tokens.weight"][ids]
    if P + "project_in.weight" in W: x = lin(x, W[P + "project_in.weight"])
    x = x + W[P + "embed_positions.weight"][torch.arange(T) + 2]
    hs = [x]
    pre = c["do_layer_norm_before"]
    for l in range(c["num_hidden_layers"]):
        p = lambda n: W[f"{P}layers.{l}.{n}"]
        r = x
        h = ln(x, p("self_attn_layer_norm.weight"), p("self_attn_layer_norm.bias")) if pre else x
        q = heads(lin(h, p("self_attn.q_proj.weight"), p("self_attn.q_proj.bias")) * hd ** -0.5, H, hd)
        k = heads(lin(h, p("self_attn.k_proj.weight"), p("self_attn.k_proj.bias")), H, hd)
        v = heads(lin(h, p("self_attn.v_proj.weight"), p("self_attn.v_proj.bias")), H, hd)
        x = r + lin(merge(attend(q, k, v, 1.0, None)), p("self_attn.out_proj.weight"), p("self_attn.out_proj.bias"))
        if not pre: x = ln(x, p("self_attn_layer_norm.weight"), p("self_attn_layer_norm.bias"))
        r = x
        h = ln(x, p("final_layer_norm.weight"), p("final_layer_norm.bias")) if pre else x
        x = r + lin(torch.relu(lin(h, p("fc1.weight"), p("fc1.bias"))), p("fc2.weight"), p("fc2.bias"))
        if not pre: x = ln(x, p("final_layer_norm.weight"), p("final_layer_norm.bias"))
        hs.append(x)
    if pre: x = ln(x, W[P + "final_layer_norm.weight"], W[P + "final_layer_norm.bias"])
    if P + "project_out.weight" in W: x = lin(x, W[P + "project_out.weight"])
    hs[-1] = x
    return lin(x, W[P + "embed_tokens.weight"]), hs

def gemma(W, c, ids):
    T = len(ids); H = c["num_attention_heads"]; KV = c["num_key_value_heads"]; hd = c["head_dim"]; eps = c["rms_norm_eps"]
    E = W["model.embed_tokens.weight"]
    x = E[ids] * math.sqrt(c["hidden_size"])
    hs = [x]
    for l in range(c["num_hidden_layers"]):
        p = lambda n: W[f"model.layers.{l}.{n}"]
        lt = c["layer_types"][l]; rp = c["rope_parameters"][lt]
        inv = 1.0 / (rp["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
        if rp["rope_type"] == "linear": inv = inv / rp["factor"]
        cos, sin = rope_cs(inv, T)
        r = x
        h = rms(x, p("input_layernorm.weight"), eps, True)
        q = rms(heads(lin(h, p("self_attn.q_proj.weight")), H, hd), p("self_attn.q_norm.weight"), eps, True)
        k = rms(heads(lin(h, p("self_attn.k_proj.weight")), KV, hd), p("self_attn.k_norm.weight"), eps, True)
        v = heads(lin(h, p("self_attn.v_proj.weight")), KV, hd)
        q, k = rot(q, cos, sin), rot(k, cos, sin)
        a = lin(merge(attend(q, k, v, c["query_pre_attn_scalar"] ** -0.5, c["sliding_window"] if lt == "sliding_attention" else None)), p("self_attn.o_proj.weight"))
        x = r + rms(a, p("post_attention_layernorm.weight"), eps, True)
        h = rms(x, p("pre_feedforward_layernorm.weight"), eps, True)
        m = lin(torch.nn.functional.gelu(lin(h, p("mlp.gate_proj.weight")), approximate="tanh") * lin(h, p("mlp.up_proj.weight")), p("mlp.down_proj.weight"))
        x = x + rms(m, p("post_feedforward_layernorm.weight"), eps, True)
        hs.append(x)
    x = rms(x, W["model.norm.weight"], eps, True)
    hs[-1] = x
    return lin(x, E), hs

def phi3(W, c, ids):
    T = len(ids); H = c["num_attention_heads"]; KV = c["num_key_value_heads"]; d = c["hidden_size"]; hd = d // H; eps = c["rms_norm_eps"]
    rp = c["rope_parameters"]
    rd = int(hd * rp.get("partial_rotary_factor", 1.0))
    base = rp["rope_theta"] ** (torch.arange(0, rd, 2, dtype=torch.float64) / rd)
    scale = 1.0
    if rp["rope_type"] == "longrope":
        om = c["original_max_position_embeddings"]
        f = torch.tensor(rp["long_factor"] if T > om else rp["short_factor"])
        inv = 1.0 / (f * base)
        scale = math.sqrt(1 + math.log(c["max_position_embeddings"] / om) / math.log(om))
    else:
        inv = 1.0 / base
    cos, sin = rope_cs(inv, T, scale)
    E = W["model.embed_tokens.weight"]
    x = E[ids]; hs = [x]
    for l in range(c["num_hidden_layers"]):
        p = lambda n: W[f"model.layers.{l}.{n}"]
        h = rms(x, p("input_layernorm.weight"), eps)
        qkv = lin(h, p("self_attn.qkv_proj.weight"))
        q, k, v = qkv.split([H * hd, KV * hd, KV * hd], -1)
        q, k, v = heads(q, H, hd), heads(k, KV, hd), heads(v, KV, hd)
        q, k = rot(q, cos, sin), rot(k, cos, sin)
        x = x + lin(merge(attend(q, k, v, hd ** -0.5, c.get("sliding_window"))), p("self_attn.o_proj.weight"))
        h = rms(x, p("post_attention_layernorm.weight"), eps)
        gu = lin(h, p("mlp.gate_up_proj.weight")); g, u = gu.chunk(2, -1)
        x = x + lin(u * torch.nn.functional.silu(g), p("mlp.down_proj.weight"))
        hs.append(x)
    x = rms(x, W["model.norm.weight"], eps); hs[-1] = x
    return lin(x, W.get("lm_head.weight", E)), hs


worst = 0
for name in sys.argv[1:]:
    c = json.load(open(D + name + "/config.json")); g = json.load(open(D + name + "/golden.json"))
    W = {k: v.to(torch.float64) for k, v in load_file(D + name + "/model.safetensors").items()}
    f = {"opt": opt, "gemma3_text": gemma, "phi3": phi3}[c["model_type"]]
    ids = g["input_ids"]
    logits, hs = f(W, c, ids)
    dl = (logits.flatten() - torch.tensor(g["logits_fp32"])).abs().max().item()
    dh = max((h.flatten() - torch.tensor(e)).abs().max().item() for h, e in zip(hs, g["hidden_states"]))
    msg = f"{name}: max|logit diff| {dl:.2e}, max|hidden diff| {dh:.2e}"
    if "logits_fp32_prefix" in g:
        lp, _ = f(W, c, ids[:g["prefix_len"]])
        dp = (lp.flatten() - torch.tensor(g["logits_fp32_prefix"])).abs().max().item()
        msg += f", prefix {dp:.2e}"; dl = max(dl, dp)
    print(msg); worst = max(worst, dl, dh)
print("worst", worst)
sys.exit(0 if worst < 1e-5 else 1)
