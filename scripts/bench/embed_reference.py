"""Reference for `make bench-embed`: Python sentence-transformers (CPU) on the same texts.

usage: embed_reference.py MODEL_DIR TEXTS_FILE BATCHES(comma-separated)
Prints one JSON object: throughput per batch size, model and peak RSS, and the vectors
of the first texts (so the bench can check both engines agree).
"""
import json
import os
import resource
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never a hub: the model is a local directory

import sentence_transformers  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main():
    model_dir, texts_file, batches = sys.argv[1], sys.argv[2], [int(b) for b in sys.argv[3].split(",")]
    with open(texts_file, encoding="utf-8") as f:
        texts = f.read().split("\n")[:-1]
    before = rss_mb()
    model = SentenceTransformer(model_dir, device="cpu")
    model.encode(["warm-up"], normalize_embeddings=True)
    model_rss = rss_mb() - before
    runs = []
    for batch in batches:
        started = time.perf_counter()
        for i in range(0, len(texts), batch):
            model.encode(texts[i : i + batch], batch_size=batch, normalize_embeddings=True)
        elapsed = time.perf_counter() - started
        runs.append({"batch": batch, "texts_per_s": len(texts) / elapsed})
    sample = model.encode(texts[:8], normalize_embeddings=True).tolist()
    print(
        json.dumps(
            {
                "engine": f"sentence-transformers {sentence_transformers.__version__} / torch {torch.__version__}",
                "threads": torch.get_num_threads(),
                "model_rss_mb": model_rss,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "runs": runs,
                "sample": sample,
            }
        )
    )


if __name__ == "__main__":
    main()
