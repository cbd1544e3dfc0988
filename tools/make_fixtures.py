#!/usr/bin/env python3
"""Generate the golden test fixtures under src/test/resources/fixtures/.

Tiny random checkpoints (five LLaMA-family architectures and OPT, Gemma 3, Phi-3, each in f32 and most in bf16), each
with a tokenizer trained on fixtures/ppl.txt and a golden.json holding reference logits, hidden states and perplexities
computed with Hugging Face transformers. The Java tests compare come4j's forward pass, tokenizer and perplexity against
these numbers. fixtures/README.md describes every fixture and every golden field.

Python environment (torch CPU + transformers; pip is configured for a local offline wheelhouse):

    python3 -m venv .venv && .venv/bin/pip install torch transformers

Run from the repository root:

    .venv/bin/python tools/make_fixtures.py            # or: /work/pyenv/bin/python tools/make_fixtures.py
    .venv/bin/python tools/make_fixtures.py --only opt opt350 gemma3 phi3 phi3-longrope    # the new families only

Deterministic (fixed seeds, single-threaded torch) and re-runnable: every fixture folder is wiped and rewritten.
"""

import argparse
import json
import math
import os
import shutil
from collections import Counter

import numpy as np
import torch
import transformers
import tokenizers
from safetensors import safe_open
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, decoders, processors, trainers, Regex
from transformers import (AutoModelForCausalLM, AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig,
                          LlamaForCausalLM, MistralConfig, MistralForCausalLM, OPTConfig, OPTForCausalLM, Phi3Config,
                          Phi3ForCausalLM, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM, Qwen3Config,
                          Qwen3ForCausalLM)

transformers.utils.logging.set_verbosity_error()
transformers.utils.logging.disable_progress_bar()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "src", "test", "resources", "fixtures")

VOCAB = 384
HIDDEN = 64
INTERMEDIATE = 128
LAYERS = 3
MAX_POS = 128
GOLDEN_LEN = 20
PPL_SEQ_LEN = 32
SLIDING = 8
# Gemma 3: hidden 48 so that the embedding scale sqrt(48) = 6.928... is not a bfloat16 number (transformers rounds it
# to the weight dtype: 6.9375 in the bf16 run); head_dim and query_pre_attn_scalar differ from 48/4 and from each other.
GEMMA_HIDDEN = 48
# Phi-3 LongRoPE: original_max_position_embeddings below GOLDEN_LEN and PPL_SEQ_LEN, so the golden and ppl runs use the
# long factors; LONGROPE_PREFIX (<= 16) tokens use the short factors (golden field logits_fp32_prefix).
LONGROPE_ORIGINAL_MAX = 16
LONGROPE_PREFIX = 12

# ---------------------------------------------------------------------------------------------------------------------
# Shared text: public-domain US documents (Declaration of Independence, opening; Gettysburg Address, Bliss copy) and a
# short note line carrying a few non-ASCII characters (curly apostrophe, em dash, e acute) so that byte fallback is
# exercised by the LLaMA-style tokenizers. Documents are joined with one blank line.
# ---------------------------------------------------------------------------------------------------------------------
DOC_DECLARATION = (
    "When in the Course of human events, it becomes necessary for one people to dissolve the political bands which "
    "have connected them with another, and to assume among the powers of the earth, the separate and equal station to "
    "which the Laws of Nature and of Nature's God entitle them, a decent respect to the opinions of mankind requires "
    "that they should declare the causes which impel them to the separation.\n"
    "We hold these truths to be self-evident, that all men are created equal, that they are endowed by their Creator "
    "with certain unalienable Rights, that among these are Life, Liberty and the pursuit of Happiness. That to secure "
    "these rights, Governments are instituted among Men, deriving their just powers from the consent of the governed. "
    "That whenever any Form of Government becomes destructive of these ends, it is the Right of the People to alter "
    "or to abolish it, and to institute new Government, laying its foundation on such principles and organizing its "
    "powers in such form, as to them shall seem most likely to effect their Safety and Happiness. Prudence, indeed, "
    "will dictate that Governments long established should not be changed for light and transient causes; and "
    "accordingly all experience hath shewn, that mankind are more disposed to suffer, while evils are sufferable, "
    "than to right themselves by abolishing the forms to which they are accustomed."
)

