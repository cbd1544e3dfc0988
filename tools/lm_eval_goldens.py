#!/usr/bin/env python3
"""Golden fixtures from EleutherAI lm-evaluation-harness for come4j's `come eval`.

1. Writes small hand-made task data in the Hugging Face record format under
   src/test/resources/eval/data/<task>/<split>.jsonl.
2. Runs the installed lm_eval package (hf backend, fp32, batch size 1, cpu) on the tiny
   checkpoint src/test/resources/fixtures/llama-mha-f32, with task configs that `include`
   the official lm-eval YAMLs by absolute path (so doc_to_text / doc_to_choice /
   doc_to_target / process_docs / description / fewshot_config are the official ones) and
   only swap the dataset for the local JSON Lines files.
3. Writes src/test/resources/eval/goldens/<task>.json (lm-eval's default special-token mode)
   and src/test/resources/eval/goldens/no_bos/<task>.json (add_bos_token=False, i.e. the
   classic lm-eval <= 0.4.9 encoding without special tokens).

Usage (from the repository root):
    /work/pyenv/bin/python tools/lm_eval_goldens.py
"""

import json
import logging
import math
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT / "src/test/resources/eval"
DATA_DIR = EVAL_DIR / "data"
GOLDEN_DIR = EVAL_DIR / "goldens"
MODEL_REL = "src/test/resources/fixtures/llama-mha-f32"
MODEL_DIR = ROOT / MODEL_REL

# --------------------------------------------------------------------------------------
# 1. Hand-made data (HF record formats, evaluation.md section 4)
# --------------------------------------------------------------------------------------


def arc(id_, question, texts, labels, key):
    return {"id": id_, "question": question,
            "choices": {"text": texts, "label": labels}, "answerKey": key}


ARC_EASY = [
    arc("Mercury_7001", "Which gas do plants absorb?",
        ["carbon dioxide", "oxygen", "helium", "neon"], ["A", "B", "C", "D"], "A"),
    arc("Mercury_7002", "What melts ice?",
        ["heat", "cold air", "darkness"], ["A", "B", "C"], "A"),
    arc("NYSEDREGENTS_2010_4_7", "Which is a liquid at room temperature?",
        ["iron", "water", "salt", "sand"], ["1", "2", "3", "4"], "2"),
    arc("MCAS_2004_5_3", "What do bees make?",
        ["milk", "silk", "honey", "glass", "wool"], ["A", "B", "C", "D", "E"], "C"),
    arc("Mercury_7005", "The Sun is a",
        ["planet", "moon", "star", "comet"], ["A", "B", "C", "D"], "C"),
]

ARC_CHALLENGE = [
    arc("Mercury_SC_401", "Why does a metal spoon feel cold?",
        ["it conducts heat away", "it is wet", "it is heavy", "it is shiny"],
        ["A", "B", "C", "D"], "A"),
    arc("Mercury_SC_402", "Which change is chemical?",
        ["wood burning", "ice melting", "glass breaking"], ["A", "B", "C"], "A"),
    arc("NYSEDREGENTS_2012_8_11", "What causes day and night?",
        ["Earth's orbit", "Earth's rotation", "the Moon", "clouds"],
        ["1", "2", "3", "4"], "2"),
    arc("Mercury_SC_404", "A food chain starts with a",
        ["hawk", "snake", "producer", "mouse"], ["A", "B", "C", "D"], "C"),
]

HELLASWAG = [
    {"ind": 24, "activity_label": "Roof shingle removal",
     "ctx_a": "A man is sitting on a roof.", "ctx_b": "he",
     "ctx": "A man is sitting on a roof. he",
     "endings": ["is using wrap to wrap a pair of skis.", "is ripping level tiles off.",
                 "is holding a rubik's cube.", "starts pulling up roofing on a roof."],
     "source_id": "activitynet~v_-JhWjGDPHMY", "split": "val", "split_type": "indomain",
     "label": "3"},
    {"ind": 92, "activity_label": "Clean and jerk",
     "ctx_a": "A lady walks to a barbell.", "ctx_b": "she BENDS down and",
     "ctx": "A lady walks to a barbell. she BENDS down and",
     "endings": ["lifts the bar.", "eats a cake.", "sings a song.", "drives a car."],
     "source_id": "activitynet~v_-lJS58hyo1c", "split": "val", "split_type": "zeroshot",
     "label": "0"},
    {"ind": 106, "activity_label": "Home and Garden",
     "ctx_a": "[header] How to water a plant [title] Fill a can with water.",
     "ctx_b": "",
     "ctx": "[header] How to water a plant [title] Fill a can with water. ",
     "endings": ["[step] Pour it slowly at the base.", "Throw the can away.",
                 "Paint the pot  [substeps] red.", "Eat the soil."],
     "source_id": "wikihow~1", "split": "val", "split_type": "indomain",
     "label": "0"},
    {"ind": 140, "activity_label": "Food and Entertaining",
     "ctx_a": "[header] How to boil an egg [title] Put the egg in a pot.",
     "ctx_b": "then [step] add water",
     "ctx": "[header] How to boil an egg [title] Put the egg in a pot. then [step] add water",
     "endings": [" to cover the egg.", "[title] Sing to the egg.",
                 "and wait for rain.", "until the pot is full of sand."],
     "source_id": "wikihow~2", "split": "val", "split_type": "zeroshot",
     "label": "0"},
    {"ind": 201, "activity_label": "Running a marathon",
     "ctx_a": "People run down a street.", "ctx_b": "a crowd",
     "ctx": "People run down a street. a crowd",
     "endings": ["cheers them on.", "flies away.", "turns into water.", "is a car."],
     "source_id": "activitynet~v_3", "split": "val", "split_type": "indomain",
     "label": "0"},
]

