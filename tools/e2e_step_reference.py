#!/usr/bin/env python3
"""Reference step of come4j's end-to-end distillation stage (src/test/resources/distill/e2e-*).

The llama3-gqa fixture (3 layers) with layers 0 and 2 trained and layer 1 frozen between them: the embeddings of
random tokens go through the three Hugging Face decoder layers, the final norm and the LM head; the loss is the mean
over tokens of KL(softmax(teacher logits) || softmax(student logits)), the teacher's logits being the same head applied
to a fixed hidden state (the fixture's state after its layer 1). One step: torch autograd, clip_grad_norm_ over both
trained layers together, torch.optim.AdamW (weight decay on the matrices only, step 1 of the warm-up), with
distill_step_reference.py's settings (tau 1, as the stage uses). EndToEndStepParityTest repeats it in Java.

    /work/pyenv/bin/python tools/e2e_step_reference.py      # from the repository root; deterministic
"""

import json
import os

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM

from distill_step_reference import FIXTURES, OUT, SETTINGS, causal_mask, kl, lm_head, lr_at

NAME = "llama3-gqa-f32"
TRAINED = [0, 2]


def main():
    torch.manual_seed(SETTINGS["seed"])
    torch.set_num_threads(1)
    B, T = SETTINGS["batch"], SETTINGS["seq_len"]
    model = AutoModelForCausalLM.from_pretrained(os.path.join(FIXTURES, NAME), dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    gen = torch.Generator().manual_seed(SETTINGS["seed"])
    ids = torch.randint(0, model.config.vocab_size, (B, T), generator=gen)
    with torch.no_grad():
        hs = model(ids, output_hidden_states=True).hidden_states
        zt = lm_head(model, hs[2])  # the "teacher": the state after layer 1 through the head
    x = hs[0].clone()
    pos = torch.arange(T)[None, :].expand(B, T)
    cos_sin = model.model.rotary_emb(x, pos)
    mask = causal_mask(T, None)
    layers = model.model.layers
    for p in model.parameters():
        p.requires_grad_(False)
    params = []
    for i in TRAINED:
        layers[i].train()
        for n, p in layers[i].named_parameters():
            p.requires_grad_(True)
            params.append((i, n, p))
    decay = [p for _, _, p in params if p.dim() == 2]
    rest = [p for _, _, p in params if p.dim() != 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": SETTINGS["weight_decay"]}, {"params": rest, "weight_decay": 0.0}],
                            lr=lr_at(1), betas=(SETTINGS["beta1"], SETTINGS["beta2"]), eps=SETTINGS["eps"])
    h = x
    for layer in layers:
        out = layer(h, attention_mask=mask, position_ids=pos, position_embeddings=cos_sin)
        h = out[0] if isinstance(out, tuple) else out
    loss = kl(lm_head(model, h), zt, 1.0)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_([p for _, _, p in params], SETTINGS["clip"])
    opt.step()
    tensors = {"x": x.reshape(B * T, -1).contiguous(), "y": hs[2].reshape(B * T, -1).contiguous()}
    for i, n, p in params:
        tensors[f"after.{i}.{n}"] = p.detach().contiguous()
    save_file(tensors, os.path.join(OUT, f"e2e-{NAME}.safetensors"))
    with open(os.path.join(OUT, f"e2e-{NAME}.json"), "w") as f:
        json.dump({"trained": TRAINED, "loss": loss.item(), "grad_norm": grad_norm.item()}, f, indent=1)
    print(NAME, "layers", TRAINED, "loss", loss.item(), "grad norm", grad_norm.item())


if __name__ == "__main__":
    transformers.utils.logging.set_verbosity_error()
    main()