DOC_GETTYSBURG = (
    "Four score and seven years ago our fathers brought forth on this continent, a new nation, conceived in Liberty, "
    "and dedicated to the proposition that all men are created equal.\n"
    "Now we are engaged in a great civil war, testing whether that nation, or any nation so conceived and so "
    "dedicated, can long endure. We are met on a great battle-field of that war. We have come to dedicate a portion "
    "of that field, as a final resting place for those who here gave their lives that that nation might live. It is "
    "altogether fitting and proper that we should do this.\n"
    "But, in a larger sense, we can not dedicate -- we can not consecrate -- we can not hallow -- this ground. The "
    "brave men, living and dead, who struggled here, have consecrated it, far above our poor power to add or detract. "
    "The world will little note, nor long remember what we say here, but it can never forget what they did here. It "
    "is for us the living, rather, to be dedicated here to the unfinished work which they who fought here have thus "
    "far so nobly advanced. It is rather for us to be here dedicated to the great task remaining before us -- that "
    "from these honored dead we take increased devotion to that cause for which they gave the last full measure of "
    "devotion -- that we here highly resolve that these dead shall not have died in vain -- that this nation, under "
    "God, shall have a new birth of freedom -- and that government of the people, by the people, for the people, "
    "shall not perish from the earth."
)

DOC_NOTE = (
    "Note: Lincoln’s address at Gettysburg — November 19, 1863 — was given at the dedication of the "
    "Soldiers’ National Cemetery; a café nearby is not part of the record."
)

PPL_TEXT = "\n\n".join([DOC_DECLARATION, DOC_GETTYSBURG, DOC_NOTE]) + "\n"

# The golden forward pass uses the first 20 tokens of this sentence (it occurs in ppl.txt; the curly apostrophe makes
# the LLaMA-style tokenizers use byte-fallback tokens).
GOLDEN_SENTENCE = "Note: Lincoln’s address at Gettysburg — November 19, 1863 — was given at the dedication"

# Qwen2's pre-tokenization regex (the GPT-4-like split pattern Qwen2/Qwen3 ship in tokenizer.json).
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
              r"|\s+(?!\S)|\s+")


# ---------------------------------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------------------------------
def train_llama_tokenizer(text, legacy_normalizer):
    """LLaMA-2 style BPE: <unk>=0, <s>=1, </s>=2, <0x00>..<0xFF> = 3..258, then learned pieces; byte fallback.

    legacy_normalizer=False: Metaspace pre-tokenizer (prepend_scheme "always", split) as current tokenizers writes it
    (and as the demo model sotu-llama-12l has it). legacy_normalizer=True: the layout of the original Llama-2 /
    Mistral-7B tokenizer.json (normalizer Prepend("▁") + Replace(" ", "▁"), no pre-tokenizer). Both give the same ids.
    """
    specials = ["<unk>", "<s>", "</s>"]
    n_bytes = 256
    # Train on Metaspace words. The alphabet keeps only characters seen at least 3 times, so the rare ones (digits,
    # ’, —, é, a few capitals) are not in the vocabulary and encode as byte-fallback tokens. The cut is placed at a
    # count boundary, so ties in the trainer's frequency sort cannot make the result depend on hash order.
    counts = Counter(("▁" + text).replace(" ", "▁"))
    keep = sum(1 for c in counts.values() if c >= 3)
    t = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True))
    t.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.BpeTrainer(vocab_size=VOCAB - n_bytes, special_tokens=specials, limit_alphabet=keep,
                                  show_progress=False)
    t.train_from_iterator([text], trainer=trainer)
    trained = json.loads(t.to_str())["model"]
    pieces = sorted(trained["vocab"].items(), key=lambda kv: kv[1])
    vocab = {}
    for s in specials:
        vocab[s] = len(vocab)
    for b in range(n_bytes):
        vocab["<0x%02X>" % b] = len(vocab)
    for piece, _ in pieces:
        if piece not in vocab:
            vocab[piece] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in trained["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    if legacy_normalizer:
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        tok.pre_tokenizer = None
    else:
        tok.normalizer = None
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                                     decoders.Strip(" ", 1, 0)])
    tok.add_special_tokens(specials)
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", pair="<s> $A <s> $B",
                                                       special_tokens=[("<s>", 1)])
    assert tok.get_vocab_size() == VOCAB, tok.get_vocab_size()
    return tok


