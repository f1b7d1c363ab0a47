#!/usr/bin/env python3
"""Check an ONNX graph of all-MiniLM-L6-v2 against the sentence-transformers
reference embeddings (shared/fixtures/minilm_reference.json).

    check_onnx.py MODEL_DIR MODEL.onnx FIXTURE.json [MIN_COSINE]

Tokenises like sentence-transformers (tokenizer.json, truncation to
max_seq_length = 256 tokens including [CLS]/[SEP], token_type_ids 0), runs the
graph, mean-pools over the attention mask and L2-normalises. Every text is run
alone (batch 1) and all together in one padded batch (checks the mask). Also
checks the interface the services rely on: inputs input_ids, attention_mask,
token_type_ids int64 [batch, seq]; output last_hidden_state float
[batch, seq, hidden] (the plain graph and the ORT-optimized one alike).
Exit 0 when every cosine >= MIN_COSINE (default 0.9999). Needs: onnxruntime
tokenizers numpy.
"""
import json
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(f"usage: {sys.argv[0]} MODEL_DIR MODEL.onnx FIXTURE.json [MIN_COSINE]")
    model_dir, onnx_path, fixture_path = sys.argv[1:4]
    min_cos = float(sys.argv[4]) if len(sys.argv) == 5 else 0.9999

    fixture = json.load(open(fixture_path, encoding="utf-8"))
    items = fixture["items"]
    max_len = int(fixture.get("max_seq_length", 256))

    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    # tokenizer.json ships truncation 128 + fixed padding 128: override both,
    # sentence-transformers truncates at max_seq_length (256) and pads per batch.
    tok.enable_truncation(max_length=max_len)
    tok.no_padding()
    encs = [tok.encode(it["text"], add_special_tokens=True) for it in items]

    # As the services run it: CPU, graph optimisation level ALL.
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])

    def sig(args):  # name -> (type, shape); symbolic dimensions as "*"
        return {v.name: (v.type, [d if isinstance(d, int) else "*" for d in v.shape]) for v in args}
    dim = len(items[0]["embedding"])
    want = ({n: ("tensor(int64)", ["*", "*"]) for n in ("input_ids", "attention_mask", "token_type_ids")},
            {"last_hidden_state": ("tensor(float)", ["*", "*", dim])})
    got = (sig(sess.get_inputs()), sig(sess.get_outputs()))
    if got != want:
        print(f"check_onnx: FAILED, interface {got}, expected {want}", file=sys.stderr)
        sys.exit(1)

    def embed(batch):
        seq = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), seq), dtype=np.int64)
        mask = np.zeros((len(batch), seq), dtype=np.int64)
        for row, e in enumerate(batch):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1
        hidden = sess.run(["last_hidden_state"], {
            "input_ids": ids, "attention_mask": mask,
            "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[:, :, None].astype(np.float32)
        pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    single = np.concatenate([embed([e]) for e in encs])
    batched = embed(encs)

    failures, worst = [], 1.0
    for i, (it, e) in enumerate(zip(items, encs)):
        ref = np.asarray(it["embedding"], dtype=np.float64)
        ref /= np.linalg.norm(ref)
        for label, got in (("batch 1", single[i]), ("padded batch", batched[i])):
            cos = float(np.dot(ref, got.astype(np.float64)))
            worst = min(worst, cos)
            if cos < min_cos:
                failures.append(f"item {i} ({label}): cosine {cos:.9f}")
        if "n_tokens" in it and it["n_tokens"] != len(e.ids):
            failures.append(f"item {i}: {len(e.ids)} tokens, fixture says {it['n_tokens']}")

    for f in failures:
        print(f"check_onnx: FAIL {f}", file=sys.stderr)
    status = "FAILED" if failures else "ok"
    print(f"check_onnx: {status}, {len(items)} texts, worst cosine {worst:.9f} (min {min_cos})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
