"""The exported graph made lean for one unpadded text at a time, before it is quantised.

``torch.onnx``'s dynamo exporter writes each layer's attention as some 24 small nodes: reshapes
and transposes into heads, the shape arithmetic that feeds them, the mask, the softmax and a NaN
guard around it. For a query of ten tokens these nodes, not the multiplications, are most of the
work. ONNX Runtime's ``MultiHeadAttention`` does the same in one kernel from the three
projections, so :func:`fuse_attention` puts one in their place; the projections themselves stay
separate MatMuls, so quantisation can still treat the value projection apart. Measured on this
model, each text alone (`docs/benchmarks.md`): fp32 output unchanged (cosine 1.0000 alone and
in padded batches), a query's int8 encode 1.88 ms instead of 2.20, articles 53 texts/s per thread
instead of 48.

:func:`drop_nan_guards` is for models whose attention is not recognised: the exporter guards every
softmax with ``Where(IsNaN(p), 0, p)`` for rows whose keys are all masked, which no unpadded text
has; the guards took about a fifth of the int8 model's time. The export's check against torch
confirms both rewrites.
"""

from __future__ import annotations

from pathlib import Path

_QUERY, _KEY, _VALUE, _OUTPUT = (
    "attention.self.query.bias",
    "attention.self.key.bias",
    "attention.self.value.bias",
    "attention.output.dense.bias",
)
_MASK = "kb_key_padding_mask"


def fuse_attention(model_file: Path, *, num_heads: int) -> int:
    """Replace each layer's attention core with ``MultiHeadAttention``, in place; how many layers were fused.

    Layers are found by the names of their biases, as Hugging Face's BERT-style encoders name them:
    a layer's core starts at the query, key and value projections (each ``MatMul`` + bias ``Add``)
    and ends at the input of the attention output projection. A model named otherwise is left as it is.
    """
    import onnx
    from onnx import helper

    model = onnx.load(model_file)
    graph = model.graph
    initializers = {init.name for init in graph.initializer}
    producer = {output: node for node in graph.node for output in node.output}
    biased: dict[str, dict[str, str]] = {}  # layer prefix -> role -> the tensor its bias Add writes
    for node in graph.node:
        bias = next((name for name in node.input if name in initializers), "") if node.op_type == "Add" else ""
        for role in (_QUERY, _KEY, _VALUE, _OUTPUT):
            if bias.endswith(role):
                other = next(name for name in node.input if name != bias)
                tensor = producer[other].input[0] if role == _OUTPUT else node.output[0]
                biased.setdefault(bias[: -len(role)], {})[role] = tensor
    cores = {
        parts[_OUTPUT]: helper.make_node(
            "MultiHeadAttention",
            [parts[_QUERY], parts[_KEY], parts[_VALUE], "", _MASK],
            [parts[_OUTPUT]],
            name=f"{layer}kb_attention",
            domain="com.microsoft",
            num_heads=num_heads,
        )
        for layer, parts in biased.items()
        if len(parts) == 4
    }
    if not cores:
        return 0
    nodes = [helper.make_node("Cast", ["attention_mask"], [_MASK], to=onnx.TensorProto.INT32)]
    nodes += [cores.get(node.output[0], node) if len(node.output) == 1 else node for node in graph.node]
    _keep_live(graph, nodes)
    if not any(opset.domain == "com.microsoft" for opset in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.save(model, model_file)
    return len(cores)


def drop_nan_guards(model_file: Path) -> None:
    """Remove the softmax NaN guards and every output but ``last_hidden_state`` (the unused pooler), in place."""
    import onnx

    model = onnx.load(model_file)
    graph = model.graph
    producer = {output: node for node in graph.node for output in node.output}
    rename, dropped = {}, set()
    for node in graph.node:
        guard = producer.get(node.input[0]) if node.op_type == "Where" else None
        guarded = producer.get(node.input[2]) if guard is not None and guard.op_type == "IsNaN" else None
        if guard is not None and guarded is not None and guarded.op_type == "Softmax" and guard.input[0] == node.input[2]:
            rename[node.output[0]] = node.input[2]
            dropped.update({id(node), id(guard)})
    nodes = [node for node in graph.node if id(node) not in dropped]
    for node in nodes:
        for position, name in enumerate(node.input):
            node.input[position] = rename.get(name, name)
    outputs = [output for output in graph.output if output.name == "last_hidden_state"]
    del graph.output[:]
    graph.output.extend(outputs)
    _keep_live(graph, nodes)
    onnx.save(model, model_file)


def _keep_live(graph, nodes: list) -> None:  # graph: onnx.GraphProto
    """Make ``nodes`` the graph's, less those (and the initializers) its outputs do not depend on."""
    needed, live = {output.name for output in graph.output}, []
    for node in reversed(nodes):
        if any(output in needed for output in node.output):
            live.append(node)
            needed.update(name for name in node.input if name)
    del graph.node[:]
    graph.node.extend(reversed(live))
    initializers = [init for init in graph.initializer if init.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)