def train_qwen_tokenizer(text):
    """Qwen2-style byte-level BPE: NFC, regex split, ByteLevel; <|endoftext|> appended as the last id; no BOS."""
    t = Tokenizer(models.BPE())
    t.normalizer = normalizers.NFC()
    t.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(vocab_size=VOCAB - 1, special_tokens=[],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    t.train_from_iterator([text], trainer=trainer)
    t.decoder = decoders.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    t.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    t.add_special_tokens(["<|endoftext|>"])
    assert t.get_vocab_size() == VOCAB, t.get_vocab_size()
    assert t.token_to_id("<|endoftext|>") == VOCAB - 1
    return t


def save_tokenizer(tok, folder, llama_style):
    if llama_style:
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                       clean_up_tokenization_spaces=False, model_max_length=1000000)
    else:
        fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>",
                                       clean_up_tokenization_spaces=False, model_max_length=1000000)
    fast.save_pretrained(folder)
    # transformers 5 no longer writes special_tokens_map.json on its own; write it as v4 did (tokens in use).
    stm = os.path.join(folder, "special_tokens_map.json")
    if not os.path.exists(stm):
        m = {}
        for k in ("bos_token", "eos_token", "unk_token", "pad_token"):
            v = getattr(fast, k, None)
            if v is not None:
                m[k] = str(v)
        with open(stm, "w", encoding="utf-8") as f:
            json.dump(m, f, indent=2, ensure_ascii=False)
            f.write("\n")


# ---------------------------------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------------------------------
def common_kwargs(tok_llama_style):
    kw = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=INTERMEDIATE, num_hidden_layers=LAYERS,
              num_attention_heads=4, max_position_embeddings=MAX_POS, hidden_act="silu")
    if tok_llama_style:
        kw.update(bos_token_id=1, eos_token_id=2, pad_token_id=None)
    else:
        kw.update(bos_token_id=None, eos_token_id=VOCAB - 1, pad_token_id=None)
    return kw