PIQA = [
    {"goal": "How do I dry wet hands?", "sol1": "Rub them with a towel.",
     "sol2": "Rub them with a rock.", "label": 0},
    {"goal": "To open a jar,", "sol1": "twist the lid to the right.",
     "sol2": "twist the lid to the left.", "label": 1},
    {"goal": "Keep bread fresh", "sol1": "store it in a bag.",
     "sol2": "store it in a bath.", "label": 0},
    {"goal": "How can I cool soup?", "sol1": "Boil it longer.",
     "sol2": "Let it sit for a while.", "label": 1},
    {"goal": "Sharpen a pencil", "sol1": "use a sharpener", "sol2": "use a spoon",
     "label": 0},
]

BOOLQ = [
    {"question": "is the sun a star", "passage": "The Sun is the star at the center of the Solar System.",
     "idx": 0, "label": 1},
    {"question": "is the moon made of cheese", "passage": "The Moon is a rocky body that orbits Earth.",
     "idx": 1, "label": 0},
    {"question": "do fish live in water", "passage": "Fish are aquatic animals with gills.",
     "idx": 2, "label": 1},
    {"question": "can penguins fly", "passage": "Penguins are flightless birds that swim well.",
     "idx": 3, "label": 0},
    {"question": "is ice cold", "passage": "Ice is frozen water and is cold.",
     "idx": 4, "label": 1},
]

WINOGRANDE = [
    {"sentence": "The trophy didn't fit in the case because _ was too big.",
     "option1": "the trophy", "option2": "the case", "answer": "1"},
    {"sentence": "Sam gave Tom a book because _ was done reading it.",
     "option1": "Sam", "option2": "Tom", "answer": "1"},
    {"sentence": "The cup fell off the shelf, so _ broke.",
     "option1": "the cup", "option2": "the shelf", "answer": "1"},
    {"sentence": "Anna asked Maria for help since _ knew the answer.",
     "option1": "Anna", "option2": "Maria", "answer": "2"},
    {"sentence": "_ is colder than summer, so Jo wears a coat in winter.",
     "option1": "Winter", "option2": "Summer", "answer": "1"},
]


def obqa(id_, stem, texts, key):
    return {"id": id_, "question_stem": stem,
            "choices": {"text": texts, "label": ["A", "B", "C", "D"]}, "answerKey": key}


OPENBOOKQA = [
    obqa("7-980", "The sun is responsible for",
         ["puppies learning new tricks", "plants sprouting", "rocks floating", "cars flying"], "B"),
    obqa("7-584", "Water boils when it is",
         ["frozen", "heated", "stirred", "poured"], "B"),
    obqa("8-376", "A magnet will stick to",
         ["wood", "glass", "an iron nail", "paper"], "C"),
    obqa("9-51", "Seeds grow into",
         ["plants", "rocks", "clouds", "stars"], "A"),
    obqa("10-2", "Which is a source of light?",
         ["a mirror", "a lamp", "a shadow", "a box"], "B"),
]

