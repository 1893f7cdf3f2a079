"""Checkpoints: the factors as one ``.npz`` file per block under ``checkpoint_dir``.

A checkpoint is a folder ``ckpt-<iteration>`` written by the workers (each block's file by the
worker holding it) and made current by rewriting ``manifest.json`` atomically once every file
is there; older folders are then removed. The factor futures of the next iteration are
``load_block`` tasks of those files, which depend on nothing, so the scheduler forgets the
iterations before the checkpoint: the task graph and the recompute depth stay bounded. On a
cluster of several machines ``checkpoint_dir`` must be a folder every worker and the client
can read and write (a shared filesystem), as Spark's checkpoint directory must be.
"""

import json
import os
import shutil
import tempfile

import numpy as np

MANIFEST = "manifest.json"
FORMAT = 1


def check_dir(path):
    """``path`` created if needed and checked writable; a fresh temporary folder for None
    (returned second: True when the caller should remove it)."""
    if path is None:
        return tempfile.mkdtemp(prefix="fastmf-dask-"), True
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".probe-")
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise ValueError(f"checkpoint_dir {path!r} is not a writable folder: {exc}") from None
    return path, False


def folder(root, iteration):
    path = os.path.join(root, f"ckpt-{iteration:06d}")
    os.makedirs(path, exist_ok=True)
    return path


def block_path(path, side, b):
    return os.path.join(path, f"{side}-{b:04d}.npz")


def write_local(root, iteration, side, bounds, factors, bias):
    """Write a state held by the client (the initial factors) as block files."""
    path = folder(root, iteration)
    paths = []
    for b in range(len(bounds) - 1):
        rows = slice(bounds[b], bounds[b + 1])
        p = block_path(path, side, b)
        np.savez(p, factors=factors[rows], bias=bias[rows] if len(bias) else bias)
        paths.append(p)
    return paths


def commit(root, iteration, info):
    """Make the checkpoint of ``iteration`` current; remove the older ones."""
    manifest = dict(info, format=FORMAT, iteration=iteration,
                    folder=os.path.basename(folder(root, iteration)))
    tmp = os.path.join(root, f".{MANIFEST}.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f)
    os.replace(tmp, os.path.join(root, MANIFEST))
    for name in os.listdir(root):
        if name.startswith("ckpt-") and name != manifest["folder"]:
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def read(root):
    """The current manifest of ``root`` (None when there is none)."""
    path = os.path.join(os.fspath(root), MANIFEST)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        manifest = json.load(f)
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{path} is not a fastmf checkpoint manifest of format {FORMAT}")
    return manifest


def load_side(root, manifest, side):
    """(factors, bias) of one side of the checkpoint ``manifest``, assembled on the client."""
    path = os.path.join(root, manifest["folder"])
    factors, bias = [], []
    for b in range(len(manifest["bounds"][side]) - 1):
        with np.load(block_path(path, side, b)) as f:
            factors.append(f["factors"])
            bias.append(f["bias"])
    return np.concatenate(factors), np.concatenate(bias)