def build(name):
    """Returns (model class, config, llama_style_tokenizer, legacy_normalizer, seed)."""
    if name == "llama-mha":
        cfg = LlamaConfig(**common_kwargs(True), num_key_value_heads=4, rms_norm_eps=1e-5,
                          rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                          tie_word_embeddings=False, attention_bias=False, mlp_bias=False)
        return LlamaForCausalLM, cfg, True, False, 101
    if name == "llama3-gqa":
        cfg = LlamaConfig(**common_kwargs(True), num_key_value_heads=2, rms_norm_eps=1e-5,
                          rope_parameters={"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                                           "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                           "original_max_position_embeddings": 64},
                          tie_word_embeddings=False)
        return LlamaForCausalLM, cfg, True, False, 202
    if name == "mistral":
        cfg = MistralConfig(**common_kwargs(True), num_key_value_heads=2, rms_norm_eps=1e-5,
                            rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                            sliding_window=SLIDING, tie_word_embeddings=False)
        return MistralForCausalLM, cfg, True, True, 303
    if name == "qwen2":
        cfg = Qwen2Config(**common_kwargs(False), num_key_value_heads=2, rms_norm_eps=1e-6,
                          rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
                          use_sliding_window=False, tie_word_embeddings=False)
        return Qwen2ForCausalLM, cfg, False, False, 404
    if name == "qwen3":
        cfg = Qwen3Config(**common_kwargs(False), num_key_value_heads=2, head_dim=32, rms_norm_eps=1e-6,
                          rope_parameters={"rope_type": "default", "rope_theta": 1000000.0},
                          use_sliding_window=True, sliding_window=SLIDING, max_window_layers=1,
                          tie_word_embeddings=True, attention_bias=False)
        return Qwen3ForCausalLM, cfg, False, False, 505
    # The new families use the LLaMA-style tokenizer (BOS <s> = 1); their real tokenizers are not the point here.
    if name in ("opt", "opt350"):
        # opt: pre-norm as opt-125m and 1.3b+; opt350: post-norm with word embeddings of width 32 projected to and
        # from the hidden size 64 (project_in / project_out, as opt-350m: 512 vs 1024). Dropout 0 so that a layer in
        # train mode (tools/distill_step_reference.py) is deterministic.
        pre = name == "opt"
        cfg = OPTConfig(vocab_size=VOCAB, hidden_size=HIDDEN, ffn_dim=INTERMEDIATE, num_hidden_layers=LAYERS,
                        num_attention_heads=4, max_position_embeddings=MAX_POS, do_layer_norm_before=pre,
                        word_embed_proj_dim=HIDDEN if pre else HIDDEN // 2, activation_function="relu",
                        enable_bias=True, dropout=0.0, attention_dropout=0.0, layerdrop=0.0,
                        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=None)
        return OPTForCausalLM, cfg, True, False, 606 if pre else 616
    if name == "gemma3":
        cfg = Gemma3TextConfig(vocab_size=VOCAB, hidden_size=GEMMA_HIDDEN, intermediate_size=INTERMEDIATE,
                               num_hidden_layers=LAYERS, num_attention_heads=4, num_key_value_heads=2, head_dim=32,
                               query_pre_attn_scalar=24, max_position_embeddings=MAX_POS, rms_norm_eps=1e-6,
                               hidden_activation="gelu_pytorch_tanh", sliding_window=SLIDING,
                               # layer_types wins; the legacy pattern (every 2nd layer global) is given too so that
                               # the config.json field transformers writes for it agrees (Hub configs: pattern 6)
                               layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                               sliding_window_pattern=2,
                               # local θ = rope_local_base_freq, global θ with linear factor 8 as gemma-3-4b and up
                               rope_parameters={"sliding_attention": {"rope_type": "default", "rope_theta": 10000.0},
                                                "full_attention": {"rope_type": "linear", "factor": 8.0,
                                                                   "rope_theta": 1000000.0}},
                               tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=None)
        return Gemma3ForCausalLM, cfg, True, False, 707
    if name == "phi3":
        # as Phi-3-mini-4k: MHA, untied, default RoPE, a sliding window (2047 there) on every layer
        cfg = Phi3Config(**common_kwargs(True), num_key_value_heads=4, rms_norm_eps=1e-5,
                         original_max_position_embeddings=MAX_POS,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
                         sliding_window=SLIDING, tie_word_embeddings=False)
        return Phi3ForCausalLM, cfg, True, False, 808
    if name == "phi3-longrope":
        # as Phi-3-*-128k / Phi-4-mini: LongRoPE, and (Phi-4-mini) GQA, tied embeddings, partial rotary 0.75:
        # head_dim 16 -> 12 rotary dims -> 6 factors per list
        cfg = Phi3Config(**common_kwargs(True), num_key_value_heads=2, rms_norm_eps=1e-5,
                         original_max_position_embeddings=LONGROPE_ORIGINAL_MAX,
                         rope_parameters={"rope_type": "longrope", "rope_theta": 10000.0, "partial_rotary_factor": 0.75,
                                          "short_factor": [1.0, 1.05, 1.1, 1.2, 1.35, 1.5],
                                          "long_factor": [1.0, 1.5, 3.0, 6.0, 12.0, 24.0]},
                         sliding_window=None, tie_word_embeddings=True)
        return Phi3ForCausalLM, cfg, True, False, 818
    raise ValueError(name)


