#!/usr/bin/env python3
"""transformers' LlamaDecoderLayer timed on calibration-sized input, for bench/big_calib.sh.

One decoder layer of the checkpoint's config (its layer 0 weights, loaded from the safetensors files) runs forward in
the given dtype over W windows of S tokens (causal sdpa attention, RoPE from LlamaRotaryEmbedding, one window per
call, as calibration streams them), with torch.set_num_threads(T). One warm-up window, then every window timed.
Prints one JSON object: seconds for the W windows through this one layer, tokens/s, and the seconds scaled to all
layers of the model (the layers are identical in cost).

Usage: python tools/layer_reference.py --model DIR [--windows 16] [--seq-len 2048] [--threads T] [--dtype bfloat16]
"""
import argparse
import json
import pathlib
import time

import torch
from safetensors import safe_open
from transformers import AutoConfig
from transformers.models.llama.modeling_llama import LlamaDecoderLayer, LlamaRotaryEmbedding


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--windows", type=int, default=16)
    ap.add_argument("--seq-len", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float32"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dtype = getattr(torch, a.dtype)
    cfg = AutoConfig.from_pretrained(a.model)
    cfg._attn_implementation = "sdpa"
    layer = LlamaDecoderLayer(cfg, layer_idx=0).to(dtype).eval()
    state = {}
    for f in sorted(pathlib.Path(a.model).glob("*.safetensors")):
        with safe_open(str(f), framework="pt") as st:
            for k in st.keys():
                if k.startswith("model.layers.0."):
                    state[k[len("model.layers.0."):]] = st.get_tensor(k).to(dtype)
    layer.load_state_dict(state)
    rope = LlamaRotaryEmbedding(cfg)
    gen = torch.Generator().manual_seed(0)
    pos = torch.arange(a.seq_len).unsqueeze(0)

    def run(x):
        pe = rope(x, pos)
        out = layer(x, attention_mask=None, position_ids=pos, position_embeddings=pe)
        return out[0] if isinstance(out, tuple) else out

    with torch.inference_mode():
        xs = [torch.randn(1, a.seq_len, cfg.hidden_size, generator=gen).to(dtype) for _ in range(a.windows)]
        run(xs[0])  # warm-up
        t0 = time.perf_counter()
        for x in xs:
            run(x)
        secs = time.perf_counter() - t0
    tokens = a.windows * a.seq_len
    print(json.dumps({"dtype": a.dtype, "threads": a.threads, "windows": a.windows, "seq_len": a.seq_len,
                      "layer_seconds": secs, "tokens_per_second_per_layer": tokens / secs,
                      "layers": cfg.num_hidden_layers, "model_seconds": secs * cfg.num_hidden_layers}))


if __name__ == "__main__":
    main()
