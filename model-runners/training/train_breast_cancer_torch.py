#!/usr/bin/python3
"""Trains the TorchScript demo model bc-torch v1 on the breast-cancer data set.

Run from anywhere:  /usr/bin/python3 model-runners/training/train_breast_cancer_torch.py
Needs the Debian packages python3-torch and python3-sklearn (and python3-onnx, because the
train/test split is imported from train_breast_cancer.py so that every demo model is held out
on exactly the same 114 rows).

The model has the same wire signature as the ONNX demo models, so a schedule can name it beside them:
  input  features     FP32 [batch, 30]  raw, unscaled measurements (standardization is inside the module)
  output probability  FP32 [batch, 1]   P(tumour is malignant)
TorchScript carries no tensor names; the runner configuration names them (engine: djl).

Outputs, in model-runners/models/breast-cancer/:
  bc-torch-1.pt             the traced module (torch.jit.trace), loaded through DJL's PyTorch engine
  bc-torch-reference.json   its predictions for the rows of reference.json, and its test metrics

Training is deterministic (fixed seed, one thread, full-batch optimisation), so the predictions are
reproducible; the .pt zip itself may differ in metadata bytes between torch versions.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sklearn.metrics import accuracy_score, roc_auc_score  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_breast_cancer import OUT_DIR, SEED, f32_list, load_data  # noqa: E402

HIDDEN = 16
EPOCHS = 400
LEARNING_RATE = 0.01
WEIGHT_DECAY = 1e-4


class BreastCancerMlp(torch.nn.Module):
    """Standardize with the training set's statistics, one hidden layer, sigmoid: P(malignant) as [N, 1]."""

    def __init__(self, mean, scale):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scale, dtype=torch.float32))
        self.hidden = torch.nn.Linear(mean.shape[0], HIDDEN)
        self.out = torch.nn.Linear(HIDDEN, 1)

    def forward(self, features):
        z = (features - self.mean) / self.scale
        return torch.sigmoid(self.out(torch.relu(self.hidden(z))))


def main():
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    _, x_train, x_test, y_train, y_test = load_data()
    mean = x_train.mean(axis=0).astype(np.float32)
    scale = x_train.std(axis=0).astype(np.float32)
    scale[scale == 0] = 1

    model = BreastCancerMlp(mean, scale)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
    loss_fn = torch.nn.BCELoss()
    xt = torch.from_numpy(x_train)
    yt = torch.from_numpy(y_train.astype(np.float32)).reshape(-1, 1)
    for _ in range(EPOCHS):
        optimizer.zero_grad()
        loss = loss_fn(model(xt), yt)
        loss.backward()
        optimizer.step()

    model.eval()
    traced = torch.jit.trace(model, torch.zeros(1, x_train.shape[1], dtype=torch.float32))
    pt_file = OUT_DIR / "bc-torch-1.pt"
    traced.save(str(pt_file))

    # Predictions of the saved file itself, as a runner will load it.
    reloaded = torch.jit.load(str(pt_file))
    with torch.no_grad():
        p = reloaded(torch.from_numpy(x_test)).numpy().astype(np.float32)
    assert p.shape == (x_test.shape[0], 1), p.shape
    accuracy = float(accuracy_score(y_test, (p[:, 0] >= 0.5).astype(np.int64)))
    auc = float(roc_auc_score(y_test, p[:, 0]))

    lines = ["{"]
    lines.append('  "model_id": "bc-torch",')
    lines.append('  "model_version": "1",')
    lines.append('  "rows": "the rows of reference.json, in order",')
    lines.append(f'  "torch_version": {json.dumps(torch.__version__)},')
    lines.append(f'  "test_accuracy": {accuracy:.4f},')
    lines.append(f'  "test_roc_auc": {auc:.4f},')
    lines.append(f'  "predictions": {f32_list(p[:, 0])}')
    lines.append("}")
    (OUT_DIR / "bc-torch-reference.json").write_text("\n".join(lines) + "\n")
    print(f"bc-torch-1.pt: {pt_file.stat().st_size} bytes, test accuracy {accuracy:.4f}, ROC AUC {auc:.4f}")


if __name__ == "__main__":
    main()
