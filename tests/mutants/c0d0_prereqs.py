"""Plausible bugs of day 0.0, drawn from the course plan and from common student mistakes."""

from . import mutant

MUTANTS = [
    mutant("rearrange_1", "split axes in the wrong order",
           '"(col row) -> row col", col=2', '"(row col) -> row col", col=3', "test_rearrange_1"),
    mutant("rearrange_1", "float arange",
           "rearrange(torch.arange(6)", "rearrange(torch.arange(6.0)", "test_rearrange_1"),
    mutant("rearrange_2", "rows instead of columns count up",
           '"(c r) -> r c", c=3', '"(r c) -> r c", c=3', "test_rearrange_2"),
    mutant("rearrange_3", "float dtype",
           "torch.arange(1, 7)", "torch.arange(1.0, 7.0)", "test_rearrange_3"),
    mutant("rearrange_3", "missing singleton axis",
           '"n -> 1 n 1"', '"n -> 1 n"', "test_rearrange_3"),
    mutant("temperatures_average", "groups (day week) instead of (week day)",
           '"(week day) -> week", "mean", day=7', '"(day week) -> week", "mean", day=7',
           "test_temperatures_average"),
    mutant("temperatures_differences", "tiles the weekly means instead of repeating each",
           '"week -> (week day)"', '"week -> (day week)"', "test_temperatures_differences"),
    mutant("temperatures_normalized", "biased standard deviation",
           "torch.std, day=7", "lambda x, dim: x.std(dim, unbiased=False), day=7",
           "test_temperatures_normalized"),
    mutant("temperatures_normalized", "normalises by the overall std, not each week's",
           "/ stretch(weekly_std)", "/ temps.std()", "test_temperatures_normalized"),
    mutant("batched_dot_product_nd", "matrix product instead of a batched dot",
           'return einops.einsum(a, b, "... n, ... n -> ...")', "return (a @ b.mT).diagonal()",
           {"test_batched_dot_product_nd", "test_batched_dot_product_nd__views"}),
    mutant("batched_dot_product_nd", "view on non-contiguous input",
           'return einops.einsum(a, b, "... n, ... n -> ...")',
           "return torch.bmm(a.view(-1, 1, a.shape[-1]), b.view(-1, b.shape[-1], 1)).view(a.shape[:-1])",
           "test_batched_dot_product_nd__views"),
    mutant("identity_matrix", "uses torch.eye",
           "return (idx[:, None] == idx[None, :]).long()", "return torch.eye(n, dtype=torch.long)",
           "test_identity_matrix"),
    mutant("identity_matrix", "float result",
           "return (idx[:, None] == idx[None, :]).long()", "return (idx[:, None] == idx[None, :]).float()",
           "test_identity_matrix"),
    mutant("sample_distribution", "compares with the start of each interval (class k+1 gets class k's mass)",
           "(u[:, None] >= edges[None, :]).sum(dim=-1)",
           "(u[:, None] >= torch.cat([torch.zeros(1), edges[:-1]])[None, :]).sum(dim=-1)",
           {"test_sample_distribution__support", "test_sample_distribution__frequencies"}),
    mutant("sample_distribution", "returns floats",
           "(u[:, None] >= edges[None, :]).sum(dim=-1)", "(u[:, None] >= edges[None, :]).sum(dim=-1).float()",
           "test_sample_distribution__support"),
    mutant("sample_distribution", "draws from the wrong distribution (uniform over classes)",
           "u = torch.rand(n)", "u = torch.randint(0, len(probs), (n,)) / len(probs)",
           "test_sample_distribution__frequencies"),
    mutant("classifier_accuracy", "integer division",
           "return (scores.argmax(dim=1) == true_classes).float().mean()",
           "return (scores.argmax(dim=1) == true_classes).sum() // len(true_classes)",
           "test_classifier_accuracy"),
    mutant("classifier_accuracy", "argmax over the wrong axis",
           "scores.argmax(dim=1)", "scores.argmax(dim=0)[: len(true_classes)]", "test_classifier_accuracy"),
    mutant("total_price_indexing", "unique drops repeated items",
           "prices[items]", "prices[items.unique()]", "test_total_price_indexing"),
    mutant("total_price_indexing", "returns a tensor",
           "return prices[items].sum().item()", "return prices[items].sum()", "test_total_price_indexing"),
    mutant("total_price_gather", "unique drops repeated items",
           "torch.gather(prices, 0, items)", "torch.gather(prices, 0, items.unique())", "test_total_price_gather"),
    mutant("total_price_gather", "returns a tensor",
           ".sum().item()", ".sum()", "test_total_price_gather"),
    mutant("gather_2d", "gathers along rows",
           "torch.gather(matrix, 1, indexes)", "torch.gather(matrix, 0, indexes)", "test_gather_2d"),
    mutant("integer_array_indexing", "indexes with the coordinate matrix itself",
           "matrix[tuple(coords.T)]", "matrix[coords]", "test_integer_array_indexing"),
    mutant("batched_logsumexp", "no max subtraction",
           "top = matrix.max(dim=-1, keepdim=True).values", "top = torch.zeros_like(matrix[:, :1])",
           "test_batched_logsumexp__stability"),
    mutant("batched_logsumexp", "global instead of per-row max",
           "top = matrix.max(dim=-1, keepdim=True).values", "top = matrix.max().expand(len(matrix), 1)",
           "test_batched_logsumexp__stability"),
    mutant("batched_logsumexp", "sums over the wrong axis",
           "(matrix - top).exp().sum(dim=-1)", "(matrix - top).exp().sum(dim=0)[: len(matrix)]",
           {"test_batched_logsumexp", "test_batched_logsumexp__stability"}),
    mutant("batched_softmax", "no max subtraction",
           "shifted = (matrix - matrix.max(dim=-1, keepdim=True).values).exp()", "shifted = matrix.exp()",
           "test_batched_softmax__stability"),
    mutant("batched_softmax", "global instead of per-row max",
           "matrix.max(dim=-1, keepdim=True).values", "matrix.max()", "test_batched_softmax__stability"),
    mutant("batched_softmax", "normalises over columns",
           "shifted.sum(dim=-1, keepdim=True)", "shifted.sum(dim=0, keepdim=True)",
           {"test_batched_softmax", "test_batched_softmax__stability"}),
    mutant("batched_logsoftmax", "log of the softmax",
           "return shifted - shifted.exp().sum(dim=-1, keepdim=True).log()",
           "return (shifted.exp() / shifted.exp().sum(dim=-1, keepdim=True)).log()",
           "test_batched_logsoftmax__stability"),
    mutant("batched_logsoftmax", "no max subtraction",
           "shifted = matrix - matrix.max(dim=-1, keepdim=True).values", "shifted = matrix",
           "test_batched_logsoftmax__stability"),
    mutant("batched_cross_entropy_loss", "returns the mean",
           "return -logprobs[torch.arange(len(true_labels)), true_labels]",
           "return -logprobs[torch.arange(len(true_labels)), true_labels].mean()",
           {"test_batched_cross_entropy_loss", "test_batched_cross_entropy_loss__extreme"}),
    mutant("batched_cross_entropy_loss", "log of the softmax underflows",
           "logprobs = shifted - shifted.exp().sum(dim=-1, keepdim=True).log()",
           "logprobs = (shifted.exp() / shifted.exp().sum(dim=-1, keepdim=True)).log()",
           "test_batched_cross_entropy_loss__extreme"),
    mutant("collect_rows", "unique drops repeats",
           "matrix[row_indexes]", "matrix[row_indexes.unique()]", "test_collect_rows"),
    mutant("collect_columns", "collects rows",
           "matrix[:, column_indexes]", "matrix[column_indexes]", "test_collect_columns"),
    mutant("collect_columns", "transposed result",
           "matrix[:, column_indexes]", "matrix.T[column_indexes]", "test_collect_columns"),
    # Second cases for the exercises that had one.
    mutant("rearrange_2", "output axes swapped", '"(c r) -> r c", c=3', '"(r c) -> c r", c=3',
           "test_rearrange_2"),
    mutant("temperatures_average", "max instead of mean", '"mean", day=7', '"max", day=7',
           "test_temperatures_average"),
    mutant("temperatures_differences", "subtracts the overall mean, not each week's",
           'return temps - einops.repeat(weekly, "week -> (week day)", day=7)', "return temps - temps.mean()",
           "test_temperatures_differences"),
    mutant("gather_2d", "the first row's indexes for every row",
           "torch.gather(matrix, 1, indexes)", "matrix[:, indexes[0]]", "test_gather_2d"),
    mutant("integer_array_indexing", "only the first two coordinates",
           "matrix[tuple(coords.T)]", "matrix[coords[:, 0], coords[:, 1]]", "test_integer_array_indexing"),
    mutant("collect_rows", "sorts the indexes",
           "matrix[row_indexes]", "matrix[row_indexes.sort().values]", "test_collect_rows"),
]

