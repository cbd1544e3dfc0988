#!/usr/bin/env python3
"""Random LLaMA-shaped bf16 checkpoint for the larger-than-memory benchmark (bench/big_compress.sh).

The default shape is LLaMA-2-7b: 32 layers, hidden 4096, 32 heads / 32 kv heads, intermediate 11008, vocab 32000,
untied lm_head -- 6.74 B values, 13.48 GB in bf16, written as 5 GB shards plus model.safetensors.index.json.
The safetensors files are written by hand (8-byte header length, JSON header padded to 8 bytes, raw little-endian
data), one tensor at a time and each tensor in chunks of rows, so the script needs a few hundred MB of memory whatever
the shape. Linear and embedding weights are N(0, 0.02), RMSNorm weights 1.0. Tokenizer files are copied from the
demo model (../shared/models/sotu-llama-12l, else models/sotu-llama-12l-bf16): its ids are < 4096, so any text it
encodes is valid for the 32000-entry embedding.

Usage: python tools/make_random_checkpoint.py --out DIR [--shape llama2-7b] [--layers N] [--seed 0]
"""
import argparse
import json
import pathlib
import shutil
import struct
import time

import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent
SHAPES = {
    "llama2-7b": dict(hidden=4096, inter=11008, layers=32, heads=32, kv=32, vocab=32000, max_pos=4096),
    "llama2-13b": dict(hidden=5120, inter=13824, layers=40, heads=40, kv=40, vocab=32000, max_pos=4096),
    # small enough for a quick test of the script itself
    "tiny": dict(hidden=256, inter=688, layers=4, heads=8, kv=8, vocab=32000, max_pos=4096),
}
SHARD_BYTES = 5_000_000_000
CHUNK = 1 << 24  # values generated at once (64 MB as fp32)


def layout(s):
    """(name, shape) in the order of the HF LLaMA state dict."""
    d, f, v, hd = s["hidden"], s["inter"], s["vocab"], s["hidden"] // s["heads"]
    kvd = s["kv"] * hd
    out = [("model.embed_tokens.weight", (v, d))]
    for i in range(s["layers"]):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", (d,)),
                (p + "self_attn.q_proj.weight", (d, d)),
                (p + "self_attn.k_proj.weight", (kvd, d)),
                (p + "self_attn.v_proj.weight", (kvd, d)),
                (p + "self_attn.o_proj.weight", (d, d)),
                (p + "post_attention_layernorm.weight", (d,)),
                (p + "mlp.gate_proj.weight", (f, d)),
                (p + "mlp.up_proj.weight", (f, d)),
                (p + "mlp.down_proj.weight", (d, f))]
    out += [("model.norm.weight", (d,)), ("lm_head.weight", (v, d))]
    return out


def numel(shape):
    n = 1
    for x in shape:
        n *= x
    return n


def split_shards(tensors):
    shards, cur, size = [], [], 0
    for name, shape in tensors:
        nbytes = 2 * numel(shape)
        if cur and size + nbytes > SHARD_BYTES:
            shards.append(cur)
            cur, size = [], 0
        cur.append((name, shape))
        size += nbytes
    shards.append(cur)
    return shards


def write_tensor(fh, name, shape, gen):
    n = numel(shape)
    if name.endswith("norm.weight"):
        fh.write(torch.ones(n, dtype=torch.bfloat16).view(torch.int16).numpy().tobytes())
        return
    done = 0
    while done < n:
        k = min(CHUNK, n - done)
        x = torch.randn(k, generator=gen).mul_(0.02).to(torch.bfloat16)
        fh.write(x.view(torch.int16).numpy().data)
        done += k


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--shape", default="llama2-7b", choices=sorted(SHAPES))
    ap.add_argument("--layers", type=int, help="override the shape's layer count")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    s = dict(SHAPES[a.shape])
    if a.layers:
        s["layers"] = a.layers
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    shards = split_shards(layout(s))
    weight_map, total, t0 = {}, 0, time.time()
    for k, shard in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        header, off = {"__metadata__": {"format": "pt"}}, 0
        for name, shape in shard:
            nbytes = 2 * numel(shape)
            header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [off, off + nbytes]}
            weight_map[name] = fname
            off += nbytes
        hbytes = json.dumps(header, separators=(",", ":")).encode()
        hbytes += b" " * (-len(hbytes) % 8)
        with open(out / fname, "wb") as fh:
            fh.write(struct.pack("<Q", len(hbytes)))
            fh.write(hbytes)
            for name, shape in shard:
                write_tensor(fh, name, shape, gen)
        total += off
        print(f"{fname}: {len(shard)} tensors, {off / 1e9:.2f} GB ({time.time() - t0:.0f} s)", flush=True)
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    (out / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": s["hidden"], "intermediate_size": s["inter"], "num_hidden_layers": s["layers"],
        "num_attention_heads": s["heads"], "num_key_value_heads": s["kv"], "head_dim": s["hidden"] // s["heads"],
        "vocab_size": s["vocab"], "max_position_embeddings": s["max_pos"], "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "hidden_act": "silu", "attention_bias": False, "mlp_bias": False,
        "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16",
    }
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    src = next(p for p in (ROOT.parent / "shared/models/sotu-llama-12l", ROOT / "models/sotu-llama-12l-bf16")
               if (p / "tokenizer.json").exists())
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        if (src / f).exists():
            shutil.copy(src / f, out / f)
    print(f"{out}: {sum(numel(sh) for sh in map(lambda t: t[1], layout(s))) / 1e9:.3f} B values, "
          f"{total / 1e9:.2f} GB in {len(shards)} shards, tokenizer from {src} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
