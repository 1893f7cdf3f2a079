"""Reading ``user,item,rating[,timestamp]`` text files into a Ratings, errors naming the line."""

import csv
from os import PathLike

import numpy as np

from ._ratings import Ratings


def read_ratings_csv(path: str | PathLike, sep: str = ",") -> Ratings:
    """Read ``user,item,rating[,timestamp]`` rows (raw IDs kept as strings) into a Ratings.

    A first line whose rating field is not a number is taken as a header; blank lines are
    skipped. Every other line must have the same 3 or 4 fields, with a numeric rating (and
    timestamp); the first line that does not is named in the error.

    Parameters
    ----------
    path : str or path-like
        The file.
    sep : str, default=","
        The field separator (one character).

    Returns
    -------
    Ratings
        With the raw user and item IDs as ``user_ids`` and ``item_ids`` (strings).

    Raises
    ------
    ValueError
        When the file has no rating rows, or a line has the wrong number of fields or a
        rating or timestamp that is not a finite number: ``"<path>, line <n>: ..."``.

    Examples
    --------
    >>> import os, tempfile
    >>> from fastmf._csv import read_ratings_csv
    >>> path = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> _ = open(path, "w").write("user,item,rating\\nann,x,4\\nbob,x,two\\n")
    >>> read_ratings_csv(path)
    Traceback (most recent call last):
    ...
    ValueError: ...r.csv, line 3: the rating 'two' is not a number
    """
    users, items, values, stamps = [], [], [], []
    width = None
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.reader(f, delimiter=sep)
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                line = reader.line_num
                if width is None and len(row) in (3, 4) and not _is_number(row[2]):
                    width = 0  # a header line: the next line sets the width
                    continue
                if len(row) not in (3, 4) or (width and len(row) != width):
                    raise ValueError(
                        f"{path}, line {line}: every row must have 3 or 4 fields (user,item,"
                        f"rating[,timestamp]), this one has {len(row)}; check --sep")
                width = len(row)
                users.append(row[0])
                items.append(row[1])
                values.append(_number(row[2], "rating", path, line))
                if width == 4:
                    stamps.append(_number(row[3], "timestamp", path, line))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text file ({exc.reason} at byte "
                         f"{exc.start})") from None
    except csv.Error as exc:
        raise ValueError(f"{path}, line {reader.line_num}: {exc}") from None
    if not users:
        raise ValueError(f"{path} has no rating rows")
    return Ratings.from_ids(np.array(users), np.array(items), np.array(values),
                            timestamps=np.array(stamps) if stamps else None)


def _number(text, what, path, line):
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{path}, line {line}: the {what} {text!r} is not a number") from None
    if not np.isfinite(value):
        raise ValueError(f"{path}, line {line}: the {what} {text!r} is not finite "
                         "(values must be finite)")
    return value


def _is_number(s):
    try:
        float(s)
    except ValueError:
        return False
    return True