# Correct solutions written differently from the reference: the tests must accept them.
ALTERNATIVES = {
    # Hand-written unbiased variance (sum of squared deviations / 6) instead of torch.std.
    "temperatures_normalized": '''def temperatures_normalized(temps: Tensor) -> Tensor:
    """(temp - week mean) / week std (unbiased): (7*w,) -> (7*w,)."""
    assert len(temps) % 7 == 0
    per_day = lambda x: einops.repeat(x, "week -> (week day)", day=7)
    centred = temps - per_day(einops.reduce(temps, "(week day) -> week", "sum", day=7) / 7)
    variance = einops.reduce(centred ** 2, "(week day) -> week", "sum", day=7) / 6
    return centred / per_day(variance.sqrt())
''',
    # Batched matrix product of a row vector with a column vector, not einsum.
    "batched_dot_product_nd": '''def batched_dot_product_nd(a: Tensor, b: Tensor) -> Tensor:
    """Dot product over the last axis: (..., n), (..., n) -> (...)."""
    return torch.matmul(a.unsqueeze(-2), b.unsqueeze(-1))[..., 0, 0]
''',
    # Zeros with the diagonal written by integer-array assignment, not a broadcast comparison.
    "identity_matrix": '''def identity_matrix(n: int) -> Tensor:
    """The n x n identity matrix (int64), without torch.eye."""
    assert n >= 0
    out = torch.zeros((n, n), dtype=torch.int64)
    diag = torch.arange(n)
    out[diag, diag] = 1
    return out
''',
    # Inverse-CDF lookup with torch.searchsorted instead of counting the edges below u.
    "sample_distribution": '''def sample_distribution(probs: Tensor, n: int) -> Tensor:
    """n samples (int64 class indices) from the categorical distribution probs."""
    assert abs(probs.sum().item() - 1.0) < 1e-4 and (probs >= 0).all()
    cdf = torch.cumsum(probs, dim=0)
    cdf = cdf / cdf[-1]
    draws = torch.rand(n, dtype=cdf.dtype)
    picked = torch.searchsorted(cdf, draws, right=True)
    return picked.clamp(max=len(probs) - 1).to(torch.int64)
''',
    # No argmax: the true class wins when it beats every earlier score and ties-or-beats every later one.
    "classifier_accuracy": '''def classifier_accuracy(scores: Tensor, true_classes: Tensor) -> Tensor:
    """Fraction of rows whose argmax is the true class, as a 0-d float tensor."""
    assert true_classes.max() < scores.shape[1]
    own = scores.gather(1, true_classes[:, None])
    before = torch.arange(scores.shape[1])[None, :] < true_classes[:, None]
    wins = torch.where(before, scores < own, scores <= own).all(dim=1)
    return wins.sum() / torch.tensor(float(len(wins)))
''',
    # Advanced indexing with a column of row numbers instead of torch.gather.
    "gather_2d": '''def gather_2d(matrix: Tensor, indexes: Tensor) -> Tensor:
    """out[i][j] = matrix[i][indexes[i][j]]."""
    assert matrix.ndim == indexes.ndim == 2 and indexes.shape[0] <= matrix.shape[0]
    rows = torch.arange(indexes.shape[0]).unsqueeze(1)
    return matrix[rows, indexes]
''',
    # Row-major flat offsets into the flattened tensor instead of a tuple of index tensors.
    "integer_array_indexing": '''def integer_array_indexing(matrix: Tensor, coords: Tensor) -> Tensor:
    """Values of matrix at each row of coords: (k, matrix.ndim) -> (k,)."""
    assert coords.ndim == 2 and coords.shape[1] == matrix.ndim
    shape = torch.tensor(matrix.shape, dtype=torch.int64)
    coords = coords.long().remainder(shape)  # negative coordinates count from the end
    place_values = torch.ones(matrix.ndim, dtype=torch.int64)
    for axis in range(matrix.ndim - 2, -1, -1):
        place_values[axis] = place_values[axis + 1] * shape[axis + 1]
    return matrix.reshape(-1)[(coords * place_values).sum(dim=1)]
''',
    # Sorted rows: the top value plus log1p of the remaining terms, instead of max and log of the full sum.
    "batched_logsumexp": '''def batched_logsumexp(matrix: Tensor) -> Tensor:
    """Row-wise log(sum(exp(x))), computed stably: (rows, cols) -> (rows,)."""
    ordered = torch.sort(matrix, dim=-1, descending=True).values
    top = ordered[:, 0]
    rest = torch.exp(ordered[:, 1:] - top[:, None]).sum(dim=-1)
    return top + torch.log1p(rest)
''',
    # exp of the stable log-softmax instead of dividing the shifted exponentials by their sum.
    "batched_softmax": '''def batched_softmax(matrix: Tensor) -> Tensor:
    """Row-wise softmax, computed stably: (rows, cols) -> (rows, cols)."""
    centred = matrix - torch.amax(matrix, dim=-1, keepdim=True)
    log_norm = torch.log(torch.exp(centred).sum(dim=-1, keepdim=True))
    return torch.exp(centred - log_norm)
''',
    # logsumexp of the row minus the gathered true logit; no full log-softmax matrix.
    "batched_cross_entropy_loss": '''def batched_cross_entropy_loss(logits: Tensor, true_labels: Tensor) -> Tensor:
    """Per-example cross-entropy: (batch, classes), (batch,) -> (batch,)."""
    assert logits.shape[0] == true_labels.shape[0] and true_labels.max() < logits.shape[1]
    peak = torch.amax(logits, dim=1)
    log_total = peak + torch.exp(logits - peak[:, None]).sum(dim=1).log()
    true_logit = torch.gather(logits, 1, true_labels[:, None]).squeeze(1)
    return log_total - true_logit
''',
    # index_select instead of integer-array indexing.
    "collect_rows": '''def collect_rows(matrix: Tensor, row_indexes: Tensor) -> Tensor:
    """The listed rows, in order: (rows, cols), (k,) -> (k, cols)."""
    assert row_indexes.ndim == 1
    return torch.index_select(matrix, 0, row_indexes.long())
''',
    # torch.gather with the index row expanded to every row, instead of slicing.
    "collect_columns": '''def collect_columns(matrix: Tensor, column_indexes: Tensor) -> Tensor:
    """The listed columns, in order: (rows, cols), (k,) -> (rows, k)."""
    assert column_indexes.ndim == 1
    index = column_indexes.long().unsqueeze(0).expand(matrix.shape[0], -1)
    return torch.gather(matrix, 1, index)
''',
}
