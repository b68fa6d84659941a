"""Plausible bugs of day 0.2, drawn from the course plan and from common student mistakes.

conv1d calls pad1d; conv2d calls force_pair and pad2d; maxpool2d calls force_pair and pad2d;
MaxPool2d calls maxpool2d and Conv2d calls conv2d. A bug in the called exercise also fails the
caller's tests where those tests reach it, so those cells are listed too.
"""

from . import mutant

POOL_TESTS = {"test_maxpool2d", "test_maxpool2d__padding", "test_MaxPool2d"}

MUTANTS = [
    # einops pictures
    mutant("arr1", "digits merged the wrong way round (columns interleaved)",
           '"b c h w -> c h (b w)"', '"b c h w -> c h (w b)"', "test_arr1"),
    mutant("arr1", "digits stacked vertically",
           '"b c h w -> c h (b w)"', '"b c h w -> c (b h) w"', "test_arr1"),
    mutant("arr2", "every row repeated instead of two copies",
           '"c h w -> c (copy h) w"', '"c h w -> c (h copy) w"', "test_arr2"),
    mutant("arr2", "copies side by side",
           '"c h w -> c (copy h) w"', '"c h w -> c h (copy w)"', "test_arr2"),
    mutant("arr3", "every column repeated instead of two copies",
           "(b h) (copy w)", "(b h) (w copy)", "test_arr3"),
    mutant("arr3", "digits side by side, copies stacked",
           "(b h) (copy w)", "(copy h) (b w)", "test_arr3"),
    mutant("arr4", "two copies instead of stretching",
           '"c h w -> c (h copy) w"', '"c h w -> c (copy h) w"', "test_arr4"),
    mutant("arr4", "stretched along the width",
           '"c h w -> c (h copy) w"', '"c h w -> c h (w copy)"', "test_arr4"),
    mutant("arr5", "channels interleaved column by column",
           '"c h w -> h (c w)"', '"c h w -> h (w c)"', "test_arr5"),
    mutant("arr5", "channels stacked vertically",
           '"c h w -> h (c w)"', '"c h w -> (c h) w"', "test_arr5"),
    mutant("arr6", "three rows of two",
           "row=2)", "row=3)", "test_arr6"),
    mutant("arr6", "digits read down the columns",
           '"(row col) c h w', '"(col row) c h w', "test_arr6"),
    mutant("arr7", "mean instead of max",
           '"max")', '"mean")', "test_arr7"),
    mutant("arr7", "height and width swapped",
           '"b c h w -> h (b w)"', '"b c h w -> w (b h)"', "test_arr7"),
    mutant("arr8", "max instead of mean",
           '"mean")', '"max")', "test_arr8"),
    mutant("arr8", "averages the colour channels instead of the digits",
           '"b c h w -> c h w"', '"b c h w -> b h w"', "test_arr8"),
    mutant("arr9", "no transpose",
           '"c h w -> c w h"', '"c h w -> c h w"', "test_arr9"),
    mutant("arr9", "wrong digit",
           "numbers[1]", "numbers[0]", "test_arr9"),
    mutant("arr10", "mean of each block instead of max",
           '"max",', '"mean",', "test_arr10"),
    mutant("arr10", "blocks split the wrong way round (strided samples, not neighbours)",
           "(h dh) (w dw)", "(dh h) (dw w)", "test_arr10"),
    # einsum
    mutant("einsum_trace", "sums every entry",
           '"i i ->"', '"i j ->"', "test_einsum_trace"),
    mutant("einsum_trace", "returns the diagonal",
           '"i i ->"', '"i i -> i"', "test_einsum_trace"),
    mutant("einsum_mv", "vector times matrix",
           '"i j, j -> i"', '"i j, i -> j"', "test_einsum_mv"),
    mutant("einsum_mv", "keeps the wrong axis",
           '"i j, j -> i"', '"i j, j -> j"', "test_einsum_mv"),
    mutant("einsum_mm", "transposed result",
           '"i j, j k -> i k"', '"i j, j k -> k i"', "test_einsum_mm"),
    mutant("einsum_mm", "second matrix read transposed",
           '"i j, j k -> i k"', '"i j, k j -> i k"', "test_einsum_mm"),
    mutant("einsum_inner", "no sum (elementwise product)",
           '"i, i ->"', '"i, i -> i"', "test_einsum_inner"),
    mutant("einsum_inner", "product of the sums",
           '"i, i ->"', '"i, j ->"', "test_einsum_inner"),
    mutant("einsum_outer", "transposed result",
           '"i, j -> i j"', '"i, j -> j i"', "test_einsum_outer"),
    mutant("einsum_outer", "elementwise product",
           '"i, j -> i j"', '"i, i -> i"', "test_einsum_outer"),
    # test_cases
    mutant("test_cases", "diagonal stride taken as rows + 1",
           "size=(4,), stride=(7,)", "size=(4,), stride=(5,)", "test_test_cases"),
    mutant("test_cases", "repeated pair with the zero stride on the wrong axis",
           "size=(3, 2), stride=(0, 1)", "size=(3, 2), stride=(1, 0)", "test_test_cases"),
    # as_strided
    mutant("as_strided_trace", "diagonal stride from the shape (n + 1)",
           "(stride[0] + stride[1],))", "(mat.shape[1] + 1,))", "test_as_strided_trace__views"),
    mutant("as_strided_trace", "storage offset reset to 0",
           "(stride[0] + stride[1],))", "(stride[0] + stride[1],), 0)", "test_as_strided_trace__views"),
    mutant("as_strided_mv", "vec stride assumed to be 1",
           "(0, vec.stride(0))", "(0, 1)", "test_as_strided_mv__views"),
    mutant("as_strided_mv", "storage offset reset to 0",
           "(0, vec.stride(0)))", "(0, vec.stride(0)), 0)", "test_as_strided_mv__views"),
    mutant("as_strided_mm", "matB assumed contiguous",
           "(0, sB[0], sB[1])", "(0, k, 1)", "test_as_strided_mm__views"),
    mutant("as_strided_mm", "storage offset of matB reset to 0",
           "(0, sB[0], sB[1]))", "(0, sB[0], sB[1]), 0)", "test_as_strided_mm__views"),
    # convolutions from windows
    mutant("conv1d_minimal_simple", "kernel flipped (true convolution)",
           'weights, "ow kw, kw -> ow"', 'weights.flip(0), "ow kw, kw -> ow"', "test_conv1d_minimal_simple"),
    mutant("conv1d_minimal_simple", "output one too short",
           "ow = w - kw + 1", "ow = w - kw", "test_conv1d_minimal_simple"),
    mutant("conv1d_minimal", "output one too short",
           "ow = w - kw + 1", "ow = w - kw", {"test_conv1d_minimal", "test_conv1d_minimal__views"}),
    mutant("conv1d_minimal", "x assumed contiguous",
           "(sb, sc, sw, sw)", "(ic * w, w, 1, 1)", "test_conv1d_minimal__views"),
    mutant("conv2d_minimal", "kernel flipped (true convolution)",
           'weights, "b ic oh ow', 'weights.flip(-2, -1), "b ic oh ow',
           {"test_conv2d_minimal", "test_conv2d_minimal__views"}),
    mutant("conv2d_minimal", "kernel height and width mixed up",
           "oh, ow = h - kh + 1, w - kw + 1", "oh, ow = h - kw + 1, w - kh + 1",
           {"test_conv2d_minimal", "test_conv2d_minimal__views"}),
    mutant("conv2d_minimal", "x assumed contiguous",
           "(sb, sc, sh, sw, sh, sw)", "(ic * h * w, h * w, w, 1, w, 1)", "test_conv2d_minimal__views"),
    # padding
    mutant("pad1d", "slice to -right (empty when right is 0)",
           "out[..., left: left + w] = x", "out[..., left: -right] = x",
           {"test_pad1d", "test_conv1d", "test_conv1d__stride_padding"}),
    mutant("pad1d", "dtype not kept (torch.full)",
           "x.new_full((b, c, left + w + right), pad_value)", "torch.full((b, c, left + w + right), pad_value)",
           {"test_pad1d", "test_conv1d", "test_conv1d__stride_padding"}),
    mutant("pad2d", "left/right used for the height and top/bottom for the width",
           "out[..., top: top + h, left: left + w] = x", "out[..., left: left + h, top: top + w] = x",
           {"test_pad2d", "test_conv2d__stride_padding", "test_maxpool2d__padding", "test_MaxPool2d",
            "test_Conv2d__forward"}),
    mutant("pad2d", "pads with zeros whatever pad_value says",
           "x.new_full((b, c, top + h + bottom, left + w + right), pad_value)",
           "x.new_zeros((b, c, top + h + bottom, left + w + right))",
           {"test_pad2d", "test_maxpool2d__padding", "test_MaxPool2d"}),
    # strided convolutions
    mutant("conv1d", "output size rounded up",
           "ow = (w - kw) // stride + 1", "ow = -(-(w - kw) // stride) + 1", "test_conv1d__stride_padding"),
    mutant("conv1d", "stride applied inside the window (dilation)",
           "(sb, sc, sw * stride, sw)", "(sb, sc, sw, sw * stride)", "test_conv1d__stride_padding"),
    mutant("force_pair", "pair components swapped",
           "return (int(v[0]), int(v[1]))", "return (int(v[1]), int(v[0]))",
           {"test_force_pair", "test_conv2d__stride_padding", "test_Conv2d", "test_Conv2d__forward"} | POOL_TESTS),
    mutant("force_pair", "raises TypeError",
           "raise ValueError(", "raise TypeError(", "test_force_pair"),
    mutant("conv2d", "padding pair swapped",
           "x = pad2d(x, pw, pw, ph, ph, 0.0)", "x = pad2d(x, ph, ph, pw, pw, 0.0)",
           {"test_conv2d__stride_padding", "test_Conv2d__forward"}),
    mutant("conv2d", "stride applied to the height only",
           "(xb, xc, xh * sh, xw * sw, xh, xw)", "(xb, xc, xh * sh, xw, xh, xw)",
           {"test_conv2d__stride_padding", "test_Conv2d__forward"}),
    mutant("conv2d", "output size rounded up",
           "oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1",
           "oh, ow = -(-(h - kh) // sh) + 1, -(-(w - kw) // sw) + 1",
           {"test_conv2d__stride_padding", "test_Conv2d__forward"}),
    # pooling
    mutant("maxpool2d", "pads with 0 instead of -inf",
           'float("-inf")', "0.0", {"test_maxpool2d__padding", "test_MaxPool2d"}),
    mutant("maxpool2d", "stride None taken as 1",
           "kernel_size if stride is None else stride", "1 if stride is None else stride", POOL_TESTS),
    # modules
    mutant("MaxPool2d", "forward ignores padding",
           "maxpool2d(x, self.kernel_size, self.stride, self.padding)", "maxpool2d(x, self.kernel_size, self.stride)",
           "test_MaxPool2d"),
    mutant("MaxPool2d", "extra_repr leaves out padding",
           '["kernel_size", "stride", "padding"]', '["kernel_size", "stride"]', "test_MaxPool2d"),
    mutant("ReLU", "changes its input in place",
           "x.clamp(min=0)", "x.clamp_(min=0)", "test_ReLU"),
    mutant("ReLU", "float result for integer input",
           "return x.clamp(min=0)", "return torch.maximum(x, torch.tensor(0.0))", "test_ReLU"),
    mutant("Flatten", "end_dim treated as exclusive",
           "stop = self.end_dim % len(shape) + 1", "stop = self.end_dim % len(shape)", "test_Flatten"),
    mutant("Flatten", "view fails on non-contiguous input",
           "return input.reshape(", "return input.view(", "test_Flatten"),
    mutant("Linear", "init bound 1/in instead of 1/sqrt(in)",
           "bound = 1 / math.sqrt(in_features)", "bound = 1 / in_features", "test_Linear"),
    mutant("Linear", "forward forgets the bias",
           "out = out + self.bias", "out = out", "test_Linear__forward"),
    mutant("Linear", "bias=False still makes a bias",
           "if bias else None", "if True else None", {"test_Linear", "test_Linear__forward"}),
    mutant("Conv2d", "forward ignores stride and padding",
           "conv2d(x, self.weight, self.stride, self.padding)", "conv2d(x, self.weight)", "test_Conv2d__forward"),
    mutant("Conv2d", "init bound ignores the kernel area",
           "math.sqrt(in_channels * kh * kw)", "math.sqrt(in_channels)", "test_Conv2d"),
]

