#!/usr/bin/python3
"""Trains the four breast-cancer demo models and exports them as ONNX.

Run from anywhere:  /usr/bin/python3 model-runners/training/train_breast_cancer.py
Needs the Debian packages python3-sklearn and python3-onnx (no skl2onnx, no
onnxruntime): every graph is assembled by hand with onnx.helper from the fitted
scikit-learn parameters.

Every model has the same wire signature so the serving side can swap them freely:
  input  "features"    FP32 [batch, 30]  raw, unscaled measurements
  output "probability" FP32 [batch, 1]   P(tumour is malignant)

Outputs, all in model-runners/models/breast-cancer/:
  bc-gbt-3.onnx, bc-mlp-2.onnx, bc-logreg-1.onnx, bc-canary-1.onnx,
  reference.json, metrics.json, example-request.json

The script is deterministic: running it twice writes byte-identical files.
"""

import os

# Multi-threaded BLAS may change the order of floating-point sums between runs or
# machines, which would make the MLP weights (and so the ONNX bytes) drift.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import sklearn  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

SEED = 42
TEST_SIZE = 0.2
N_FEATURES = 30
CANARY_FEATURES = 10  # the ten "mean ..." columns come first in the data set
OPSET = 13
ML_OPSET = 3
# onnx 1.12 defaults to IR version 8; pinning it keeps the bytes stable if the
# library is upgraded, and every ONNX Runtime since 1.10 reads it.
IR_VERSION = 8

OUT_DIR = Path(__file__).resolve().parent.parent / "models" / "breast-cancer"

F32 = np.float32


# --------------------------------------------------------------------------- data


def load_data():
    data = load_breast_cancer()
    # Clients send FP32, so train on exactly the values a client can send.
    x = data.data.astype(F32)
    # sklearn encodes malignant as 0. Relabel so that class 1 is malignant: then
    # every model's positive-class output is already P(malignant) and no graph
    # needs a "1 - p" or a negated logit.
    y = (data.target == 0).astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=TEST_SIZE, random_state=SEED, stratify=y)
    return list(data.feature_names), x_train, x_test, y_train, y_test


def standardize(x, mean, scale):
    """The in-graph Sub/Div in float32: elementwise IEEE ops, so bit-identical to ONNX Runtime."""
    return (x - mean) / scale


def sigmoid(t):
    t = t.astype(F32)
    return (F32(1) / (F32(1) + np.exp(-t))).astype(F32)


# -------------------------------------------------------------------- ONNX helpers


def features_input():
    return helper.make_tensor_value_info("features", TensorProto.FLOAT, ["batch", N_FEATURES])


def probability_output():
    return helper.make_tensor_value_info("probability", TensorProto.FLOAT, ["batch", 1])


def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def scaler_nodes(mean, scale, source="features"):
    nodes = [
        helper.make_node("Sub", [source, "scaler_mean"], ["centred"]),
        helper.make_node("Div", ["centred", "scaler_scale"], ["standardized"]),
    ]
    inits = [init("scaler_mean", mean.astype(F32)), init("scaler_scale", scale.astype(F32))]
    return nodes, inits


def make_model(name, version, description, nodes, initializers, extra_opsets=()):
    graph = helper.make_graph(
        nodes, name, [features_input()], [probability_output()], initializer=initializers)
    opsets = [helper.make_opsetid("", OPSET)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="rendezvous-training",
        producer_version="1",
        model_version=version,
        doc_string=description,
    )
    model.ir_version = IR_VERSION
    helper.set_model_props(model, {
        "model_name": name,
        "model_version": str(version),
        "output": "probability that the tumour is malignant",
        "trained_with": f"scikit-learn {sklearn.__version__}",
    })
    onnx.checker.check_model(model, full_check=True)
    return model


# ------------------------------------------------------------------------- models