MMLU_TEST = [
    {"question": "What is 2 + 3?", "subject": "elementary_mathematics",
     "choices": ["4", "5", "6", "7"], "answer": 1},
    {"question": " What is 10 / 2? ", "subject": "elementary_mathematics",
     "choices": ["2", "5", "8", "20"], "answer": 1},
    {"question": "Which number is even?", "subject": "elementary_mathematics",
     "choices": ["3", "7", "8", "9"], "answer": 2},
    {"question": "Which organ pumps blood?", "subject": "anatomy",
     "choices": ["lung", "heart", "liver", "skin"], "answer": 1},
    {"question": "How many legs do humans have?", "subject": "anatomy",
     "choices": ["one", "two", "three", "four"], "answer": 1},
    {"question": "Where is the skull?", "subject": "anatomy",
     "choices": ["foot", "hand", "head", "knee"], "answer": 2},
]

MMLU_DEV = [
    {"question": "1 + 1 =", "subject": "elementary_mathematics",
     "choices": ["1", "2", "3", "4"], "answer": 1},
    {"question": "3 - 1 =", "subject": "elementary_mathematics",
     "choices": ["2", "3", "4", "5"], "answer": 0},
    {"question": "2 * 2 =", "subject": "elementary_mathematics",
     "choices": ["2", "3", "4", "6"], "answer": 2},
    {"question": "9 / 3 =", "subject": "elementary_mathematics",
     "choices": ["1", "2", "6", "3"], "answer": 3},
    {"question": "5 + 0 =", "subject": "elementary_mathematics",
     "choices": ["0", "5", "6", "50"], "answer": 1},
    {"question": "Bones form the", "subject": "anatomy",
     "choices": ["skeleton", "blood", "hair", "skin"], "answer": 0},
    {"question": "We see with", "subject": "anatomy",
     "choices": ["ears", "eyes", "nose", "feet"], "answer": 1},
    {"question": "We breathe with", "subject": "anatomy",
     "choices": ["lungs", "heart", "teeth", "nails"], "answer": 0},
    {"question": "We hear with", "subject": "anatomy",
     "choices": ["eyes", "hands", "ears", "toes"], "answer": 2},
    {"question": "The heart is a", "subject": "anatomy",
     "choices": ["bone", "nerve", "gland", "muscle"], "answer": 3},
]

DATA = {
    "arc_easy": {"test": ARC_EASY},
    "arc_challenge": {"test": ARC_CHALLENGE},
    "hellaswag": {"validation": HELLASWAG},
    "piqa": {"validation": PIQA},
    "boolq": {"validation": BOOLQ},
    "winogrande": {"validation": WINOGRANDE},
    "openbookqa": {"test": OPENBOOKQA},
    "mmlu": {"test": MMLU_TEST, "dev": MMLU_DEV},
}

MMLU_SUBJECTS = ["elementary_mathematics", "anatomy"]  # both in dataset order of first appearance


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_data():
    for task, splits in DATA.items():
        for split, rows in splits.items():
            write_jsonl(DATA_DIR / task / f"{split}.jsonl", rows)


# --------------------------------------------------------------------------------------
# 2. Task configs that include the official YAMLs and swap in the local files
# --------------------------------------------------------------------------------------


def yaml_str(s):
    return json.dumps(str(s))  # a JSON string is a valid YAML double-quoted scalar


def write_task_yamls(tmp: Path, official: Path):
    """One YAML per task: `include` the official config, override the dataset only."""
    def data_files(task, splits):
        return "{" + ", ".join(f"{s}: {yaml_str(DATA_DIR / task / (s + '.jsonl'))}"
                               for s in splits) + "}"

    simple = {
        # task: (official yaml, split key -> local split)
        "arc_easy": ("arc/arc_easy.yaml", {"test_split": "test"}),
        "arc_challenge": ("arc/arc_challenge.yaml", {"test_split": "test"}),
        "hellaswag": ("hellaswag/hellaswag.yaml", {"validation_split": "validation"}),
        "piqa": ("piqa/piqa.yaml", {"validation_split": "validation"}),
        "boolq": ("super_glue/boolq/default.yaml", {"validation_split": "validation"}),
        "winogrande": ("winogrande/default.yaml", {"validation_split": "validation"}),
        "openbookqa": ("openbookqa/openbookqa.yaml", {"test_split": "test"}),
    }
    for task, (rel, splits) in simple.items():
        lines = [f"include: {yaml_str(official / rel)}",
                 f"task: {task}",
                 "dataset_path: json",
                 "dataset_name: null",
                 f"dataset_kwargs: {{data_files: {data_files(task, splits.values())}}}"]
        # only the split the task evaluates on exists locally; no train/validation fallbacks
        for key in ("training_split", "validation_split", "test_split"):
            lines.append(f"{key}: {splits[key] if key in splits else 'null'}")
        (tmp / f"{task}.yaml").write_text("\n".join(lines) + "\n")

    # MMLU: one task per subject, official per-subject YAML (description, template,
    # fewshot_split dev, sampler first_n); the local files are filtered by subject,
    # keeping dataset order, as the Hub's per-subject configs are.
    sub_dir = tmp / "mmlu_data"
    sub_dir.mkdir()
    for subject in MMLU_SUBJECTS:
        for split, rows in (("test", MMLU_TEST), ("dev", MMLU_DEV)):
            write_jsonl(sub_dir / subject / f"{split}.jsonl",
                        [r for r in rows if r["subject"] == subject])
        lines = [f"include: {yaml_str(official / 'mmlu/default' / f'mmlu_{subject}.yaml')}",
                 f"task: mmlu_{subject}",
                 "dataset_path: json",
                 "dataset_name: null",
                 "dataset_kwargs: {data_files: {"
                 f"test: {yaml_str(sub_dir / subject / 'test.jsonl')}, "
                 f"dev: {yaml_str(sub_dir / subject / 'dev.jsonl')}}}}}"]
        (tmp / f"mmlu_{subject}.yaml").write_text("\n".join(lines) + "\n")
    # group with the official aggregation (micro average: weight_by_size)
    group = ["group: mmlu", "task:"] + [f"  - mmlu_{s}" for s in MMLU_SUBJECTS] + [
        "aggregate_metric_list:", "  - metric: acc", "    weight_by_size: True",
        "metadata:", "  version: 2"]
    (tmp / "_mmlu.yaml").write_text("\n".join(group) + "\n")