# Checkpoint dtypes written per fixture (default: both).
DTYPES = {"phi3-longrope": ("f32",)}


def randomize(model, seed):
    g = torch.Generator().manual_seed(seed)
    # Gemma's RMSNorm scales by (1 + w): its weights are stored centred on 0
    norm_centre = 0.0 if model.config.model_type == "gemma3_text" else 1.0
    with torch.no_grad():
        for pname, p in model.named_parameters():  # tied parameters appear once
            if pname.endswith("norm.weight"):  # every RMSNorm / LayerNorm weight (OPT: *_layer_norm.weight)
                p.copy_(norm_centre + 0.1 * torch.randn(p.shape, generator=g))
            elif pname.endswith(".bias"):
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.08 * torch.randn(p.shape, generator=g))


# ---------------------------------------------------------------------------------------------------------------------
# Golden values
# ---------------------------------------------------------------------------------------------------------------------
def f32list(t):
    """Flat list of Python floats, each the shortest decimal that round-trips the float32 value."""
    a = t.detach().to(torch.float32).contiguous().view(-1).numpy()
    return [float(np.format_float_positional(x, unique=True, trim="-")) if np.isfinite(x) else float(x) for x in a]


def window_ppl(model, ids, seq_len, batch=64):
    n = len(ids) // seq_len
    windows = torch.tensor(ids[: n * seq_len], dtype=torch.long).view(n, seq_len)
    losses = []
    with torch.no_grad():
        for s in range(0, n, batch):
            x = windows[s:s + batch]
            logits = model(input_ids=x).logits.to(torch.float32)
            logp = torch.log_softmax(logits[:, :-1, :], dim=-1)
            nll = -logp.gather(-1, x[:, 1:, None]).squeeze(-1)  # [b, L-1], float32
            losses.extend(nll.mean(dim=-1).tolist())
    mean = math.fsum(float(l) for l in losses) / n
    return math.exp(mean), n


def attention_windows(model, ids):
    """Per layer: None for full causal attention, else w such that query i sees keys i-w+1..i (measured)."""
    with torch.no_grad():
        out = model(input_ids=torch.tensor([ids]), output_attentions=True)
    res = []
    T = len(ids)
    for a in out.attentions:  # [1, heads, T, T]
        seen = (a[0] != 0).any(dim=0)  # [T, T]
        assert not seen.triu(1).any(), "attention to future positions"
        reach = 0
        for i in range(T):
            js = torch.nonzero(seen[i]).view(-1)
            reach = max(reach, i - int(js.min()) + 1)
            assert int(js.max()) == i
            assert len(js) == i - int(js.min()) + 1, "holes in the window"
        res.append(None if reach == T else reach)
    return res


