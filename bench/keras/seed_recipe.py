"""The seed notebook's Keras model and recipe, timed on examples prepared by bench/train.ts.

Reads the exact training and validation examples the tfjs run uses (raw
little-endian arrays in --data, with meta.json), builds the seed's
DeepCollaborativeFiltering network (Embedding(users, 50) and
Embedding(products, 50), Flatten, Concatenate, Dropout, Dense relu, Dropout,
Dense 1), compiles it with Adam and MSLE, and fits it with the same batch
size and epochs, validating on the same held-out examples each epoch. Prints
one JSON line: examples/s over model.fit (3 epochs of training examples
divided by the fit's wall time), the per-epoch losses and the versions.

Run by `npm run bench:train` in the venv built from requirements.txt.
"""

import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True, help="directory written by bench/train.ts")
parser.add_argument("--threads", type=int, required=True, help="intra- and inter-op threads (tfjs-node's TensorFlow uses one per core)")
args = parser.parse_args()

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(args.threads)
tf.config.threading.set_inter_op_parallelism_threads(args.threads)

with open(os.path.join(args.data, "meta.json")) as f:
    meta = json.load(f)


def load(name, dtype):
    return np.fromfile(os.path.join(args.data, name), dtype=dtype)


x_train = [load("train_users.i32", "<i4"), load("train_products.i32", "<i4")]
y_train = load("train_labels.f32", "<f4")
x_val = [load("val_users.i32", "<i4"), load("val_products.i32", "<i4")]
y_val = load("val_labels.f32", "<f4")

keras.utils.set_random_seed(meta["seed"])
users = keras.Input(shape=(1,), dtype="int32", name="users")
products = keras.Input(shape=(1,), dtype="int32", name="products")
user_vector = keras.layers.Flatten()(keras.layers.Embedding(meta["userRows"], meta["embeddingDim"], name="user_embedding")(users))
product_vector = keras.layers.Flatten()(keras.layers.Embedding(meta["productRows"], meta["embeddingDim"], name="product_embedding")(products))
x = keras.layers.Concatenate()([user_vector, product_vector])
x = keras.layers.Dropout(meta["dropout"])(x)
x = keras.layers.Dense(meta["hiddenUnits"], activation="relu", name="dense_1")(x)
x = keras.layers.Dropout(meta["dropout"])(x)
predictions = keras.layers.Dense(1, name="dense_2")(x)
model = keras.Model(inputs=[users, products], outputs=predictions)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=meta["learningRate"]), loss="mean_squared_logarithmic_error")

started = time.perf_counter()
history = model.fit(
    x_train,
    y_train,
    batch_size=meta["batchSize"],
    epochs=meta["epochs"],
    validation_data=(x_val, y_val),
    shuffle=True,
    verbose=0,
)
seconds = time.perf_counter() - started
examples = len(y_train) * meta["epochs"]
json.dump(
    {
        "examplesPerSecond": examples / seconds,
        "seconds": seconds,
        "trainExamples": int(len(y_train)),
        "validationExamples": int(len(y_val)),
        "loss": [float(v) for v in history.history["loss"]],
        "valLoss": [float(v) for v in history.history["val_loss"]],
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "threads": args.threads,
    },
    sys.stdout,
)
sys.stdout.write("\n")
