#!/usr/bin/env python3
"""Golden for `come eval --ppl-mode rolling`: lm-evaluation-harness's own wikitext task (rolling log-likelihood,
word/byte perplexity, bits per byte) on a few hand-written pages in EleutherAI/wikitext_document_level format, with
the hf backend on the llama-mha-f32 fixture and max_length 16 so that every page needs several rolling windows.
Both encodings: lm-eval 0.4.13's default (the tokenizer adds BOS) and add_bos_token=False (classic).

Writes src/test/resources/eval/data/wikitext/test.jsonl and src/test/resources/eval/goldens/wikitext.json.
Usage (venv with torch, transformers, lm-eval): .venv/bin/python tools/lm_eval_wikitext_golden.py
"""
import json
import pathlib
import shutil
import tempfile

import lm_eval
from lm_eval.tasks import TaskManager

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "src/test/resources/eval/data/wikitext/test.jsonl"
MODEL = ROOT / "src/test/resources/fixtures/llama-mha-f32"
PAGES = [
    " = Robert Boulter = \n \n Robert Boulter is an English film , television and theatre actor . He had a guest @-@ "
    "starring role on the television series The Bill in 2000 . This was followed by a starring role in the play Herons "
    "( written by Simon Stephens ) , which was performed in 2001 at the Royal Court Theatre . \n",
    " = = Career = = \n \n In 2006 , Boulter starred alongside Whishaw in the play Citizenship . He appeared on a 2006 "
    "episode of the television series , Doctors , followed by a role in the 2007 theatre production of How to Curse . "
    "The temperature was 30 ° C and the crowd 's mood was \" happy \" ; N people attended . \n",
    " = = = Later work = = = \n \n The players ' union paid 3 @,@ 000 dollars [ about 2 @.@ 5 thousand pounds ] for { "
    "the rights } ! Was it worth it ? Nobody knows . \n",
]


def main():
    DATA.parent.mkdir(parents=True, exist_ok=True)
    DATA.write_text("".join(json.dumps({"page": p}) + "\n" for p in PAGES))
    official = pathlib.Path(lm_eval.__file__).parent / "tasks/wikitext"
    out = {"lm_eval_version": lm_eval.__version__, "model": str(MODEL.relative_to(ROOT)), "max_length": 16, "modes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tasks = pathlib.Path(tmp)
        shutil.copy(official / "preprocess_wikitext.py", tasks / "preprocess_wikitext.py")
        cfg = (official / "wikitext.yaml").read_text().replace("task: wikitext", "task: wikitext_local")
        cfg = cfg.replace("dataset_path: EleutherAI/wikitext_document_level",
                          f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {DATA}")
        cfg = cfg.replace("dataset_name: wikitext-2-raw-v1\n", "").replace("training_split: train\n", "")
        cfg = cfg.replace("validation_split: validation\n", "")
        (tasks / "wikitext_local.yaml").write_text(cfg)
        for mode, extra in (("default", ""), ("no_bos", ",add_bos_token=False")):
            res = lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={MODEL},dtype=float32,max_length=16{extra}",
                                          tasks=["wikitext_local"], batch_size=1, device="cpu", log_samples=True,
                                          task_manager=TaskManager(include_path=str(tasks)))
            r = res["results"]["wikitext_local"]
            samples = sorted(res["samples"]["wikitext_local"], key=lambda s: s["doc_id"])
            out["modes"][mode] = {
                "word_perplexity": r["word_perplexity,none"], "byte_perplexity": r["byte_perplexity,none"],
                "bits_per_byte": r["bits_per_byte,none"],
                "documents": [{"doc_id": s["doc_id"], "loglikelihood": float(s["filtered_resps"][0])
                               if not isinstance(s["filtered_resps"][0], list) else float(s["filtered_resps"][0][0])}
                              for s in samples]}
    (ROOT / "src/test/resources/eval/goldens/wikitext.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