def llama3_bands(cfg):
    rp = cfg.rope_parameters
    head_dim = cfg.hidden_size // cfg.num_attention_heads
    inv = 1.0 / (rp["rope_theta"] ** (np.arange(0, head_dim, 2, dtype=np.float64) / head_dim))
    wl = 2 * math.pi / inv
    lo_wl = rp["original_max_position_embeddings"] / rp["low_freq_factor"]
    hi_wl = rp["original_max_position_embeddings"] / rp["high_freq_factor"]
    bands = []
    for w in wl:
        bands.append("untouched" if w < hi_wl else ("scaled" if w > lo_wl else "smoothed"))
    return [round(float(w), 3) for w in wl], bands


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def folder_size(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def make(name, tok_cache, ppl_path):
    cls, cfg, llama_style, legacy, seed = build(name)
    cfg._attn_implementation = "eager"
    key = (llama_style, legacy)
    if key not in tok_cache:
        tok_cache[key] = train_llama_tokenizer(PPL_TEXT, legacy) if llama_style else train_qwen_tokenizer(PPL_TEXT)
    tok = tok_cache[key]

    torch.manual_seed(seed)
    model = cls(cfg).to(torch.float32).eval()
    randomize(model, seed)

    results = {}
    for suffix, dtype in (("f32", torch.float32), ("bf16", torch.bfloat16)):
        if suffix not in DTYPES.get(name, ("f32", "bf16")):
            continue
        folder = os.path.join(OUT, f"{name}-{suffix}")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        m = model if dtype == torch.float32 else cls(cfg).eval()
        if dtype == torch.bfloat16:
            m.load_state_dict(model.state_dict())
            m = m.to(torch.bfloat16)
        m.config.dtype = dtype
        m.save_pretrained(folder)
        save_tokenizer(tok, folder, llama_style)
        results[suffix] = golden(folder, llama_style, dtype, ppl_path)
    return results


def golden(folder, llama_style, dtype, ppl_path):
    hf_tok = AutoTokenizer.from_pretrained(folder)
    raw_tok = Tokenizer.from_file(os.path.join(folder, "tokenizer.json"))
    enc = hf_tok(GOLDEN_SENTENCE)["input_ids"]
    assert enc == raw_tok.encode(GOLDEN_SENTENCE).ids, "AutoTokenizer and tokenizer.json disagree"
    if llama_style:
        assert enc[0] == 1 and enc.count(1) == 1, "llama-style tokenizer must add exactly one BOS"
    else:
        assert hf_tok.bos_token_id is None or enc[0] != hf_tok.bos_token_id
    assert hf_tok.decode(enc, skip_special_tokens=True) == GOLDEN_SENTENCE, hf_tok.decode(enc, skip_special_tokens=True)
    assert len(enc) >= GOLDEN_LEN > SLIDING
    ids = enc[:GOLDEN_LEN]

    with open(ppl_path, encoding="utf-8") as f:
        text = f.read()
    all_ids = hf_tok(text)["input_ids"]
    assert all_ids == raw_tok.encode(text).ids
    assert hf_tok.decode(all_ids, skip_special_tokens=True) == text

    native = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, attn_implementation="eager").eval()
    fp32 = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    assert next(native.parameters()).dtype == dtype
    x = torch.tensor([ids])
    with torch.no_grad():
        out32 = fp32(input_ids=x, output_hidden_states=True)
        logits_native = native(input_ids=x).logits[0] if dtype != torch.float32 else out32.logits[0]
        base = fp32.model(input_ids=x)
    hs = out32.hidden_states
    cfg = fp32.config
    assert len(hs) == cfg.num_hidden_layers + 1
    # The last hidden state is reported after the final RMSNorm (transformers convention).
    assert torch.equal(hs[-1], base.last_hidden_state), "last hidden state is not the normed one"
    ppl32, n_windows = window_ppl(fp32, all_ids, PPL_SEQ_LEN)
    ppl_nat, _ = window_ppl(native, all_ids, PPL_SEQ_LEN) if dtype != torch.float32 else (ppl32, n_windows)
    windows = attention_windows(fp32, ids)
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads

    g = {
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "model_type": cfg.model_type,
        "dtype": "bfloat16" if dtype == torch.bfloat16 else "float32",
        "input_ids": ids,
        "logits_shape": [len(ids), cfg.vocab_size],
        "logits": f32list(logits_native),
        "logits_fp32": f32list(out32.logits[0]),
        "hidden_states_shape": [len(hs), len(ids), cfg.hidden_size],
        # per entry; differs from hidden_size only for the last entry of OPT with project_out (opt350)
        "hidden_states_widths": [h.shape[-1] for h in hs],
        "hidden_states": [f32list(h[0]) for h in hs],
        "ppl_seq_len": PPL_SEQ_LEN,
        "ppl": ppl32,
        "ppl_native": ppl_nat,
        "ppl_windows": n_windows,
        "ppl_tokens": len(all_ids),
        "config_summary": {
            "num_hidden_layers": cfg.num_hidden_layers,
            "num_attention_heads": cfg.num_attention_heads,
            "num_key_value_heads": getattr(cfg, "num_key_value_heads", None) or cfg.num_attention_heads,
            "head_dim": head_dim,
            "hidden_size": cfg.hidden_size,
            "vocab_size": cfg.vocab_size,
            "tie_word_embeddings": bool(cfg.tie_word_embeddings),
            "rope_parameters": dict(getattr(cfg, "rope_parameters", None) or {}),
            "layer_types": list(getattr(cfg, "layer_types", None) or []),
            # measured from the eager attention probabilities on input_ids: null = full causal attention,
            # w = query i attends to keys max(0, i-w+1)..i
            "attention_window": windows,
        },
    }
    g["config_summary"].update(family_summary(fp32, native, dtype))
    if cfg.model_type == "phi3" and cfg.rope_parameters["rope_type"] == "longrope":
        g.update(longrope_prefix(fp32, ids, out32.logits[0]))
    write_json(os.path.join(folder, "golden.json"), g)
    return g


