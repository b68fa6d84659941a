"""Plausible bugs of day 0.5 (backprop from scratch), from the course plan and common mistakes.

Later parts build on earlier ones (backprop calls the backward functions through BACK_FUNCS, the
modules use the wrapped operations, train/test use everything), so a bug in a building block
may also fail the checks of what is built on it; `fails` lists those cells too.
"""

from . import mutant

MUTANTS = [
    mutant('log_back', 'multiplies by x instead of dividing',
           'return grad_out / x',
           'return grad_out * x',
           {'test_cross_entropy__grad', 'test_forward_and_back', 'test_log_back', 'test_train'}),
    mutant('log_back', 'ignores grad_out',
           'return grad_out / x',
           'return 1 / x',
           {'test_cross_entropy__grad', 'test_forward_and_back', 'test_log_back', 'test_train'}),
    mutant('unbroadcast', 'sums stretched dimensions without keepdims (wrong shape)',
           'keepdims=True',
           'keepdims=False',
           {'test_add_back0', 'test_add_back1', 'test_expand_back', 'test_multiply_back0',
            'test_multiply_back1', 'test_subtract_back0', 'test_subtract_back1', 'test_true_divide_back0',
            'test_true_divide_back1', 'test_unbroadcast__size_one'}),
    mutant('unbroadcast', 'does not sum stretched size-1 dimensions',
           'return summed.sum(axis=stretched, keepdims=True)',
           'return summed',
           {'test_add_back0', 'test_add_back1', 'test_expand_back', 'test_multiply_back0',
            'test_multiply_back1', 'test_subtract_back0', 'test_subtract_back1', 'test_true_divide_back0',
            'test_true_divide_back1', 'test_unbroadcast__size_one'}),
    mutant('unbroadcast', 'averages instead of summing over new dimensions',
           'summed = broadcasted.sum(axis=tuple(range(n_new)))',
           'summed = broadcasted.mean(axis=tuple(range(n_new)))',
           {'test_add_back0', 'test_add_back1', 'test_expand_back', 'test_maximum_back0',
            'test_maximum_back1', 'test_multiply_back0', 'test_multiply_back1', 'test_subtract_back0',
            'test_subtract_back1', 'test_train', 'test_true_divide_back0', 'test_true_divide_back1',
            'test_unbroadcast', 'test_unbroadcast__size_one'}),
    mutant('multiply_back0', 'no unbroadcast',
           'return unbroadcast(y * grad_out, x)',
           'return y * grad_out',
           'test_multiply_back0'),
    mutant('multiply_back0', 'multiplies by x instead of y',
           'return unbroadcast(y * grad_out, x)',
           'return unbroadcast(x * grad_out, x)',
           {'test_forward_and_back', 'test_multiply_back0', 'test_relu', 'test_train'}),
    mutant('multiply_back1', 'no unbroadcast',
           'return unbroadcast(x * grad_out, y)',
           'return x * grad_out',
           'test_multiply_back1'),
    mutant('multiply_back1', 'multiplies by y instead of x',
           'return unbroadcast(x * grad_out, y)',
           'return unbroadcast(y * grad_out, y)',
           {'test_forward_and_back', 'test_multiply_back1'}),
    mutant('forward_and_back', 'back1 where back0 belongs',
           'dg_dd = multiply_back0(dg_df, f, d, e)',
           'dg_dd = multiply_back1(dg_df, f, d, e)',
           'test_forward_and_back'),
    mutant('forward_and_back', 'dg/dc from dg/df instead of dg/de',
           'dg_dc = log_back(dg_de, e, c)',
           'dg_dc = log_back(dg_df, e, c)',
           'test_forward_and_back'),
    mutant('BackwardFuncLookup', 'keeps the first registration',
           'self.back_funcs[(forward_fn, arg_position)] = back_fn',
           'self.back_funcs.setdefault((forward_fn, arg_position), back_fn)',
           'test_BackwardFuncLookup'),
    mutant('BackwardFuncLookup', 'returns None for a missing pair',
           'return self.back_funcs[(forward_fn, arg_position)]',
           'return self.back_funcs.get((forward_fn, arg_position))',
           'test_BackwardFuncLookup'),
    mutant('BackwardFuncLookup', 'ignores the argument position',
           'self.back_funcs[(forward_fn, arg_position)] = back_fn',
           'self.back_funcs[(forward_fn, 0)] = back_fn',
           {'test_BackwardFuncLookup', 'test_backprop', 'test_backprop__accumulate',
            'test_backprop__leaves', 'test_cross_entropy__grad', 'test_relu', 'test_train'}),
    mutant('log_forward', 'args hold the Tensor',
           'args=(x.array,)',
           'args=(x,)',
           'test_log_forward'),
    mutant('log_forward', 'records with grad tracking off',
           'requires_grad = grad_tracking_enabled and (x.requires_grad or x.recipe is not None)',
           'requires_grad = x.requires_grad or x.recipe is not None',
           'test_log_forward'),
    mutant('multiply_forward', 'numbers become parents',
           'parents = {i: t for i, t in enumerate((a, b)) if isinstance(t, Tensor)}',
           'parents = {i: t for i, t in enumerate((a, b))}',
           'test_multiply_forward'),
    mutant('multiply_forward', 'records with grad tracking off',
           'requires_grad = grad_tracking_enabled and any(',
           'requires_grad = any(',
           'test_multiply_forward'),
    mutant('multiply_forward', 'args hold the Tensors',
           'args=(arg_a, arg_b)',
           'args=(a, b)',
           'test_multiply_forward'),
    mutant('wrap_forward_fn', 'non-Tensor arguments become parents',
           'parents = {i: a for i, a in enumerate(args) if isinstance(a, Tensor)}',
           'parents = {i: a for i, a in enumerate(args)}',
           {'test_cross_entropy__grad', 'test_relu', 'test_train', 'test_wrap_forward_fn'}),
    mutant('wrap_forward_fn', 'records with grad tracking off',
           'requires_grad = grad_tracking_enabled and is_differentiable and any(',
           'requires_grad = is_differentiable and any(',
           'test_wrap_forward_fn__no_grad'),
    mutant('wrap_forward_fn', 'ignores is_differentiable',
           'requires_grad = grad_tracking_enabled and is_differentiable and any(',
           'requires_grad = grad_tracking_enabled and any(',
           'test_wrap_forward_fn__no_grad'),
    mutant('topological_sort', 'no memory of finished nodes (duplicates in diamonds)',
           'if n in finished:',
           'if False:',
           {'test_backprop__accumulate', 'test_sorted_computational_graph', 'test_topological_sort',
            'test_topological_sort__cycle'}),
    mutant('topological_sort', 'no cycle detection (infinite recursion)',
           'if n in on_path:',
           'if False:',
           'test_topological_sort__cycle'),
    mutant('topological_sort', 'puts each node before its children',
           'result.append(n)',
           'result.insert(0, n)',
           {'test_backprop', 'test_backprop__accumulate', 'test_backprop__leaves',
            'test_cross_entropy__grad', 'test_relu', 'test_sorted_computational_graph',
            'test_topological_sort', 'test_topological_sort__cycle', 'test_train'}),
    mutant('sorted_computational_graph', 'forgets to reverse',
           'return topological_sort(tensor, get_parents)[::-1]',
           'return topological_sort(tensor, get_parents)',
           {'test_backprop', 'test_backprop__accumulate', 'test_backprop__leaves',
            'test_cross_entropy__grad', 'test_relu', 'test_sorted_computational_graph', 'test_train'}),
    mutant('sorted_computational_graph', 'follows only the first parent',
           'return list(t.recipe.parents.values()) if t.recipe is not None else []',
           'return list(t.recipe.parents.values())[:1] if t.recipe is not None else []',
           {'test_backprop', 'test_backprop__accumulate', 'test_backprop__leaves',
            'test_cross_entropy__grad', 'test_sorted_computational_graph', 'test_train'}),
    mutant('backprop', 'overwrites instead of accumulating over uses',
           'grads[parent] = in_grad if parent not in grads else grads[parent] + in_grad',
           'grads[parent] = in_grad',
           {'test_backprop__accumulate', 'test_cross_entropy__grad', 'test_train'}),
    mutant('backprop', 'stores grads on non-leaves',
           'if node.is_leaf and node.requires_grad:',
           'if node.requires_grad:',
           'test_backprop__leaves'),
    mutant('backprop', 'a second backprop overwrites .grad',
           'node.grad = Tensor(grad) if node.grad is None else Tensor(node.grad.array + grad)',
           'node.grad = Tensor(grad)',
           'test_backprop__accumulate'),
    mutant('backprop', 'default end_grad of zeros',
           'np.ones_like(end_node.array, dtype=float)',
           'np.zeros_like(end_node.array, dtype=float)',
           {'test_backprop', 'test_backprop__accumulate', 'test_backprop__leaves', 'test_train'}),
    mutant('negative_back', 'forgets the sign',
           'return -grad_out',
           'return grad_out',
           'test_negative_back'),
    mutant('negative_back', 'ignores grad_out',
           'return -grad_out',
           'return -np.ones_like(grad_out)',
           'test_negative_back'),
    mutant('exp_back', 'uses x instead of exp(x)',
           'return out * grad_out',
           'return x * grad_out',
           {'test_cross_entropy__grad', 'test_exp_back', 'test_train'}),
    mutant('exp_back', 'ignores grad_out',
           'return out * grad_out',
           'return out',
           {'test_cross_entropy__grad', 'test_exp_back', 'test_train'}),
    mutant('reshape_back', 'keeps the output shape',
           'np.reshape(grad_out, x.shape)',
           'np.reshape(grad_out, out.shape)',
           'test_reshape_back'),
    mutant('reshape_back', 'Fortran order',
           'np.reshape(grad_out, x.shape)',
           'np.reshape(grad_out, x.shape, order="F")',
           'test_reshape_back'),
    mutant('invert_transposition', 'returns the permutation itself',
           'np.argsort(axes)',
           'axes',
           {'test_invert_transposition', 'test_permute_back'}),
    mutant('invert_transposition', 'reverses the argsort',
           'np.argsort(axes)',
           'np.argsort(axes)[::-1]',
           {'test_invert_transposition', 'test_permute_back', 'test_train'}),
    mutant('permute_back', 'permutes by axes again',
           'np.transpose(grad_out, invert_transposition(axes))',
           'np.transpose(grad_out, axes)',
           'test_permute_back'),
    mutant('permute_back', 'reverses all axes',
           'np.transpose(grad_out, invert_transposition(axes))',
           'np.transpose(grad_out)',
           'test_permute_back'),
    mutant('_expand', '-1 refers to the wrong dimension',
           'x.shape[i - n_new]',
           'x.shape[min(i, x.ndim - 1)]',
           'test__expand'),
    mutant('_expand', 'no -1 support',
           'return np.broadcast_to(x, full)',
           'return np.broadcast_to(x, new_shape)',
           'test__expand'),
    mutant('expand_back', 'no unbroadcast',
           'return unbroadcast(grad_out, x)',
           'return grad_out',
           'test_expand_back'),
    mutant('expand_back', 'sums only the first dimension',
           'return unbroadcast(grad_out, x)',
           'return grad_out.sum(axis=0)',
           'test_expand_back'),
    mutant('_sum', 'ignores keepdim',
           'np.sum(x, axis=dim, keepdims=keepdim)',
           'np.sum(x, axis=dim)',
           'test__sum'),
    mutant('_sum', 'always keeps dims',
           'np.sum(x, axis=dim, keepdims=keepdim)',
           'np.sum(x, axis=dim, keepdims=True)',
           {'test__sum', 'test_cross_entropy', 'test_cross_entropy__grad', 'test_test', 'test_train'}),
    mutant('sum_back', 'expands dims even with keepdim',
           'if not keepdim:',
           'if True:',
           'test_sum_back'),
    mutant('sum_back', 'broadcasts without restoring the summed dims',
           'grad_out = np.expand_dims(grad_out, dim)',
           'grad_out = grad_out',
           {'test_cross_entropy__grad', 'test_sum_back', 'test_train'}),
    mutant('coerce_index', 'turns a tuple index into a list',
           'return tuple(i.array if isinstance(i, Tensor) else i for i in index)',
           'return [i.array if isinstance(i, Tensor) else i for i in index]',
           {'test__getitem', 'test_coerce_index', 'test_cross_entropy', 'test_cross_entropy__grad',
            'test_getitem_back', 'test_getitem_back__repeated', 'test_test', 'test_train'}),
    mutant('coerce_index', 'leaves tuples untouched',
           'return tuple(i.array if isinstance(i, Tensor) else i for i in index)',
           'return index',
           {'test__getitem', 'test_coerce_index', 'test_cross_entropy', 'test_cross_entropy__grad',
            'test_getitem_back', 'test_test', 'test_train'}),
    mutant('_getitem', 'does not coerce the index',
           'return x[coerce_index(index)]',
           'return x[index]',
           {'test__getitem', 'test_cross_entropy', 'test_cross_entropy__grad', 'test_test', 'test_train'}),
    mutant('_getitem', 'takes along the first axis only',
           'return x[coerce_index(index)]',
           'return np.take(x, coerce_index(index), axis=0)',
           {'test__getitem', 'test_cross_entropy', 'test_cross_entropy__grad', 'test_test', 'test_train'}),
    mutant('getitem_back', 'assignment loses repeated indices',
           'np.add.at(grad, coerce_index(index), grad_out)',
           'grad[coerce_index(index)] = grad_out',
           'test_getitem_back__repeated'),
    mutant('getitem_back', 'does not coerce the index',
           'np.add.at(grad, coerce_index(index), grad_out)',
           'np.add.at(grad, index, grad_out)',
           {'test_cross_entropy__grad', 'test_getitem_back', 'test_getitem_back__repeated', 'test_train'}),
    mutant('add_back0', 'no unbroadcast',
           'return unbroadcast(grad_out, x)',
           'return grad_out',
           'test_add_back0'),
    mutant('add_back0', 'unbroadcasts to y',
           'return unbroadcast(grad_out, x)',
           'return unbroadcast(grad_out, y)',
           {'test_add_back0', 'test_train'}),
    mutant('add_back1', 'no unbroadcast',
           'return unbroadcast(grad_out, y)',
           'return grad_out',
           {'test_add_back1', 'test_train'}),
    mutant('add_back1', 'unbroadcasts to x',
           'return unbroadcast(grad_out, y)',
           'return unbroadcast(grad_out, x)',
           {'test_add_back1', 'test_train'}),
    mutant('subtract_back0', 'wrong sign',
           'return unbroadcast(grad_out, x)',
           'return unbroadcast(-grad_out, x)',
           {'test_cross_entropy__grad', 'test_subtract_back0', 'test_train'}),
    mutant('subtract_back0', 'no unbroadcast',
           'return unbroadcast(grad_out, x)',
           'return grad_out',
           'test_subtract_back0'),
    mutant('subtract_back1', 'forgets the minus',
           'return unbroadcast(-grad_out, y)',
           'return unbroadcast(grad_out, y)',
           {'test_cross_entropy__grad', 'test_subtract_back1', 'test_train'}),
    mutant('subtract_back1', 'no unbroadcast',
           'return unbroadcast(-grad_out, y)',
           'return -grad_out',
           'test_subtract_back1'),
    mutant('true_divide_back0', 'multiplies by y',
           'unbroadcast(grad_out / y, x)',
           'unbroadcast(grad_out * y, x)',
           {'test_train', 'test_true_divide_back0'}),
    mutant('true_divide_back0', 'divides by x',
           'unbroadcast(grad_out / y, x)',
           'unbroadcast(grad_out / x, x)',
           {'test_train', 'test_true_divide_back0'}),
    mutant('true_divide_back1', 'forgets the minus',
           'return unbroadcast(-grad_out * x / y ** 2, y)',
           'return unbroadcast(grad_out * x / y ** 2, y)',
           'test_true_divide_back1'),
    mutant('true_divide_back1', 'y instead of y squared',
           'return unbroadcast(-grad_out * x / y ** 2, y)',
           'return unbroadcast(-grad_out * x / y, y)',
           'test_true_divide_back1'),
    mutant('maximum_back0', 'ties go wholly to x',
           'share = (x > y) + 0.5 * (x == y)',
           'share = (x >= y)',
           'test_maximum_back0'),
    mutant('maximum_back0', 'no unbroadcast',
           'return unbroadcast(grad_out * share, x)',
           'return grad_out * share',
           'test_maximum_back0'),
    mutant('maximum_back1', 'ties go wholly to y',
           'share = (y > x) + 0.5 * (x == y)',
           'share = (y >= x)',
           'test_maximum_back1'),
    mutant('maximum_back1', 'ties get nothing',
           'share = (y > x) + 0.5 * (x == y)',
           'share = (y > x)',
           'test_maximum_back1'),
    mutant('_matmul2d', 'contracts the wrong index',
           'return x @ y',
           'return np.einsum("ij,kj->ik", x, y)',
           {'test_Linear', 'test_MLP', 'test__matmul2d', 'test_test', 'test_train'}),
    mutant('_matmul2d', 'elementwise product',
           'return x @ y',
           'return x * y',
           {'test_Linear', 'test_MLP', 'test__matmul2d', 'test_test', 'test_train'}),
    mutant('matmul2d_back0', 'forgets the transpose',
           'return grad_out @ y.T',
           'return grad_out @ y',
           {'test_matmul2d_back0', 'test_train'}),
    mutant('matmul2d_back0', 'ignores grad_out',
           'return grad_out @ y.T',
           'return np.ones_like(grad_out) @ y.T',
           {'test_matmul2d_back0', 'test_train'}),
    mutant('matmul2d_back1', 'forgets the transpose',
           'return x.T @ grad_out',
           'return x @ grad_out',
           {'test_matmul2d_back1', 'test_train'}),
    mutant('matmul2d_back1', 'ignores grad_out',
           'return x.T @ grad_out',
           'return x.T @ np.ones_like(grad_out)',
           {'test_matmul2d_back1', 'test_train'}),
    mutant('relu', 'maximum(x, 0.0): gradient 0.5 at 0',
           'return x * (x.array > 0)',
           'return maximum(x, 0.0)',
           'test_relu'),
    mutant('relu', 'gradient 1 at 0',
           'return x * (x.array > 0)',
           'return x * (x.array >= 0)',
           'test_relu'),
    mutant('Parameter', 'always requires grad',
           'super().__init__(tensor.array, requires_grad=requires_grad)',
           'super().__init__(tensor.array, requires_grad=True)',
           'test_Parameter'),
    mutant('Parameter', 'plain Tensor repr',
           'return f"Parameter containing:\\n{super().__repr__()}"',
           'return super().__repr__()',
           'test_Parameter'),
    mutant('Module', 'parameters ignores recurse=False',
           'if recurse:',
           'if True:',
           'test_Module'),
    mutant('Module', 'child modules are not registered',
           'elif isinstance(val, Module):',
           'elif False:',
           {'test_MLP', 'test_Module', 'test_Module__call', 'test_test', 'test_train'}),
    mutant('Module', '__call__ drops keyword arguments',
           'return self.forward(*args, **kwargs)',
           'return self.forward(*args)',
           'test_Module__call'),
    mutant('Linear', 'bound 1/in_features',
           'bound = 1 / np.sqrt(in_features)',
           'bound = 1 / in_features',
           'test_Linear__init'),
    mutant('Linear', 'forgets the bias in forward',
           'return out if self.bias is None else out + self.bias',
           'return out',
           {'test_Linear', 'test_MLP', 'test_test', 'test_train'}),
    mutant('Linear', 'normal instead of uniform init',
           'np.random.uniform(-bound, bound, (out_features, in_features))',
           'np.random.randn(out_features, in_features) * bound',
           'test_Linear__init'),
    mutant('ReLU', 'identity forward',
           'return relu(x)',
           'return x',
           {'test_MLP', 'test_ReLU', 'test_test', 'test_train'}),
    mutant('ReLU', 'forgets super().__init__()',
           'super().__init__()',
           'pass',
           {'test_MLP', 'test_ReLU', 'test_test', 'test_train'}),
    mutant('MLP', 'no ReLU after linear1',
           'x = self.relu1(self.linear1(x))',
           'x = self.linear1(x)',
           {'test_MLP', 'test_test', 'test_train'}),
    mutant('MLP', 'ReLU after the output layer',
           'return self.output(x)',
           'return self.relu2(self.output(x))',
           {'test_MLP', 'test_test', 'test_train'}),
    mutant('cross_entropy', 'indexes whole columns',
           'shifted[arange(0, n_batch), true_labels]',
           'shifted[:, true_labels]',
           {'test_cross_entropy', 'test_cross_entropy__grad', 'test_test', 'test_train'}),
    mutant('cross_entropy', 'wrong sign',
           'return log_norm - shifted[arange(0, n_batch), true_labels]',
           'return shifted[arange(0, n_batch), true_labels] - log_norm',
           {'test_cross_entropy', 'test_cross_entropy__grad', 'test_test', 'test_train'}),
    mutant('cross_entropy', 'normalises over the batch axis',
           'shifted.exp().sum(dim=1)',
           'shifted.exp().sum(dim=0)',
           {'test_cross_entropy', 'test_cross_entropy__grad', 'test_test', 'test_train'}),
    mutant('NoGrad', 'exit sets True instead of restoring',
           'grad_tracking_enabled = self.was_enabled',
           'grad_tracking_enabled = True',
           {'test_NoGrad', 'test_NoGrad__nested'}),
    mutant('NoGrad', 'previous value kept on the class (nesting breaks)',
           'self.was_enabled = grad_tracking_enabled',
           'NoGrad.was_enabled = grad_tracking_enabled',
           'test_NoGrad__nested'),
    mutant('NoGrad', 'swallows exceptions',
           'grad_tracking_enabled = self.was_enabled',
           'grad_tracking_enabled = self.was_enabled; return True',
           'test_NoGrad__nested'),
    mutant('SGD', 'ascends instead of descending',
           'p.add_(p.grad, -self.lr)',
           'p.add_(p.grad, self.lr)',
           {'test_SGD', 'test_train'}),
    mutant('SGD', 'keeps the iterator',
           'self.params = list(params)',
           'self.params = params',
           {'test_SGD', 'test_train'}),
    mutant('SGD', 'zero_grad does nothing',
           'p.grad = None',
           'pass',
           {'test_SGD', 'test_train'}),
    mutant('train', 'sums the batch loss instead of averaging',
           'loss = cross_entropy(logits, Tensor(labels)).sum() / len(labels)',
           'loss = cross_entropy(logits, Tensor(labels)).sum()',
           'test_train'),
    mutant('train', 'never zeroes the gradients',
           'optimizer.zero_grad()',
           'pass',
           'test_train'),
    mutant('test', 'averages the loss over batches',
           'return total_loss / count, correct / count',
           'return total_loss / len(test_loader), correct / count',
           'test_test'),
    mutant('test', 'argmax over the batch axis',
           'logits.argmax(dim=1)',
           'logits.argmax(dim=0)',
           'test_test'),
]

