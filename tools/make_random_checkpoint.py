#!/usr/bin/env python3
"""Writes a random LLaMA-2-7b-shaped bf16 checkpoint (32 layers, ~13.5 GB, 5 GB shards + index) for the
larger-than-memory benchmark (bench/big_compress.sh). Tensors are generated and written one at a time, so the script
needs little memory. Tokenizer files are copied from the demo model (its ids are all < 32000).

Usage: python tools/make_random_checkpoint.py --out DIR [--layers 32] [--seed 0]
"""
import argparse
import json
import pathlib
import shutil
import struct

import torch

SHAPE = dict(hidden=4096, inter=11008, heads=32, kv=32, vocab=32000)
SHARD = 5_000_000_000


def tensors(layers):
    d, f, v = SHAPE["hidden"], SHAPE["inter"], SHAPE["vocab"]
    yield "model.embed_tokens.weight", (v, d)
    for i in range(layers):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (d,)
        for n in ("q", "k", "v", "o"):
            yield p + f"self_attn.{n}_proj.weight", (d, d)
        yield p + "post_attention_layernorm.weight", (d,)
        yield p + "mlp.gate_proj.weight", (f, d)
        yield p + "mlp.up_proj.weight", (f, d)
        yield p + "mlp.down_proj.weight", (d, f)
    yield "model.norm.weight", (d,)
    yield "lm_head.weight", (v, d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(a.seed)
    shards, cur, size = [], [], 0
    for name, shape in tensors(a.layers):
        n = 2 * torch.Size(shape).numel()
        if cur and size + n > SHARD:
            shards.append(cur)
            cur, size = [], 0
        cur.append((name, shape))
        size += n
    shards.append(cur)
    weight_map, total = {}, 0
    for k, shard in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        header, off = {"__metadata__": {"format": "pt"}}, 0
        for name, shape in shard:
            n = 2 * torch.Size(shape).numel()
            header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [off, off + n]}
            off += n
            weight_map[name] = fname
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * (-len(h) % 8)
        with open(out / fname, "wb") as fh:
            fh.write(struct.pack("<Q", len(h)) + h)
            for name, shape in shard:
                t = torch.ones(shape) if name.endswith("norm.weight") else torch.randn(shape, generator=gen) * 0.02
                fh.write(t.to(torch.bfloat16).view(torch.int16).numpy().tobytes())
        total += off
        print(fname, off / 1e9, "GB", flush=True)
    (out / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
    (out / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": SHAPE["hidden"],
        "intermediate_size": SHAPE["inter"], "num_hidden_layers": a.layers, "num_attention_heads": SHAPE["heads"],
        "num_key_value_heads": SHAPE["kv"], "vocab_size": SHAPE["vocab"], "max_position_embeddings": 4096,
        "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": False,
        "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"}, indent=2))
    demo = pathlib.Path(__file__).resolve().parent.parent / "models/sotu-llama-12l-bf16"
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(demo / f, out / f)


if __name__ == "__main__":
    main()