def family_summary(fp32, native, dtype):
    """The settings of OPT, Gemma 3 and Phi-3 that a reimplementation must read, as transformers applied them."""
    cfg = fp32.config
    if cfg.model_type == "opt":
        dec = fp32.model.decoder
        return {"do_layer_norm_before": cfg.do_layer_norm_before, "word_embed_proj_dim": cfg.word_embed_proj_dim,
                "ffn_dim": cfg.ffn_dim, "activation_function": cfg.activation_function, "enable_bias": cfg.enable_bias,
                "position_offset": dec.embed_positions.offset,
                "embed_positions_rows": dec.embed_positions.num_embeddings,
                "project_in": dec.project_in is not None, "project_out": dec.project_out is not None,
                "final_layer_norm": dec.final_layer_norm is not None}
    if cfg.model_type == "gemma3_text":
        return {"query_pre_attn_scalar": cfg.query_pre_attn_scalar,
                "attention_scaling": cfg.query_pre_attn_scalar ** -0.5,
                "final_logit_softcapping": cfg.final_logit_softcapping,
                "attn_logit_softcapping": cfg.attn_logit_softcapping,
                "hidden_activation": cfg.hidden_activation, "sliding_window": cfg.sliding_window,
                "embed_scale_fp32": float(fp32.model.embed_tokens.embed_scale.to(torch.float32)),
                # transformers multiplies by embed_scale cast to the weight dtype
                "embed_scale_native": float(native.model.embed_tokens.embed_scale.to(dtype).to(torch.float32))}
    if cfg.model_type == "phi3":
        rp = cfg.rope_parameters
        rot = fp32.model.rotary_emb
        out = {"rotary_dims": int(cfg.hidden_size // cfg.num_attention_heads * rp.get("partial_rotary_factor", 1.0)),
               "sliding_window": cfg.sliding_window, "attention_factor": float(rot.attention_scaling),
               "original_max_position_embeddings": cfg.original_max_position_embeddings,
               "max_position_embeddings": cfg.max_position_embeddings}
        return out
    return {}


def longrope_prefix(fp32, ids, logits_full):
    """LongRoPE picks its factors per forward call: long if max(position)+1 > original_max_position_embeddings, for
    every position of the call. Logits of a prefix short enough for the short factors, and the factors each run used."""
    rot = fp32.model.rotary_emb
    rp = fp32.config.rope_parameters
    dim = len(rp["short_factor"]) * 2
    base = rp["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim)

    def used():
        f = 1.0 / (rot.inv_freq * base)
        for kind in ("short", "long"):
            if torch.allclose(f, torch.tensor(rp[f"{kind}_factor"]), rtol=1e-6):
                return kind
        raise AssertionError(f"inv_freq matches neither factor list: {f}")

    with torch.no_grad():
        fp32(input_ids=torch.tensor([ids]))
        full_kind = used()
        prefix = fp32(input_ids=torch.tensor([ids[:LONGROPE_PREFIX]])).logits[0]
        prefix_kind = used()
    assert (full_kind, prefix_kind) == ("long", "short"), (full_kind, prefix_kind)
    gap = float((prefix - logits_full[:LONGROPE_PREFIX]).abs().max())
    assert gap > 1e-3, "prefix logits should differ from the full run's first rows (other factors)"
    return {"rope_factors_used": full_kind, "prefix_len": LONGROPE_PREFIX, "prefix_rope_factors_used": prefix_kind,
            "logits_fp32_prefix": f32list(prefix)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", nargs="*", help="fixture base names to (re)generate, default all")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)  # bitwise-reproducible CPU reductions
    os.makedirs(OUT, exist_ok=True)
    ppl_path = os.path.join(OUT, "ppl.txt")
    with open(ppl_path, "w", encoding="utf-8", newline="\n") as f:
        f.write(PPL_TEXT)
    print(f"ppl.txt: {len(PPL_TEXT)} characters, {len(PPL_TEXT.encode('utf-8'))} bytes")

    assert GOLDEN_SENTENCE in PPL_TEXT
    names = args.only or ["llama-mha", "llama3-gqa", "mistral", "qwen2", "qwen3", "opt", "opt350", "gemma3", "phi3",
                          "phi3-longrope"]
    tok_cache = {}
    for name in names:
        res = make(name, tok_cache, ppl_path)
        g32, g16 = res["f32"], res.get("bf16")
        cs = g32["config_summary"]
        print(f"\n== {name}: layers {cs['num_hidden_layers']}, heads {cs['num_attention_heads']}/"
              f"{cs['num_key_value_heads']}, head_dim {cs['head_dim']}, tied {cs['tie_word_embeddings']}")
        print(f"   rope_parameters {cs['rope_parameters']}")
        print(f"   layer_types {cs['layer_types']}  attention window per layer (measured) {cs['attention_window']}")
        print(f"   input_ids {g32['input_ids']}")
        bf16 = f"bf16 ckpt: fp32 {g16['ppl']:.6f}, native bf16 {g16['ppl_native']:.6f}" if g16 else "no bf16"
        print(f"   ppl f32 {g32['ppl']:.6f} | {bf16} | {g32['ppl_windows']} windows of {PPL_SEQ_LEN}, "
              f"{g32['ppl_tokens']} tokens")
        extra = {k: v for k, v in cs.items() if k not in ("num_hidden_layers", "num_attention_heads",
                                                          "num_key_value_heads", "head_dim", "hidden_size",
                                                          "vocab_size", "tie_word_embeddings", "rope_parameters",
                                                          "layer_types", "attention_window")}
        if extra:
            print(f"   {extra}")
        if name == "llama3-gqa":
            _, cfg, _, _, _ = build(name)
            wl, bands = llama3_bands(cfg)
            print(f"   llama3 rope: wavelengths {wl}")
            print(f"   llama3 rope: bands {bands}")
            assert {"untouched", "smoothed", "scaled"} <= set(bands)
        for suffix in res:
            folder = os.path.join(OUT, f"{name}-{suffix}")
            with safe_open(os.path.join(folder, "model.safetensors"), "pt") as st:
                keys = list(st.keys())
            size = folder_size(folder)
            print(f"   {name}-{suffix}: {size / 1024:.1f} KiB, {len(keys)} tensors, "
                  f"lm_head.weight stored: {'lm_head.weight' in keys}")
            assert size < 2 * 1024 * 1024
    print(f"\ntorch {torch.__version__}, transformers {transformers.__version__}, tokenizers {tokenizers.__version__}")


if __name__ == "__main__":
    main()
