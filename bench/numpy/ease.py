"""The numpy anchor of bench:ease: dense EASE (Steck 2019) as its reference
code does it, on the (customer, product) pairs bench/ease-speed.ts writes.
Prints one JSON line: seconds per repetition (Gram + inverse + weights, not
the load) and a checksum of B to compare with the project's."""
import argparse
import json
import time

import numpy as np


def ease(users, products, rows, cols, lam):
    x = np.zeros((rows, cols), dtype=np.float64)
    x[users, products] = 1.0
    g = x.T @ x
    g[np.diag_indices(cols)] += lam
    p = np.linalg.inv(g)
    b = p / (-np.diag(p))
    b[np.diag_indices(cols)] = 0.0
    return b


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--lambda", dest="lam", type=float, required=True)
    parser.add_argument("--repeat", type=int, default=1)
    a = parser.parse_args()
    with open(f"{a.data}/meta.json") as f:
        meta = json.load(f)
    users = np.fromfile(f"{a.data}/users.i32", dtype="<i4")
    products = np.fromfile(f"{a.data}/products.i32", dtype="<i4")
    seconds = []
    b = None
    for _ in range(a.repeat):
        t = time.perf_counter()
        b = ease(users, products, meta["userRows"], meta["productRows"], a.lam)
        seconds.append(time.perf_counter() - t)
    print(json.dumps({"seconds": seconds, "numpy": np.__version__, "sumAbs": float(np.abs(b).sum())}))


if __name__ == "__main__":
    main()
