#!/usr/bin/python3
"""Writes the conformance model: one input of every datatype ONNX Runtime's Java API can
feed, each echoed to an output, so that a test can send every datatype through a real model.

Run from anywhere:  /usr/bin/python3 model-runners/training/make_echo_model.py
Needs the Debian package python3-onnx. Deterministic: running it twice writes identical bytes.

  input  <type>      <TYPE> [batch, 2]   for bool, uint8, int8, int16, int32, int64, fp16, fp32, fp64, bytes
  output <type>_out  <TYPE> [batch, 2]   Identity of the input
  output bool_not    BOOL   [batch, 2]   Not of input bool: the model computes on booleans

Output: model-runners/models/conformance/echo-all-types.onnx
"""

from pathlib import Path

import onnx
from onnx import TensorProto, helper

TYPES = {
    "bool": TensorProto.BOOL,
    "uint8": TensorProto.UINT8,
    "int8": TensorProto.INT8,
    "int16": TensorProto.INT16,
    "int32": TensorProto.INT32,
    "int64": TensorProto.INT64,
    "fp16": TensorProto.FLOAT16,
    "fp32": TensorProto.FLOAT,
    "fp64": TensorProto.DOUBLE,
    "bytes": TensorProto.STRING,
}


def main():
    inputs, outputs, nodes = [], [], []
    for name, elem in TYPES.items():
        inputs.append(helper.make_tensor_value_info(name, elem, ["batch", 2]))
        outputs.append(helper.make_tensor_value_info(name + "_out", elem, ["batch", 2]))
        nodes.append(helper.make_node("Identity", [name], [name + "_out"], name="echo_" + name))
    outputs.append(helper.make_tensor_value_info("bool_not", TensorProto.BOOL, ["batch", 2]))
    nodes.append(helper.make_node("Not", ["bool"], ["bool_not"], name="not_bool"))
    graph = helper.make_graph(nodes, "echo_all_types", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="rendezvous", ir_version=8)
    model.model_version = 1
    onnx.checker.check_model(model)
    out = Path(__file__).resolve().parent.parent / "models" / "conformance" / "echo-all-types.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(model.SerializeToString())
    print("wrote", out)


if __name__ == "__main__":
    main()
