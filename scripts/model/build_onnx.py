#!/usr/bin/env python3
"""Build the fp32 ONNX graph of all-MiniLM-L6-v2 (a BERT encoder) straight from
model.safetensors + config.json, with the `onnx` helper API (no torch needed).

    build_onnx.py MODEL_DIR OUT.onnx

Inputs  : input_ids, attention_mask, token_type_ids   int64 [batch, seq]
Output  : last_hidden_state                           float [batch, seq, hidden]
Pooling (mean over the mask) and L2 normalisation are left to the caller, as
sentence-transformers / fastembed do. Opset 17 (LayerNormalization, Erf GELU),
standard operators only.

The nodes are laid out as torch.onnx.export writes a HuggingFace BertModel, so
that ONNX Runtime's transformer optimizer (scripts/model/optimize_onnx.py) can
fuse them into EmbedLayerNormalization, Attention, SkipLayerNormalization and
BiasGelu. Keep that layout when editing (see the comments below); a graph that
computes the same thing with other nodes silently loses those fusions, and
optimize_onnx.py then fails.
Needs: onnx numpy safetensors.
"""
import json
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file


def build(model_dir: str) -> onnx.ModelProto:
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    w = load_file(os.path.join(model_dir, "model.safetensors"))
    # Some exports prefix every tensor with "bert."; accept both layouts.
    if "bert.embeddings.word_embeddings.weight" in w:
        w = {k[len("bert."):]: v for k, v in w.items() if k.startswith("bert.")}

    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    head_dim = hidden // heads
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    assert cfg.get("hidden_act", "gelu") == "gelu", "only exact (erf) GELU is supported"
    assert cfg.get("position_embedding_type", "absolute") == "absolute"

    nodes, inits = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(n, arr):
        # np.array, not np.ascontiguousarray: the latter turns a 0-d scalar into
        # shape [1] (a Gather with a [1] index then yields [1], not a scalar).
        inits.append(numpy_helper.from_array(np.array(arr, order="C"), n))
        return n

    def node(op, inputs, **attrs):
        out = name(op)
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def weight(key, transpose=False):
        arr = w[key].astype(np.float32)
        # torch Linear stores [out, in]; MatMul wants [in, out].
        return const(key, arr.T if transpose else arr)

    def linear(x, prefix):
        y = node("MatMul", [x, weight(prefix + ".weight", transpose=True)])
        return node("Add", [y, weight(prefix + ".bias")])

    def layer_norm(x, prefix):
        return node("LayerNormalization",
                    [x, weight(prefix + ".weight"), weight(prefix + ".bias")],
                    axis=-1, epsilon=eps)

    # The node layout below is the one torch.onnx.export writes for a
    # HuggingFace BertModel, because that is what the fusions of
    # onnxruntime.transformers.optimizer match (fusion_embedlayer.py,
    # fusion_attention.py, fusion_skiplayernorm.py, fusion_biasgelu.py):
    #  - embeddings: Add(Add(Gather word, Gather token_type), Gather position)
    #    -> LayerNormalization, positions = Slice(position_ids buffer [1, max],
    #    0, Unsqueeze(Gather(Shape(input_ids), 1))) as the optimizer expects;
    #  - mask: Unsqueeze(1) -> Unsqueeze(2) -> Cast -> Sub(1, m) -> Mul(min);
    #  - attention: Q/K/V MatMul -> Add bias -> Reshape [0,0,h,d] -> Transpose
    #    (K with perm [0,2,3,1]), MatMul -> Div sqrt(d) -> Add mask -> Softmax
    #    -> MatMul V -> Transpose -> Reshape -> MatMul -> Add bias -> Add
    #    residual -> LayerNormalization.

    # Shared constants.
    c_one_f = const("c_one_f", np.array(1.0, dtype=np.float32))
    # Mask bias value of HF (torch.finfo(float32).min); the fusion requires a
    # negative scalar and carries it into Attention's mask_filter_value.
    c_mask_min = const("c_mask_min", np.array(np.finfo(np.float32).min, dtype=np.float32))
    c_sqrt_head = const("c_sqrt_head_dim", np.array(math.sqrt(head_dim), dtype=np.float32))
    c_sqrt2 = const("c_sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    c_half = const("c_half", np.array(0.5, dtype=np.float32))
    c_split_heads = const("c_split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    c_merge_heads = const("c_merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    c_axis_0 = const("c_axis_0", np.array([0], dtype=np.int64))
    c_axis_1 = const("c_axis_1", np.array([1], dtype=np.int64))
    c_axis_2 = const("c_axis_2", np.array([2], dtype=np.int64))
    c_index_1 = const("c_index_1", np.array(1, dtype=np.int64))      # scalar

    # Embeddings, as HF BertEmbeddings: (word + token_type) + position, LayerNorm.
    word = node("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"], axis=0)
    typ = node("Gather", [weight("embeddings.token_type_embeddings.weight"), "token_type_ids"], axis=0)
    # position_ids = the registered buffer arange(max_pos)[None, :seq], sliced
    # with seq = Shape(input_ids)[1]; then Gather rows of the position table.
    max_pos = w["embeddings.position_embeddings.weight"].shape[0]
    c_pos_ids = const("embeddings.position_ids", np.arange(max_pos, dtype=np.int64)[None, :])
    seq_len = node("Unsqueeze", [node("Gather", [node("Shape", ["input_ids"]), c_index_1], axis=0),
                                 c_axis_0])                              # [seq]
    pos_ids = node("Slice", [c_pos_ids, c_axis_0, seq_len, c_axis_1, c_axis_1])   # [1, seq]
    pos = node("Gather", [weight("embeddings.position_embeddings.weight"), pos_ids], axis=0)
    x = node("Add", [node("Add", [word, typ]), pos])
    x = layer_norm(x, "embeddings.LayerNorm")

    # Extended attention mask, as HF: mask[:, None, None, :] -> float ->
    # (1 - m) * min, shaped [batch, 1, 1, seq] to broadcast over heads and
    # query positions: padded keys get zero attention weight.
    mask4 = node("Unsqueeze", [node("Unsqueeze", ["attention_mask", c_axis_1]), c_axis_2])
    bias = node("Mul", [node("Sub", [c_one_f, node("Cast", [mask4], to=TensorProto.FLOAT)]), c_mask_min])

    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q = node("Transpose", [node("Reshape", [linear(x, p + ".attention.self.query"), c_split_heads])],
                 perm=[0, 2, 1, 3])                       # [b, h, s, d]
        k = node("Transpose", [node("Reshape", [linear(x, p + ".attention.self.key"), c_split_heads])],
                 perm=[0, 2, 3, 1])                       # [b, h, d, s]
        v = node("Transpose", [node("Reshape", [linear(x, p + ".attention.self.value"), c_split_heads])],
                 perm=[0, 2, 1, 3])                       # [b, h, s, d]
        scores = node("Add", [node("Div", [node("MatMul", [q, k]), c_sqrt_head]), bias])
        probs = node("Softmax", [scores], axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, c_merge_heads])      # [b, s, hidden]
        attn = linear(ctx, p + ".attention.output.dense")
        x = layer_norm(node("Add", [attn, x]), p + ".attention.output.LayerNorm")

        h = linear(x, p + ".intermediate.dense")
        # Exact GELU: 0.5 * h * (1 + erf(h / sqrt(2)))
        erf = node("Erf", [node("Div", [h, c_sqrt2])])
        h = node("Mul", [node("Mul", [h, c_half]), node("Add", [erf, c_one_f])])
        out = linear(h, p + ".output.dense")
        x = layer_norm(node("Add", [out, x]), p + ".output.LayerNorm")

    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))

    ints = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "seq"])
            for n in ("input_ids", "attention_mask", "token_type_ids")]
    outs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                          ["batch", "seq", hidden])]
    graph = helper.make_graph(nodes, "all-MiniLM-L6-v2", ints, outs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="jobmatch build_onnx.py")
    model.ir_version = 8  # readable by any ONNX Runtime >= 1.10
    onnx.checker.check_model(model)
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} MODEL_DIR OUT.onnx")
    model = build(sys.argv[1])
    onnx.save_model(model, sys.argv[2])
    print(f"build_onnx: wrote {sys.argv[2]} ({os.path.getsize(sys.argv[2]) // 1_000_000} MB)")


if __name__ == "__main__":
    main()
