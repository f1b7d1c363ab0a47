#!/usr/bin/env python3
"""Fuse the fp32 graph written by build_onnx.py with ONNX Runtime's transformer
optimizer (onnxruntime.transformers.optimizer, model_type "bert") into ORT's
contrib operators: EmbedLayerNormalization, Attention, SkipLayerNormalization,
BiasGelu. fp32 only: no quantisation, no fp16.

    optimize_onnx.py MODEL_DIR IN.onnx OUT.onnx

num_heads / hidden_size come from MODEL_DIR/config.json. Only the Python
fusions run (opt_level 0): the output holds no hardware-specific nodes, and the
session still applies its own optimisations (level ALL) when it loads the graph.
The graph interface must stay that of IN (input_ids, attention_mask,
token_type_ids int64 [batch, seq]; last_hidden_state float [batch, seq, hidden]):
the script fails otherwise, and when Attention is not fused.

Attention mask: the fused Attention takes the raw 2-D mask (cast to int32
inside the graph), so any 0/1 mask gives the same result as the plain graph;
the "mask index" format of the bert defaults would assume right padding.

Prints the fused-operator statistics. Needs: onnx onnxruntime sympy (the
fusions run symbolic shape inference) numpy.
"""
import json
import logging
import os
import sys

import onnx
from onnxruntime.transformers.fusion_options import AttentionMaskFormat, FusionOptions
from onnxruntime.transformers.optimizer import optimize_model


def interface(model: onnx.ModelProto):
    def io(values):
        return [(v.name, v.type.tensor_type.elem_type,
                 [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]) for v in values]
    return io(model.graph.input), io(model.graph.output)


def main():
    if len(sys.argv) != 4:
        sys.exit(f"usage: {sys.argv[0]} MODEL_DIR IN.onnx OUT.onnx")
    model_dir, src, dst = sys.argv[1:]
    logging.basicConfig(level=logging.WARNING, format="optimize_onnx: %(levelname)s %(name)s: %(message)s")
    # The optimizer warns that the producer is not "pytorch": expected, the
    # graph is build_onnx.py's, laid out like a torch export of BertModel.
    logging.getLogger("onnxruntime.transformers.optimizer").addFilter(
        lambda r: "producer not matched" not in r.getMessage())

    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    heads, hidden = cfg["num_attention_heads"], cfg["hidden_size"]

    options = FusionOptions("bert")
    options.use_raw_attention_mask(True)   # 2-D mask: no right-padding assumption

    original = onnx.load(src)
    # optimize_model rewrites the ModelProto it is given: note what to compare first.
    before_interface, before_nodes = interface(original), len(original.graph.node)
    opt = optimize_model(original, model_type="bert", num_heads=heads, hidden_size=hidden,
                         optimization_options=options, opt_level=0, use_gpu=False)
    stats = {k: v for k, v in opt.get_fused_operator_statistics().items() if v}
    leftover = sorted({n.op_type for n in opt.model.graph.node
                       if n.domain in ("", "ai.onnx") and n.op_type in ("Softmax", "Erf", "LayerNormalization")})

    if interface(opt.model) != before_interface:
        sys.exit(f"optimize_onnx: the interface changed: {before_interface} -> {interface(opt.model)}")
    if stats.get("Attention", 0) != cfg["num_hidden_layers"]:
        sys.exit(f"optimize_onnx: Attention fused {stats.get('Attention', 0)} times, "
                 f"expected {cfg['num_hidden_layers']} ({stats})")

    opt.save_model_to_file(dst, use_external_data_format=False)
    print(f"optimize_onnx: wrote {dst} ({os.path.getsize(dst) // 1_000_000} MB, "
          f"{before_nodes} -> {len(opt.model.graph.node)} nodes)")
    print("optimize_onnx: fused " + " ".join(f"{k}={v}" for k, v in stats.items())
          + (f" (unfused standard ops left: {' '.join(leftover)})" if leftover else ""))


if __name__ == "__main__":
    main()