def linear_graph(name, version, description, clf, mean, scale, n_inputs):
    """MatMul/Add/Sigmoid over standardized features; optionally only the first n_inputs columns."""
    nodes, inits = [], []
    source = "features"
    if n_inputs < N_FEATURES:
        # Keep the 30-column wire signature and pick the columns inside the graph.
        nodes.append(helper.make_node(
            "Slice", ["features", "slice_starts", "slice_ends", "slice_axes"], ["selected"]))
        inits += [
            init("slice_starts", np.array([0], dtype=np.int64)),
            init("slice_ends", np.array([n_inputs], dtype=np.int64)),
            init("slice_axes", np.array([1], dtype=np.int64)),
        ]
        source = "selected"
    scale_nodes, scale_inits = scaler_nodes(mean[:n_inputs], scale[:n_inputs], source)
    weights = clf.coef_.T.astype(F32)  # [n_inputs, 1]
    bias = clf.intercept_.astype(F32)  # [1]
    nodes += scale_nodes + [
        helper.make_node("MatMul", ["standardized", "weights"], ["product"]),
        helper.make_node("Add", ["product", "bias"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    inits += scale_inits + [init("weights", weights), init("bias", bias)]
    model = make_model(name, version, description, nodes, inits)

    def predict(x):
        z = standardize(x[:, :n_inputs], mean[:n_inputs], scale[:n_inputs])
        return sigmoid(z @ weights + bias)

    return model, predict


def mlp_graph(name, version, description, clf, mean, scale):
    assert clf.activation == "relu" and clf.out_activation_ == "logistic"
    assert len(clf.coefs_) == 2, "the graph below has exactly one hidden layer"
    w1, w2 = (w.astype(F32) for w in clf.coefs_)
    b1, b2 = (b.astype(F32) for b in clf.intercepts_)
    nodes, inits = scaler_nodes(mean, scale)
    nodes += [
        helper.make_node("MatMul", ["standardized", "w1"], ["hidden_product"]),
        helper.make_node("Add", ["hidden_product", "b1"], ["hidden_linear"]),
        helper.make_node("Relu", ["hidden_linear"], ["hidden"]),
        helper.make_node("MatMul", ["hidden", "w2"], ["output_product"]),
        helper.make_node("Add", ["output_product", "b2"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    inits += [init("w1", w1), init("b1", b1), init("w2", w2), init("b2", b2)]
    model = make_model(name, version, description, nodes, inits)

    def predict(x):
        z = standardize(x, mean, scale)
        hidden = np.maximum(z @ w1 + b1, F32(0))
        return sigmoid(hidden @ w2 + b2)

    return model, predict


def gbt_init_raw_score(clf):
    """The log-odds the boosting starts from (sklearn's 'prior' init)."""
    prior = clf.init_.class_prior_[1]
    return float(np.log(prior / (1.0 - prior)))


def gbt_graph(name, version, description, clf, mean, scale):
    lr = clf.learning_rate
    base = gbt_init_raw_score(clf)

    tree_ids, node_ids, feature_ids, values, modes, true_ids, false_ids = [], [], [], [], [], [], []
    target_tree_ids, target_node_ids, target_weights = [], [], []
    for tree_id, estimator in enumerate(clf.estimators_[:, 0]):
        tree = estimator.tree_
        for node in range(tree.node_count):
            left, right = int(tree.children_left[node]), int(tree.children_right[node])
            tree_ids.append(tree_id)
            node_ids.append(node)
            if left == -1:
                feature_ids.append(0)
                values.append(0.0)
                modes.append("LEAF")
                true_ids.append(0)
                false_ids.append(0)
                target_tree_ids.append(tree_id)
                target_node_ids.append(node)
                # Fold the learning rate into the leaf so the ensemble is a plain sum.
                target_weights.append(float(F32(lr * tree.value[node, 0, 0])))
            else:
                feature_ids.append(int(tree.feature[node]))
                # sklearn sends x <= threshold to the left child.
                values.append(float(F32(tree.threshold[node])))
                modes.append("BRANCH_LEQ")
                true_ids.append(left)
                false_ids.append(right)

    nodes, inits = scaler_nodes(mean, scale)
    nodes += [
        helper.make_node(
            "TreeEnsembleRegressor", ["standardized"], ["logit"], domain="ai.onnx.ml",
            n_targets=1,
            aggregate_function="SUM",
            post_transform="NONE",
            base_values=[float(F32(base))],
            nodes_treeids=tree_ids,
            nodes_nodeids=node_ids,
            nodes_featureids=feature_ids,
            nodes_values=values,
            nodes_modes=modes,
            nodes_truenodeids=true_ids,
            nodes_falsenodeids=false_ids,
            target_ids=[0] * len(target_tree_ids),
            target_treeids=target_tree_ids,
            target_nodeids=target_node_ids,
            target_weights=target_weights,
        ),
        helper.make_node("Sigmoid", ["logit"], ["probability"]),
    ]
    model = make_model(name, version, description, nodes, inits,
                       extra_opsets=[("ai.onnx.ml", ML_OPSET)])

    # Mirror the graph: float32 inputs against float32 thresholds, float32 sums.
    thresholds = np.array(values, dtype=F32)
    weights = np.array(target_weights, dtype=F32)
    leaf_weight = {(t, n): w for t, n, w in zip(target_tree_ids, target_node_ids, weights)}
    offsets = np.cumsum([0] + [e.tree_.node_count for e in clf.estimators_[:, 0]])

    def predict(x):
        z = standardize(x, mean, scale)
        out = np.empty((len(z), 1), dtype=F32)
        for row, zr in enumerate(z):
            score = F32(0)
            for tree_id, estimator in enumerate(clf.estimators_[:, 0]):
                tree = estimator.tree_
                node = 0
                while tree.children_left[node] != -1:
                    threshold = thresholds[offsets[tree_id] + node]
                    go_left = zr[tree.feature[node]] <= threshold
                    node = tree.children_left[node] if go_left else tree.children_right[node]
                score = F32(score + leaf_weight[(tree_id, node)])
            out[row, 0] = F32(score + F32(base))
        return sigmoid(out)

    return model, predict


# ------------------------------------------------------------------------ outputs


def f32_text(value):
    """Shortest decimal that reads back (via a double, as Jackson does) as the same float32."""
    value = F32(value)
    text = str(value)
    assert F32(float(text)) == value, (value, text)
    return text


def f32_list(values):
    return "[" + ", ".join(f32_text(v) for v in values) + "]"


def write_reference(path, feature_names, x_test, y_test, predictions):
    # Hand-formatted so that each row sits on one line and the file diffs well.
    lines = ["{"]
    lines.append('  "positive_class": "malignant",')
    lines.append('  "label_encoding": "1 = malignant, 0 = benign",')
    lines.append('  "feature_names": ' + json.dumps(feature_names) + ",")
    lines.append('  "rows": [')
    lines.append(",\n".join("    " + f32_list(row) for row in x_test))
    lines.append("  ],")
    lines.append('  "labels": ' + json.dumps([int(v) for v in y_test]) + ",")
    lines.append('  "predictions": {')
    lines.append(",\n".join(
        f"    {json.dumps(name)}: {f32_list(p[:, 0])}" for name, p in predictions.items()))
    lines.append("  }")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def write_example_request(path, row):
    """An Open Inference Protocol request for one held-out row, kept readable by hand."""
    path.write_text(
        "{\n"
        '  "id": "example-1",\n'
        '  "inputs": [\n'
        "    {\n"
        '      "name": "features",\n'
        '      "datatype": "FP32",\n'
        f'      "shape": [1, {N_FEATURES}],\n'
        f'      "data": {f32_list(row)}\n'
        "    }\n"
        "  ]\n"
        "}\n")


def write_json(path, obj):
    path.write_text(json.dumps(obj, indent=2) + "\n")


def main():
    # A model that stopped short of convergence should fail the run, not ship.
    warnings.simplefilter("error", ConvergenceWarning)
    feature_names, x_train, x_test, y_train, y_test = load_data()

    scaler = StandardScaler().fit(x_train.astype(np.float64))
    mean, scale = scaler.mean_.astype(F32), scaler.scale_.astype(F32)
    # Fit every model on the standardized values the graph itself will compute.
    z_train = standardize(x_train, mean, scale)
    z_test = standardize(x_test, mean, scale)

    logreg = LogisticRegression(C=1.0, max_iter=10_000).fit(z_train, y_train)
    canary = LogisticRegression(C=0.1, max_iter=10_000).fit(z_train[:, :CANARY_FEATURES], y_train)
    mlp = MLPClassifier(hidden_layer_sizes=(16,), activation="relu", solver="adam", alpha=1e-4,
                        max_iter=2_000, random_state=SEED).fit(z_train, y_train)
    gbt = GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1,
                                     random_state=SEED).fit(z_train, y_train)

    # name -> (version, file model, graph-mirroring predict, sklearn model, sklearn input)
    exports = {
        "bc-gbt": (3, *gbt_graph(
            "bc-gbt", 3,
            "Gradient-boosted trees (100 trees, depth 3) on all 30 features; the champion.",
            gbt, mean, scale), gbt, z_test),
        "bc-mlp": (2, *mlp_graph(
            "bc-mlp", 2,
            "Multi-layer perceptron (one hidden layer of 16 ReLU units) on all 30 features.",
            mlp, mean, scale), mlp, z_test),
        "bc-logreg": (1, *linear_graph(
            "bc-logreg", 1,
            "Logistic regression on all 30 standardized features; the fast fallback.",
            logreg, mean, scale, N_FEATURES), logreg, z_test),
        "bc-canary": (1, *linear_graph(
            "bc-canary", 1,
            "Older logistic regression (C=0.1) on the first 10 features only.",
            canary, mean, scale, CANARY_FEATURES), canary, z_test[:, :CANARY_FEATURES]),
    }

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    predictions, metrics = {}, {}
    for name, (version, model, predict, clf, sk_input) in exports.items():
        onnx.save(model, str(OUT_DIR / f"{name}-{version}.onnx"))
        onnx.checker.check_model(str(OUT_DIR / f"{name}-{version}.onnx"), full_check=True)
        p = predict(x_test)
        sk = clf.predict_proba(sk_input)[:, 1]
        predictions[name] = p
        metrics[name] = {
            "version": version,
            "file": f"{name}-{version}.onnx",
            "test_rows": int(len(y_test)),
            "accuracy": round(float(accuracy_score(y_test, p[:, 0] >= 0.5)), 4),
            "roc_auc": round(float(roc_auc_score(y_test, p[:, 0])), 4),
            # How far the exported graph (float32 all the way) is from sklearn's own float64 answer.
            "max_abs_diff_vs_sklearn": float(f"{np.max(np.abs(p[:, 0] - sk)):.1e}"),
        }

    write_reference(OUT_DIR / "reference.json", feature_names, x_test, y_test, predictions)
    write_json(OUT_DIR / "metrics.json", {
        "data_set": "sklearn.datasets.load_breast_cancer (Wisconsin diagnostic)",
        "split": {"test_size": TEST_SIZE, "random_state": SEED, "stratified": True,
                  "train_rows": int(len(y_train)), "test_rows": int(len(y_test))},
        "positive_class": "malignant",
        "threshold": 0.5,
        "models": metrics,
    })
    write_example_request(OUT_DIR / "example-request.json", x_test[0])

    for name, m in metrics.items():
        print(f"{name:10s} v{m['version']}  accuracy {m['accuracy']:.4f}  roc_auc {m['roc_auc']:.4f}"
              f"  max|graph - sklearn| {m['max_abs_diff_vs_sklearn']:.1e}")


if __name__ == "__main__":
    main()
