"""The cost model: bytes one half-step ships between workers, from exact counts.

Updating side X (P blocks) from side Y (P blocks), with ``ref_x[b, c]`` the rows of Y's block
``c`` that X's block ``b`` references and ``ref_y[c, b]`` the rows of X's block ``b`` that Y's
block ``c`` references:

- **rows**: Y's block ``c`` ships to X's block ``b`` the ``ref_x[b, c]`` rows it references,
  ``k + 1`` numbers each with a bias on Y's side, else ``k``;
- **normal equations**: Y's block ``c`` forms for each of the ``ref_y[c, b]`` rows of X's
  block ``b`` it touches the partial normal equations of that row and ships them: the packed
  upper triangle, the right-hand side and one sum, ``d (d + 1) / 2 + d`` numbers of the
  factors' dtype plus 8 bytes, ``d = k + 1`` with a bias on X's side;
- implicit ALS adds the k x k Gram matrix of Y, tree-reduced over Y's blocks and sent to
  every worker that holds a block of X.

Only pairs of blocks on different workers count (block ``b`` of both sides shares a worker),
and an object several blocks of one worker need crosses once.
"""

STRATEGIES = ("auto", "rows", "normal_equations")


def row_bytes(ref_x, y_sizes, wx, wy, width, itemsize):
    """Bytes of the rows strategy; a block referencing all of ``c`` gets the block itself,
    once per worker."""
    total, full_sent = 0, set()
    P = len(wx)
    for b in range(P):
        for c in range(P):
            n = int(ref_x[b, c])
            if n == 0 or wx[b] == wy[c]:
                continue
            if n == y_sizes[c]:
                if (wx[b], c) in full_sent:
                    continue
                full_sent.add((wx[b], c))
            total += n * width * itemsize
    return total


def ne_bytes(ref_y, wx, wy, d, itemsize):
    """Bytes of the normal-equations strategy."""
    per_row = (d * (d + 1) // 2 + d) * itemsize + 8
    P = len(wx)
    return sum(int(ref_y[c, b]) * per_row for c in range(P) for b in range(P)
               if wx[b] != wy[c])


def tree_merges(workers):
    """The pairwise merges of a tree reduction over blocks on ``workers``: a list of
    (left, right) positions per level, each merge running on the left operand's worker."""
    alive = list(range(len(workers)))
    levels = []
    while len(alive) > 1:
        pairs = [(alive[j], alive[j + 1]) for j in range(0, len(alive) - 1, 2)]
        levels.append(pairs)
        alive = alive[::2]
    return levels


def gram_bytes(wx, wy, k, itemsize):
    """Bytes of one tree-reduced Gram matrix of Y sent to X's workers."""
    size = k * k * itemsize
    moves = sum(1 for level in tree_merges(wy) for a, b in level if wy[a] != wy[b])
    root = wy[0]
    return (moves + len({w for w in wx if w != root})) * size


def choose(strategy, costs):
    """The strategy to run: the one asked for, or under "auto" the cheaper one (rows on a
    tie: fewer numbers to compute)."""
    if strategy != "auto":
        return strategy
    if costs.get("normal_equations") is None:
        return "rows"
    return "normal_equations" if costs["normal_equations"] < costs["rows"] else "rows"