# Correct solutions written differently from the reference (see tests/mutants/__init__.py).
ALTERNATIVES = {
    # indexing picks the two copies, then one rearrange lays them out (the reference repeats)
    "arr2": '''def arr2(numbers: np.ndarray) -> np.ndarray:
    """Digit 0 twice, one copy above the other: (3, 2H, W)."""
    return einops.rearrange(numbers[[0, 0]], "n c h w -> c (n h) w")
''',
    # a 2x2 grid of picked digits, laid out by one rearrange
    "arr3": '''def arr3(numbers: np.ndarray) -> np.ndarray:
    """Digits 0 (top) and 1 (bottom), each shown twice side by side: (3, 2H, 2W)."""
    grid = numbers[[0, 0, 1, 1]]
    return einops.rearrange(grid, "(r k) c h w -> c (r h) (k w)", k=2)
''',
    # two picked copies interleaved row by row
    "arr4": '''def arr4(numbers: np.ndarray) -> np.ndarray:
    """Digit 0 stretched to twice its height, every row repeated: (3, 2H, W)."""
    return einops.rearrange(numbers[[0, 0]], "n c h w -> c (h n) w")
''',
    # einsum used as a pure transposition
    "arr9": '''def arr9(numbers: np.ndarray) -> np.ndarray:
    """Digit 1 mirrored about its main diagonal (rows become columns): (3, W, H)."""
    return einops.einsum(numbers[1], "c h w -> c w h")
''',
    # numpy's einsum in implicit mode (no output written)
    "einsum_trace": '''def einsum_trace(mat: np.ndarray):
    """The trace of a square matrix, with einsum."""
    return np.einsum("aa", mat)
''',
    "einsum_outer": '''def einsum_outer(vec1: np.ndarray, vec2: np.ndarray) -> np.ndarray:
    """Outer product (i,), (j,) -> (i, j), with einsum."""
    return np.einsum("p,q", vec1, vec2)
''',
    # search for a stride that reproduces each target instead of writing the strides down
    "test_cases": '''def test_cases() -> list:
    """One TestCase(output, size, stride) per entry of STRIDE_TARGETS, in order."""
    import itertools

    found = []
    for target in STRIDE_TARGETS:
        shape = tuple(target.shape)
        for stride in itertools.product(range(13), repeat=len(shape)):
            try:
                view = STRIDE_INPUT.as_strided(shape, stride)
            except RuntimeError:
                continue
            if torch.equal(view, target):
                found.append(TestCase(target, size=shape, stride=stride))
                break
        else:
            raise ValueError(f"no stride found for {target}")
    return found
''',
    # the diagonal summed by an explicit loop
    "as_strided_trace": '''def as_strided_trace(mat: Float[Tensor, "i j"]) -> Float[Tensor, ""]:
    """The trace of a square matrix, from a strided view of its diagonal."""
    n = mat.shape[0]
    diag = mat.as_strided((n,), (sum(mat.stride()),))
    total = mat.new_zeros(())
    for k in range(n):
        total = total + diag[k]
    return total
''',
    # vec laid out as (j, i) columns, multiplied with mat transposed, summed over the first axis
    "as_strided_mv": '''def as_strided_mv(mat: Float[Tensor, "i j"], vec: Float[Tensor, "j"]) -> Float[Tensor, "i"]:
    """Matrix-vector product, with vec viewed as an (i, j) tensor by as_strided."""
    rows, cols = mat.shape
    columns = vec.as_strided((cols, rows), (vec.stride()[0], 0))
    return (mat.T * columns).sum(0)
''',
    # both inputs viewed as (i, k, j) tensors, summed over the last axis
    "as_strided_mm": '''def as_strided_mm(matA: Float[Tensor, "i j"], matB: Float[Tensor, "j k"]) -> Float[Tensor, "i k"]:
    """Matrix product, with both inputs viewed as (i, j, k) tensors by as_strided."""
    n_i, n_j = matA.shape
    n_k = matB.shape[1]
    a0, a1 = matA.stride()
    b0, b1 = matB.stride()
    left = matA.as_strided((n_i, n_k, n_j), (a0, 0, a1))
    right = matB.as_strided((n_i, n_k, n_j), (0, b1, b0))
    return (left * right).sum(-1)
''',
    # windows times kernel with a matrix-vector product instead of einsum
    "conv1d_minimal_simple": '''def conv1d_minimal_simple(x: Float[Tensor, "w"], weights: Float[Tensor, "kw"]) -> Float[Tensor, "ow"]:
    """1-D cross-correlation of a vector with a kernel, no batch, no channels, no padding."""
    step = x.stride()[0]
    n_out = len(x) - len(weights) + 1
    return x.as_strided((n_out, len(weights)), (step, step)) @ weights
''',
    # windows laid out (b, ow, ic, kw) and contracted with tensordot
    "conv1d_minimal": '''def conv1d_minimal(x: Float[Tensor, "b ic w"], weights: Float[Tensor, "oc ic kw"]) -> Float[Tensor, "b oc ow"]:
    """Batched, multi-channel 1-D cross-correlation with stride 1 and no padding."""
    n_b, n_ic, n_w = x.shape
    n_kw = weights.shape[-1]
    st_b, st_c, st_w = x.stride()
    win = x.as_strided((n_b, n_w - n_kw + 1, n_ic, n_kw), (st_b, st_w, st_c, st_w))
    return torch.tensordot(win, weights, dims=([2, 3], [1, 2])).permute(0, 2, 1)
''',
    # shift and add: one strided view per kernel offset, each weighted by that kernel slice
    "conv2d_minimal": '''def conv2d_minimal(x: Float[Tensor, "b ic h w"], weights: Float[Tensor, "oc ic kh kw"]) -> Float[Tensor, "b oc oh ow"]:
    """Batched, multi-channel 2-D cross-correlation with stride 1 and no padding."""
    n_b, n_ic, n_h, n_w = x.shape
    n_oc, _, n_kh, n_kw = weights.shape
    out_h, out_w = n_h - n_kh + 1, n_w - n_kw + 1
    st = x.stride()
    out = x.new_zeros((n_b, n_oc, out_h, out_w))
    for di in range(n_kh):
        for dj in range(n_kw):
            shifted = x.as_strided((n_b, n_ic, out_h, out_w), st,
                                   x.storage_offset() + di * st[2] + dj * st[3])
            out = out + einops.einsum(shifted, weights[:, :, di, dj], "b ic h w, oc ic -> b oc h w")
    return out
''',
    # concatenation of two constant blocks around x
    "pad1d": '''def pad1d(x: Tensor, left: int, right: int, pad_value: float) -> Tensor:
    """Pad the last axis of x (b, c, w) with `left` and `right` copies of pad_value."""
    n_b, n_c, _ = x.shape
    before = x.new_full((n_b, n_c, left), pad_value)
    after = x.new_full((n_b, n_c, right), pad_value)
    return torch.cat([before, x, after], dim=2)
''',
    # narrow the new tensor to the middle and copy_ into it
    "pad2d": '''def pad2d(x: Tensor, left: int, right: int, top: int, bottom: int, pad_value: float) -> Tensor:
    """Pad the width of x (b, c, h, w) by left/right and its height by top/bottom."""
    shape = list(x.shape)
    big = x.new_full((shape[0], shape[1], shape[2] + top + bottom, shape[3] + left + right), pad_value)
    big.narrow(2, top, shape[2]).narrow(3, left, shape[3]).copy_(x)
    return big
''',
    # stride-1 windows, then every stride-th window by slicing; tensordot to combine
    "conv1d": '''def conv1d(x: Float[Tensor, "b ic w"], weights: Float[Tensor, "oc ic kw"], stride: int = 1,
           padding: int = 0) -> Float[Tensor, "b oc ow"]:
    """1-D cross-correlation with zero padding on both sides and a stride."""
    padded = pad1d(x, padding, padding, 0.0)
    n_b, n_ic, n_w = padded.shape
    n_kw = weights.shape[2]
    st_b, st_c, st_w = padded.stride()
    every = padded.as_strided((n_b, n_ic, n_w - n_kw + 1, n_kw), (st_b, st_c, st_w, st_w))
    chosen = every[:, :, ::stride]
    return torch.tensordot(chosen, weights, dims=([1, 3], [1, 2])).permute(0, 2, 1)
''',
    # tuple unpacking decides: ints cannot be unpacked, wrong lengths raise ValueError
    "force_pair": '''def force_pair(v: IntOrPair) -> Pair:
    """(v, v) for an int, tuple(v) for a pair; ValueError for any other length."""
    try:
        first, second = v
    except TypeError:
        return (v, v)
    except ValueError:
        raise ValueError(f"need one int or two, got {v!r}") from None
    return (first, second)
''',
    # im2col: windows flattened into rows, one matrix product with the flattened kernel
    "conv2d": '''def conv2d(x: Float[Tensor, "b ic h w"], weights: Float[Tensor, "oc ic kh kw"], stride: IntOrPair = 1,
           padding: IntOrPair = 0) -> Float[Tensor, "b oc oh ow"]:
    """2-D cross-correlation with zero padding and a stride, each an int or a (height, width) pair."""
    step_h, step_w = force_pair(stride)
    pad_h, pad_w = force_pair(padding)
    xp = pad2d(x, pad_w, pad_w, pad_h, pad_h, 0.0)
    n_b, n_ic, n_h, n_w = xp.shape
    n_oc, _, n_kh, n_kw = weights.shape
    out_h = (n_h - n_kh) // step_h + 1
    out_w = (n_w - n_kw) // step_w + 1
    t_b, t_c, t_h, t_w = xp.stride()
    cols = xp.as_strided((n_b, out_h, out_w, n_ic, n_kh, n_kw),
                         (t_b, t_h * step_h, t_w * step_w, t_c, t_h, t_w))
    rows = cols.reshape(n_b * out_h * out_w, n_ic * n_kh * n_kw)
    out = rows @ weights.reshape(n_oc, -1).T
    return out.reshape(n_b, out_h, out_w, n_oc).permute(0, 3, 1, 2)
''',
    # separable pooling: max along the width windows first, then along the height windows
    "maxpool2d": '''def maxpool2d(x: Float[Tensor, "b c h w"], kernel_size: IntOrPair, stride: IntOrPair | None = None,
              padding: IntOrPair = 0) -> Float[Tensor, "b c oh ow"]:
    """2-D max pooling; stride None means stride = kernel_size; padding counts as -inf."""
    k_h, k_w = force_pair(kernel_size)
    s_h, s_w = force_pair(stride) if stride is not None else (k_h, k_w)
    p_h, p_w = force_pair(padding)
    xp = pad2d(x, p_w, p_w, p_h, p_h, float("-inf"))
    n_b, n_c, n_h, n_w = xp.shape
    out_h, out_w = (n_h - k_h) // s_h + 1, (n_w - k_w) // s_w + 1
    t = xp.stride()
    along_w = xp.as_strided((n_b, n_c, n_h, out_w, k_w), (t[0], t[1], t[2], t[3] * s_w, t[3])).amax(dim=-1)
    u = along_w.stride()
    return along_w.as_strided((n_b, n_c, out_h, out_w, k_h), (u[0], u[1], u[2] * s_h, u[3], u[2])).amax(dim=-1)
''',
    # attributes stored from a dict, repr written out with format
    "MaxPool2d": '''class MaxPool2d(nn.Module):
    """Max pooling as a module (no parameters)."""

    def __init__(self, kernel_size: IntOrPair, stride: IntOrPair | None = None, padding: IntOrPair = 1):
        super().__init__()
        for key, value in dict(kernel_size=kernel_size, stride=stride, padding=padding).items():
            setattr(self, key, value)

    def forward(self, x: Tensor) -> Tensor:
        return maxpool2d(x, kernel_size=self.kernel_size, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return "kernel_size={}, stride={}, padding={}".format(self.kernel_size, self.stride, self.padding)
''',
    # where(x > 0, x, 0) instead of clamp
    "ReLU": '''class ReLU(nn.Module):
    """max(x, 0) elementwise, as a new tensor."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.where(x > 0, x, torch.zeros_like(x))
''',
    # an einops pattern written for the axes at hand
    "Flatten": '''class Flatten(nn.Module):
    """Merge the axes start_dim..end_dim (both included) into one."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input: Tensor) -> Tensor:
        n = input.dim()
        lo = self.start_dim + n if self.start_dim < 0 else self.start_dim
        hi = self.end_dim + n if self.end_dim < 0 else self.end_dim
        names = [f"d{k}" for k in range(n)]
        right = names[:lo] + ["(" + " ".join(names[lo: hi + 1]) + ")"] + names[hi + 1:]
        return einops.rearrange(input, " ".join(names) + " -> " + " ".join(right))

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
''',
    # uniform_ on empty tensors, register_parameter for a missing bias, matmul in forward
    "Linear": '''class Linear(nn.Module):
    """x @ weight.T + bias, with PyTorch's parameter names, shapes and initial range."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        limit = in_features ** -0.5
        self.weight = nn.Parameter(torch.empty(out_features, in_features).uniform_(-limit, limit))
        if bias:
            self.bias = nn.Parameter(torch.empty(out_features).uniform_(-limit, limit))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: Float[Tensor, "... in_features"]) -> Float[Tensor, "... out_features"]:
        y = x @ self.weight.T
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.weight.shape[1]}, out_features={self.weight.shape[0]}, bias={self.bias is not None}"
''',
    # PyTorch's own recipe: kaiming_uniform_ with a = sqrt(5) gives the same bound 1/sqrt(fan_in)
    "Conv2d": '''class Conv2d(nn.Module):
    """2-D convolution layer without bias, built on conv2d."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: IntOrPair, stride: IntOrPair = 1,
                 padding: IntOrPair = 0):
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        weight = torch.empty(out_channels, in_channels, *force_pair(kernel_size))
        nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
        self.weight = nn.Parameter(weight)

    def forward(self, x: Float[Tensor, "b ic h w"]) -> Float[Tensor, "b oc oh ow"]:
        return conv2d(x, self.weight, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)}" for k in ["in_channels", "out_channels", "kernel_size",
                                                             "stride", "padding"])
''',
}
