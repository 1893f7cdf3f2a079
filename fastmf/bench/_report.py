"""What ``fastmf bench`` prints and writes: a text table, Markdown, JSON."""

import json
from os import PathLike
from typing import Any

_METRICS = {"rating": ("rmse",), "ranking": ("p@10", "ndcg@10")}
_HEAD = ("model", "library", "fit s", "s / iter", "RMSE", "P@10", "nDCG@10", "peak MB",
         "time / fastmf")


def _cells(row):
    if row["status"] != "ok":
        note = {"missing": "not installed", "timeout": "timed out"}.get(row["status"], "error")
        detail = row.get("error", "")
        if row["status"] == "missing":
            detail = ""
        return [row["model"], row["library"], f"{note}: {detail}" if detail else note]
    m = row["metrics"]
    return [row["model"], row["library"], f"{row['seconds']:.3f}", f"{row['s_per_iter']:.4f}",
            _num(m.get("rmse")), _num(m.get("p@10")), _num(m.get("ndcg@10")),
            "" if row.get("peak_mb") is None else f"{row['peak_mb']:.0f}",
            "" if row.get("ratio") is None else f"{row['ratio']:.2f}x"]


def _num(v):
    return "" if v is None else f"{v:.4f}"


def _header(meta):
    d = meta["data"]
    return (f"{d['name']}: {d['users']:,} users x {d['items']:,} items, {d['ratings']:,} "
            f"ratings ({d['train']:,} train / {d['test']:,} test); {meta['threads']} threads "
            f"for every library, median of {meta['repeats']} fits, k = {meta['factors']}")


def format_table(results: dict[str, Any]) -> str:
    """The results as an aligned text table (what ``fastmf bench`` prints).

    Columns: fit seconds (median), seconds per iteration, RMSE (rating models) or P@10 and
    nDCG@10 (ranking models), peak resident memory of the worker process in MB, and the fit
    time relative to fastmf's on the same model (2.00x: twice fastmf's time).

    Examples
    --------
    >>> from fastmf.bench import format_table
    >>> res = {"meta": {"data": {"name": "toy", "users": 2, "items": 2, "ratings": 3,
    ...                          "train": 2, "test": 1}, "threads": 2, "repeats": 3,
    ...                 "factors": 8},
    ...        "rows": [{"model": "als", "library": "fastmf", "status": "ok", "seconds": 0.5,
    ...                  "s_per_iter": 0.05, "metrics": {"rmse": 0.9}, "peak_mb": 100.0,
    ...                  "ratio": 1.0},
    ...                 {"model": "als", "library": "cmfrec", "status": "missing"}]}
    >>> print(format_table(res))  # doctest: +NORMALIZE_WHITESPACE
    toy: 2 users x 2 items, 3 ratings (2 train / 1 test); 2 threads for every library,
    median of 3 fits, k = 8
    model  library  fit s          s / iter  RMSE    P@10  nDCG@10  peak MB  time / fastmf
    als    fastmf   0.500          0.0500    0.9000                 100      1.00x
    als    cmfrec   not installed
    """
    table = [list(_HEAD)] + [_cells(r) for r in results["rows"]]
    widths = [max(len(r[c]) for r in table if len(r) == len(_HEAD) or c < 2)
              for c in range(len(_HEAD))]
    lines = [_header(results["meta"])]
    for r in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())
    return "\n".join(lines)


def to_markdown(results: dict[str, Any]) -> str:
    """The results as a Markdown section: the settings, then one table.

    Examples
    --------
    >>> from fastmf.bench import to_markdown
    >>> res = {"meta": {"data": {"name": "toy", "users": 2, "items": 2, "ratings": 3,
    ...                          "train": 2, "test": 1}, "threads": 1, "repeats": 1,
    ...                 "factors": 4, "command": "fastmf bench --data toy"},
    ...        "rows": [{"model": "als", "library": "spark", "status": "error",
    ...                  "error": "failed (exit 1)"}]}
    >>> print(to_markdown(res).splitlines()[-1])
    | als | spark | error: failed (exit 1) | | | | | | |
    """
    meta = results["meta"]
    lines = ["## fastmf bench", ""]
    if meta.get("command"):
        lines += [f"Command: `{meta['command']}`", ""]
    extra = ", ".join(f"{k} {meta[k]}" for k in ("date", "machine", "python", "fastmf")
                      if meta.get(k))
    lines += [_header(meta) + (f"; {extra}" if extra else "") + ".", ""]
    lines += ["| " + " | ".join(_HEAD) + " |", "|" + "---|" * len(_HEAD)]
    for row in results["rows"]:
        cells = _cells(row)
        cells += [""] * (len(_HEAD) - len(cells))
        lines.append(("| " + " | ".join(cells) + " |").replace("|  |", "| |"))
    return "\n".join(lines) + "\n"


def write_json(results: dict[str, Any], path: str | PathLike) -> None:
    """Write the results as JSON (read back with :func:`read_json`).

    Examples
    --------
    >>> import tempfile
    >>> from fastmf.bench import read_json, write_json
    >>> path = tempfile.mkdtemp() + "/r.json"
    >>> write_json({"meta": {"threads": 2}, "rows": []}, path)
    >>> read_json(path)["meta"]
    {'threads': 2}
    """
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")


def read_json(path: str | PathLike) -> dict[str, Any]:
    """Read results written by :func:`write_json` (or ``fastmf bench -o``); see its example."""
    with open(path) as f:
        results = json.load(f)
    if not isinstance(results, dict) or "rows" not in results or "meta" not in results:
        raise ValueError(f"{path} is not a fastmf bench result (no 'meta' and 'rows')")
    return results