# --------------------------------------------------------------------------------------
# 3. Run lm-eval and write the goldens
# --------------------------------------------------------------------------------------


def clean(x):
    """JSON-safe numbers (NaN -> null) and plain Python types."""
    if isinstance(x, float):
        return None if math.isnan(x) or math.isinf(x) else x
    if isinstance(x, dict):
        return {str(k): clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [clean(v) for v in x]
    if hasattr(x, "item"):
        return clean(x.item())
    return x


def request_args(sample):
    """(context, continuation) pairs from a logged sample, in request order."""
    args = sample["arguments"]
    if isinstance(args, dict):  # newer lm-eval: {"gen_args_0": {"arg_0": ctx, "arg_1": cont}}
        return [(a["arg_0"], a["arg_1"]) for a in args.values()]
    return [(a[0], a[1]) for a in args]


def doc_metrics(sample):
    skip = {"doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter",
            "metrics", "doc_hash", "prompt_hash", "target_hash"}
    return {k: clean(v) for k, v in sample.items() if k not in skip}


def task_metrics(result):
    out = {}
    for k, v in result.items():
        if k in ("alias", "name", "sample_len", "sample_count"):
            continue
        name, _, filt = k.partition(",")
        out[name] = clean(v)
    return out


def gold_index(task_name, sample):
    """Index of the correct request. lm-eval's `target` is that index for every task but
    winogrande, whose target is the shared continuation and whose gold is the official
    doc_to_text (answer "1" -> 0, "2" -> 1)."""
    if task_name == "winogrande":
        from lm_eval.tasks.winogrande import preprocess_winogrande
        return int(preprocess_winogrande.doc_to_text(sample["doc"]))
    return int(sample["target"])


def build_golden(lm, task_name, out_name, samples, results, n_shot, mode, lm_eval_version,
                 extra_results=None):
    bos_id = lm.tokenizer.bos_token_id
    docs = []
    bos_seen = set()
    for s in sorted(samples, key=lambda s: s["doc_id"]):
        reqs = []
        for (ctx, cont), resp in zip(request_args(s), s["resps"]):
            ll, greedy = resp[0]
            ctx_enc, cont_enc = lm._encode_pair(ctx, cont)
            bos_seen.add(bool(ctx_enc) and ctx_enc[0] == bos_id)
            reqs.append({"context": ctx, "continuation": cont,
                         "loglikelihood": float(ll), "is_greedy": bool(greedy),
                         "context_tokens": [int(t) for t in ctx_enc],
                         "continuation_tokens": [int(t) for t in cont_enc]})
        docs.append({"doc_id": s["doc_id"], "doc": clean(s["doc"]), "target": clean(s["target"]),
                     "gold": gold_index(task_name, s), "requests": reqs,
                     "metrics": doc_metrics(s)})
    golden = {
        "task": out_name,
        "lm_eval_task": task_name,
        "lm_eval_version": lm_eval_version,
        "model": MODEL_REL,
        "model_args": {"dtype": "float32", "device": "cpu", "batch_size": 1,
                       "max_length": lm.max_length},
        "num_fewshot": n_shot,
        "special_tokens": mode,
        "context_starts_with_bos": sorted(bos_seen) == [True],
        "results": task_metrics(results[task_name]),
        "documents": docs,
    }
    if extra_results:
        golden["subtasks"] = extra_results
    return golden


MODES = {
    # lm-eval 0.4.13 default: add_bos_token unset -> the tokenizer's own add_special_tokens
    "default": {"dir": GOLDEN_DIR, "add_bos_token": None,
                "description": "lm-eval default (add_bos_token unset): tokenizer.encode with its own "
                               "special-token behaviour; this LLaMA tokenizer prepends BOS (id 1) to "
                               "both enc(context+continuation) and enc(context)"},
    "no_bos": {"dir": GOLDEN_DIR / "no_bos", "add_bos_token": False,
               "description": "add_bos_token=False: tokenizer.encode(..., add_special_tokens=False), "
                              "as lm-eval <= 0.4.9 encoded multiple-choice requests (no BOS)"},
}

ZERO_SHOT_TASKS = ["arc_easy", "arc_challenge", "hellaswag", "piqa", "boolq", "winogrande",
                   "openbookqa"]


def run_mode(mode_name, mode, task_manager, lm_eval_version):
    import lm_eval
    from lm_eval.models.huggingface import HFLM

    kwargs = {"pretrained": str(MODEL_DIR), "dtype": "float32", "device": "cpu", "batch_size": 1}
    if mode["add_bos_token"] is not None:
        kwargs["add_bos_token"] = mode["add_bos_token"]
    lm = HFLM(**kwargs)
    out_dir = mode["dir"]
    out_dir.mkdir(parents=True, exist_ok=True)
    mode_info = {"mode": mode_name, "add_bos_token": mode["add_bos_token"],
                 "description": mode["description"]}

    runs = [(ZERO_SHOT_TASKS + ["mmlu"], 0), (["mmlu"], 5)]
    for tasks, shots in runs:
        res = lm_eval.simple_evaluate(model=lm, tasks=tasks, num_fewshot=shots, batch_size=1,
                                      device="cpu", log_samples=True, task_manager=task_manager,
                                      bootstrap_iters=100000, random_seed=0, numpy_random_seed=1234,
                                      torch_random_seed=1234, fewshot_random_seed=1234)
        results, samples = res["results"], res["samples"]
        for t in tasks:
            if t == "mmlu":
                out_name = "mmlu" if shots == 0 else "mmlu_5shot"
                all_samples, subtasks = [], {}
                for subject in MMLU_SUBJECTS:
                    st = f"mmlu_{subject}"
                    subtasks[subject] = task_metrics(results[st])
                    for s in sorted(samples[st], key=lambda s: s["doc_id"]):
                        all_samples.append(dict(s, subject=subject))
                # renumber to the order of data/mmlu/test.jsonl (subjects are contiguous there)
                for i, s in enumerate(all_samples):
                    s["subject_doc_id"] = s["doc_id"]
                    s["doc_id"] = i
                fake_results = {"mmlu": results["mmlu"]}
                g = build_golden(lm, "mmlu", out_name, all_samples, fake_results, shots,
                                 mode_info, lm_eval_version, extra_results=subtasks)
                # keep the subject keys out of the metrics block
                for d, s in zip(g["documents"], all_samples):
                    d["metrics"].pop("subject", None)
                    d["metrics"].pop("subject_doc_id", None)
                    d["subject"] = s["subject"]
                    d["subject_doc_id"] = s["subject_doc_id"]
            else:
                out_name = t
                g = build_golden(lm, t, t, samples[t], results, shots, mode_info, lm_eval_version)
            (out_dir / f"{out_name}.json").write_text(
                json.dumps(g, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            print(f"[{mode_name}] {out_name}: {g['results']}", flush=True)


def main():
    tmp = Path(tempfile.mkdtemp(prefix="lm_eval_goldens_"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ["HF_DATASETS_CACHE"] = str(tmp / "hf_datasets_cache")
    logging.basicConfig(level=logging.WARNING)

    import lm_eval
    from lm_eval.tasks import TaskManager

    official = Path(lm_eval.__file__).resolve().parent / "tasks"
    write_data()
    task_dir = tmp / "tasks"
    task_dir.mkdir()
    write_task_yamls(task_dir, official)
    tm = TaskManager(include_path=str(task_dir), include_defaults=False)
    for mode_name, mode in MODES.items():
        run_mode(mode_name, mode, tm, lm_eval.__version__)
    print("lm_eval", lm_eval.__version__, "python", sys.version.split()[0])


if __name__ == "__main__":
    main()