ALTERNATIVES = {
    # 1/x written as exp(-out), from the forward output log(x), instead of dividing by x
    "log_back": '''def log_back(grad_out: Arr, out: Arr, x: Arr) -> Arr:
    """Backward function of out = np.log(x): the gradient with respect to x."""
    return grad_out * np.exp(-out)
''',
    # one reduction: pad original's shape with leading 1s, sum every axis where the padded shape
    # is 1 and the broadcast one is not (keepdims), then reshape (the reference sums in two steps)
    "unbroadcast": '''def unbroadcast(broadcasted: Arr, original: Arr) -> Arr:
    """Sum `broadcasted` back down to the shape of `original`, undoing numpy broadcasting."""
    broadcasted = np.asarray(broadcasted)
    target = np.shape(original)
    padded = (1,) * (broadcasted.ndim - len(target)) + tuple(target)
    axes = tuple(i for i, (p, b) in enumerate(zip(padded, broadcasted.shape)) if p == 1 and b != 1)
    return np.reshape(np.sum(broadcasted, axis=axes, keepdims=True), target)
''',
    # x * y == y * x: reuse multiply_back0 with the roles of the arguments swapped
    "multiply_back1": '''def multiply_back1(grad_out: Arr, out: Arr, x: Union[Arr, float], y: Arr) -> Arr:
    """Backward function of out = x * y with respect to y."""
    return multiply_back0(grad_out, out, y, x)
''',
    # a tiny tape of (node, [(input, back function, forward args)]) walked from g downwards
    "forward_and_back": '''def forward_and_back(a: Arr, b: Arr, c: Arr) -> Tuple[Arr, Arr, Arr]:
    """Gradients of g = log(a * b * log(c)) with respect to a, b and c, via the backward functions."""
    d = a * b
    e = np.log(c)
    f = d * e
    g = np.log(f)
    tape = [
        ("g", g, [("f", log_back, (f,))]),
        ("f", f, [("d", multiply_back0, (d, e)), ("e", multiply_back1, (d, e))]),
        ("e", e, [("c", log_back, (c,))]),
        ("d", d, [("a", multiply_back0, (a, b)), ("b", multiply_back1, (a, b))]),
    ]
    grads = {"g": np.ones_like(g)}
    for name, value, inputs in tape:
        for input_name, back_fn, args in inputs:
            grads[input_name] = back_fn(grads[name], value, *args)
    return grads["a"], grads["b"], grads["c"]
''',
    # a nested table {forward_fn: {position: back_fn}} instead of one dict keyed by pairs
    "BackwardFuncLookup": '''class BackwardFuncLookup:
    """A table of backward functions, keyed by (forward function, argument position)."""

    def __init__(self) -> None:
        self.by_function: Dict[Callable, Dict[int, Callable]] = {}

    def add_back_func(self, forward_fn: Callable, arg_position: int, back_fn: Callable) -> None:
        """Record back_fn as the backward function of forward_fn's argument at arg_position."""
        self.by_function.setdefault(forward_fn, {})[arg_position] = back_fn

    def get_back_func(self, forward_fn: Callable, arg_position: int) -> Callable:
        """The backward function recorded for this pair; KeyError if there is none."""
        positions = self.by_function[forward_fn]
        return positions[arg_position]
''',
    # one pass over the arguments collects parents and arrays; the output's flags are set after
    "wrap_forward_fn": '''def wrap_forward_fn(numpy_func: Callable, is_differentiable: bool = True) -> Callable:
    """Turn a numpy function into one that takes and returns Tensors and records recipes."""

    def tensor_func(*args: Any, **kwargs: Any) -> Tensor:
        parents = {}
        plain = list(args)
        for position, arg in enumerate(args):
            if isinstance(arg, Tensor):
                parents[position] = arg
                plain[position] = arg.array
        plain = tuple(plain)
        result = Tensor(numpy_func(*plain, **kwargs))
        tracked = [t for t in parents.values() if t.requires_grad or t.recipe is not None]
        if is_differentiable and grad_tracking_enabled and tracked:
            result.requires_grad = True
            result.recipe = Recipe(numpy_func, plain, kwargs, parents)
        return result

    return tensor_func
''',
    # Kahn's algorithm instead of a recursive DFS: collect the reachable nodes with an explicit
    # stack, then emit nodes whose children are all out; leftovers mean a cycle
    "topological_sort": '''def topological_sort(node: Any, get_children: Callable) -> List[Any]:
    """Every node reachable from `node`, each after all its children (`node` last); ValueError on a cycle."""
    children = {}
    stack = [node]
    while stack:
        n = stack.pop()
        if n in children:
            continue
        children[n] = list(get_children(n))
        stack.extend(children[n])
    users = {n: [] for n in children}
    waiting = {}
    for n, kids in children.items():
        waiting[n] = len(kids)
        for kid in kids:
            users[kid].append(n)
    ready = [n for n in children if waiting[n] == 0]
    order = []
    head = 0
    while head < len(ready):
        n = ready[head]
        head += 1
        order.append(n)
        for user in users[n]:
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    if len(order) != len(children):
        raise ValueError("the graph has a cycle: no topological order exists")
    return order
''',
    # output-first order built directly: count each tensor's consumers, then release a parent
    # once all its consumers are placed (no call to topological_sort, no reversal)
    "sorted_computational_graph": '''def sorted_computational_graph(tensor: Tensor) -> List[Tensor]:
    """All tensors `tensor` depends on (itself included), output first, each before its parents."""
    def parents_of(t):
        return [] if t.recipe is None else list(t.recipe.parents.values())

    consumers = {tensor: 0}
    todo = [tensor]
    while todo:
        t = todo.pop()
        for p in parents_of(t):
            if p not in consumers:
                consumers[p] = 0
                todo.append(p)
            consumers[p] += 1
    order, ready = [], [tensor]
    while ready:
        t = ready.pop()
        order.append(t)
        for p in parents_of(t):
            consumers[p] -= 1
            if consumers[p] == 0:
                ready.append(p)
    return order
''',
    # skips parents that need no gradient and stops at leaves; np.add for the accumulation
    "backprop": '''def backprop(end_node: Tensor, end_grad: Optional[Tensor] = None) -> None:
    """Accumulate d(end_node)/d(leaf), weighted by end_grad (default ones), into each leaf's .grad."""
    first = np.ones(end_node.shape) if end_grad is None else np.asarray(end_grad.array)
    pending = {end_node: first}
    for node in sorted_computational_graph(end_node):
        if node not in pending:
            continue
        grad = pending.pop(node)
        if node.is_leaf:
            if node.requires_grad:
                node.grad = Tensor(grad if node.grad is None else np.add(node.grad.array, grad))
            continue
        recipe = node.recipe
        for position, parent in recipe.parents.items():
            if not parent.requires_grad and parent.recipe is None:
                continue
            back_fn = BACK_FUNCS.get_back_func(recipe.func, position)
            contribution = back_fn(grad, node.array, *recipe.args, **recipe.kwargs)
            pending[parent] = np.add(pending[parent], contribution) if parent in pending else contribution
''',
    # recomputes exp(x) instead of reusing the forward output
    "exp_back": '''def exp_back(grad_out: Arr, out: Arr, x: Arr) -> Arr:
    """Backward function of out = np.exp(x)."""
    return np.exp(x) * grad_out
''',
    # scatters positions in a loop instead of argsort
    "invert_transposition": '''def invert_transposition(axes: tuple) -> tuple:
    """The permutation that undoes np.transpose(x, axes)."""
    inverse = [0] * len(axes)
    for position, axis in enumerate(axes):
        inverse[axis] = position
    return tuple(inverse)
''',
    # np.moveaxis sends axis i back to axes[i], instead of transposing by the inverse
    "permute_back": '''def permute_back(grad_out: Arr, out: Arr, x: Arr, axes: tuple) -> Arr:
    """Backward function of out = np.transpose(x, axes)."""
    n = len(axes)
    return np.moveaxis(grad_out, list(range(n)), [int(a) for a in axes])
''',
    # pads x's shape with leading 1s and zips it with new_shape, instead of offset indexing
    "_expand": '''def _expand(x: Arr, new_shape: tuple) -> Arr:
    """Like torch's x.expand(*new_shape): broadcast to new_shape, where -1 keeps x's size."""
    padded = (1,) * (len(new_shape) - x.ndim) + tuple(x.shape)
    target = tuple(old if new == -1 else new for new, old in zip(new_shape, padded))
    return np.broadcast_to(x, target)
''',
    # axis-by-axis reductions in loops instead of calling unbroadcast
    "expand_back": '''def expand_back(grad_out: Arr, out: Arr, x: Arr, new_shape: tuple) -> Arr:
    """Backward function of out = _expand(x, new_shape)."""
    g = np.asarray(grad_out)
    while g.ndim > x.ndim:
        g = np.asarray(g.sum(axis=0))
    for axis, size in enumerate(x.shape):
        if size == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return np.reshape(g, x.shape)
''',
    # the add ufunc's reduce instead of np.sum
    "_sum": '''def _sum(x: Arr, dim=None, keepdim: bool = False) -> Arr:
    """Like torch's x.sum(dim, keepdim): dim is None, an int or a tuple of ints."""
    return np.add.reduce(x, axis=dim, keepdims=keepdim)
''',
    # reshapes grad_out to x's shape with 1s at the summed axes and adds it to zeros
    # (instead of expand_dims + broadcast_to)
    "sum_back": '''def sum_back(grad_out: Arr, out: Arr, x: Arr, dim=None, keepdim: bool = False) -> Arr:
    """Backward function of out = _sum(x, dim, keepdim)."""
    if dim is None:
        summed = set(range(x.ndim))
    else:
        dims = dim if isinstance(dim, (tuple, list)) else (dim,)
        summed = {int(d) % x.ndim for d in dims}
    kept = tuple(1 if i in summed else n for i, n in enumerate(x.shape))
    return np.zeros(x.shape) + np.reshape(grad_out, kept)
''',
    # recursive: a tuple is coerced part by part with the same function
    "coerce_index": '''def coerce_index(index):
    """The same index with every Tensor (on its own or inside a tuple) replaced by its array."""
    if isinstance(index, tuple):
        return tuple(coerce_index(part) for part in index)
    if isinstance(index, Tensor):
        return index.array
    return index
''',
    # indexes an array of flat positions, then np.bincount with the gradient as weights
    # (instead of np.add.at)
    "getitem_back": '''def getitem_back(grad_out: Arr, out: Arr, x: Arr, index) -> Arr:
    """Backward function of out = _getitem(x, index)."""
    positions = np.arange(x.size).reshape(x.shape)[coerce_index(index)]
    totals = np.bincount(np.ravel(positions), weights=np.ravel(np.asarray(grad_out, dtype=float)),
                         minlength=x.size)
    return totals.reshape(x.shape)
''',
    # x + y == y + x: add_back0 with the arguments swapped
    "add_back1": '''def add_back1(grad_out: Arr, out: Arr, x: Union[Arr, float], y: Arr) -> Arr:
    """Backward function of out = x + y with respect to y."""
    return add_back0(grad_out, out, y, x)
''',
    # d(x - y)/dx is d(x + y)/dx: reuse add_back0
    "subtract_back0": '''def subtract_back0(grad_out: Arr, out: Arr, x: Arr, y: Union[Arr, float]) -> Arr:
    """Backward function of out = x - y with respect to x."""
    return add_back0(grad_out, out, x, y)
''',
    # x - y == x + (-1) * y: the multiply rule with the factor -1
    "subtract_back1": '''def subtract_back1(grad_out: Arr, out: Arr, x: Union[Arr, float], y: Arr) -> Arr:
    """Backward function of out = x - y with respect to y."""
    return multiply_back1(grad_out, out, -1.0, y)
''',
    # x / y == x * (1 / y): the multiply rule with the reciprocal
    "true_divide_back0": '''def true_divide_back0(grad_out: Arr, out: Arr, x: Arr, y: Union[Arr, float]) -> Arr:
    """Backward function of out = x / y with respect to x."""
    return multiply_back0(grad_out, out, x, np.reciprocal(np.asarray(y, dtype=float)))
''',
    # -x / y**2 written as -out / y, from the forward output
    "true_divide_back1": '''def true_divide_back1(grad_out: Arr, out: Arr, x: Union[Arr, float], y: Arr) -> Arr:
    """Backward function of out = x / y with respect to y."""
    return unbroadcast(-(grad_out * out) / y, y)
''',
    # np.where on the comparisons instead of adding boolean masks
    "maximum_back0": '''def maximum_back0(grad_out: Arr, out: Arr, x: Arr, y: Union[Arr, float]) -> Arr:
    """Backward function of out = np.maximum(x, y) with respect to x (ties split 0.5 / 0.5)."""
    share = np.where(x == y, 0.5, np.where(x > y, 1.0, 0.0))
    return unbroadcast(grad_out * share, x)
''',
    # y won where the output equals y; halved where x equals y too
    "maximum_back1": '''def maximum_back1(grad_out: Arr, out: Arr, x: Union[Arr, float], y: Arr) -> Arr:
    """Backward function of out = np.maximum(x, y) with respect to y (ties split 0.5 / 0.5)."""
    share = (out == y) * np.where(x == y, 0.5, 1.0)
    return unbroadcast(grad_out * share, y)
''',
    "_matmul2d": '''def _matmul2d(x: Arr, y: Arr) -> Arr:
    """Matrix product of two 2-D arrays."""
    return np.einsum("ik,kj->ij", x, y)
''',
    "matmul2d_back0": '''def matmul2d_back0(grad_out: Arr, out: Arr, x: Arr, y: Arr) -> Arr:
    """Backward function of out = x @ y with respect to x."""
    return np.einsum("ij,kj->ik", grad_out, y)
''',
    "matmul2d_back1": '''def matmul2d_back1(grad_out: Arr, out: Arr, x: Arr, y: Arr) -> Arr:
    """Backward function of out = x @ y with respect to y."""
    return np.tensordot(x, grad_out, axes=([0], [0]))
''',
    # a wrapped numpy function of its own with a registered backward function (the exercise's
    # second option), instead of multiplying by a mask
    "relu": '''def _relu_array(x: Arr) -> Arr:
    return np.where(x > 0, x, 0.0)


def _relu_array_back(grad_out: Arr, out: Arr, x: Arr) -> Arr:
    return np.where(x > 0, grad_out, 0.0)


BACK_FUNCS.add_back_func(_relu_array, 0, _relu_array_back)
_relu_tensor = wrap_forward_fn(_relu_array)


def relu(x: Tensor) -> Tensor:
    """max(x, 0) elementwise; its gradient is 1 where x > 0 and 0 elsewhere (also at exactly 0)."""
    return _relu_tensor(x)
''',
    # generators, object.__setattr__ for the tables, a reassignment removes the name from the
    # other table, and a one-line repr
    "Module": '''class Module:
    """A minimal nn.Module: records Parameters and child Modules as they are assigned."""

    _modules: Dict[str, "Module"]
    _parameters: Dict[str, Parameter]

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_modules", {})

    def modules(self) -> Iterator["Module"]:
        """The direct child modules, in assignment order."""
        yield from list(vars(self)["_modules"].values())

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Own parameters, then (if recurse) each child's parameters, in assignment order."""
        yield from list(vars(self)["_parameters"].values())
        if recurse:
            for child in list(vars(self)["_modules"].values()):
                yield from child.parameters(recurse=True)

    def __setattr__(self, key: str, val: Any) -> None:
        """Record Parameters and Modules in their dicts; set anything else as a normal attribute."""
        tables = vars(self)
        if isinstance(val, Parameter):
            tables["_modules"].pop(key, None)
            tables["_parameters"][key] = val
        elif isinstance(val, Module):
            tables["_parameters"].pop(key, None)
            tables["_modules"][key] = val
        else:
            object.__setattr__(self, key, val)

    def __getattr__(self, key: str) -> Union[Parameter, "Module"]:
        """Called only when normal lookup fails: find a recorded Parameter or Module."""
        tables = vars(self)
        try:
            return tables["_parameters"][key]
        except KeyError:
            pass
        try:
            return tables["_modules"][key]
        except KeyError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {key!r}") from None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        forward = self.forward
        return forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("each Module subclass defines forward")

    def __repr__(self) -> str:
        inside = ", ".join(f"{name}={child!r}" for name, child in vars(self)["_modules"].items())
        return f"{type(self).__name__}({inside})"
''',
    # uniform samples as 2 * rand - 1 scaled by the bound; forward as (weight @ x.T).T
    "Linear": '''class Linear(Module):
    """x @ weight.T + bias, with torch's uniform initialisation."""

    weight: Parameter
    bias: Optional[Parameter]

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        bound = in_features ** -0.5
        self.weight = Parameter(Tensor(bound * (2 * np.random.rand(out_features, in_features) - 1)))
        if bias:
            self.bias = Parameter(Tensor(bound * (2 * np.random.rand(out_features) - 1)))
        else:
            self.bias = None

    def forward(self, x: Tensor) -> Tensor:
        """x: (batch, in_features) -> (batch, out_features)."""
        out = (self.weight @ x.T).T
        if self.bias is not None:
            out = out + self.bias
        return out
''',
    # layers assigned from a list, forward runs the children in order
    "MLP": '''class MLP(Module):
    """linear1 -> relu1 -> linear2 -> relu2 -> output."""

    def __init__(self, in_features: int = 64, hidden: int = 64, n_classes: int = 10):
        super().__init__()
        sizes = [(in_features, hidden), (hidden, hidden), (hidden, n_classes)]
        names = ["linear1", "relu1", "linear2", "relu2", "output"]
        layers = []
        for k, (n_in, n_out) in enumerate(sizes):
            layers.append(Linear(n_in, n_out))
            if k < len(sizes) - 1:
                layers.append(ReLU())
        for name, layer in zip(names, layers):
            setattr(self, name, layer)

    def forward(self, x: Tensor) -> Tensor:
        """x: (batch, in_features) -> logits (batch, n_classes)."""
        for layer in self.modules():
            x = layer(x)
        return x
''',
    # -log of the softmax probability of the true class (instead of log-sum-exp minus the logit)
    "cross_entropy": '''def cross_entropy(logits: Tensor, true_labels: Tensor) -> Tensor:
    """Per-example cross-entropy: logits (batch, n_classes), integer labels (batch,) -> losses (batch,)."""
    batch = logits.shape[0]
    top = np.max(logits.array, axis=1, keepdims=True)
    weights = (logits - top).exp()
    probs = weights / weights.sum(dim=1, keepdim=True)
    return -probs[arange(0, batch), true_labels].log()
''',
    # updates the arrays with numpy's in-place subtract instead of Tensor.add_
    "SGD": '''class SGD:
    """Plain stochastic gradient descent."""

    def __init__(self, params: Iterable[Parameter], lr: float):
        self.params = [*params]
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        with NoGrad():
            for p in self.params:
                if p.grad is None:
                    continue
                np.subtract(p.array, self.lr * p.grad.array, out=p.array)
''',
    # the batch mean as sum * (1 / n), the losses read with float(array)
    "train": '''def train(model: Module, train_loader: Iterable[Tuple[Arr, Arr]], optimizer: SGD, epoch: int) -> List[float]:
    """One epoch of training; returns the mean cross-entropy of each batch."""
    history = []
    for inputs, labels in train_loader:
        x, y = Tensor(inputs), Tensor(labels)
        optimizer.zero_grad()
        per_example = cross_entropy(model(x), y)
        loss = per_example.sum() * (1.0 / per_example.shape[0])
        loss.backward()
        optimizer.step()
        history.append(float(loss.array))
    print(f"epoch {epoch}: {len(history)} batches, mean loss {sum(history) / max(len(history), 1):.4f}")
    return history
''',
    # collects per-example losses and hits, concatenates them and averages once at the end
    "test": '''def test(model: Module, test_loader: Iterable[Tuple[Arr, Arr]]) -> Tuple[float, float]:
    """(mean cross-entropy per example, accuracy) over the whole test set, without recording recipes."""
    losses, hits = [], []
    with NoGrad():
        for inputs, labels in test_loader:
            logits = model(Tensor(inputs))
            losses.append(cross_entropy(logits, Tensor(labels)).array)
            hits.append(np.argmax(logits.array, axis=1) == np.asarray(labels))
    return float(np.concatenate(losses).mean()), float(np.concatenate(hits).mean())
''',
}
