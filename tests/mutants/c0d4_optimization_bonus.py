"""Plausible bugs of day 0.4's bonus notebook (SGD with parameter groups).

Its three test cells: ``test_SGD__groups`` (every group sets its own lr; momentum and weight decay
come from the keywords), ``test_SGD__defaults`` (groups inheriting or overriding the keywords, and
plain iterables of tensors) and ``test_SGD__shared_param`` (distinct parameters listed in any order
are accepted; a tensor in two groups, or twice in one, raises ValueError).
"""

from . import mutant

_DECAY_THEN_MOMENTUM = """                if decay != 0:
                    g = g + decay * p
                if momentum != 0:
                    buffer = self.momentum_buffers.get(id(p))
                    buffer = g.clone() if buffer is None else momentum * buffer + g
                    self.momentum_buffers[id(p)] = buffer
                    g = buffer
"""
_MOMENTUM_THEN_DECAY = """                if momentum != 0:
                    buffer = self.momentum_buffers.get(id(p))
                    buffer = g.clone() if buffer is None else momentum * buffer + g
                    self.momentum_buffers[id(p)] = buffer
                    g = buffer
                if decay != 0:
                    g = g + decay * p
"""
_SEEN_ONCE = """        seen = set()
        for group in params:
"""
_SEEN_PER_GROUP = """        for group in params:
            seen = set()
"""
_WRAP_TENSORS = """        if not isinstance(params[0], dict):
            params = [{"params": params}]
"""

MUTANTS = [
    mutant("SGD", "every group steps with the keyword lr (the group's own lr is ignored)",
           'lr = group["lr"]', 'lr = self.defaults["lr"]', {"test_SGD__groups", "test_SGD__defaults"}),
    mutant("SGD", "demands the lr keyword even when every group sets its own lr",
           'if "lr" not in group:', 'if "lr" not in self.defaults:', "test_SGD__groups"),
    mutant("SGD", "keyword values win over the values a group sets (dicts merged the wrong way round)",
           "group = {**self.defaults, **group}", "group = {**group, **self.defaults}", "test_SGD__defaults"),
    mutant("SGD", "momentum always taken from the keyword, never from the group",
           'momentum = group["momentum"]', 'momentum = self.defaults["momentum"]', "test_SGD__defaults"),
    mutant("SGD", "weight decay always taken from the keyword, never from the group",
           'decay = group["weight_decay"]', 'decay = self.defaults["weight_decay"]', "test_SGD__defaults"),
    mutant("SGD", "keeps a group's params generator, which the duplicate check then empties",
           '            group["params"] = list(group["params"])\n', "",
           {"test_SGD__groups", "test_SGD__defaults"}),
    mutant("SGD", "a plain iterable of tensors is not turned into one group",
           _WRAP_TENSORS, "", "test_SGD__defaults"),
    mutant("SGD", "repeated tensors looked for only within each group, not across groups",
           _SEEN_ONCE, _SEEN_PER_GROUP, "test_SGD__shared_param"),
    mutant("SGD", "never checks for repeated tensors",
           "                if id(p) in seen:\n", "                if False:\n", "test_SGD__shared_param"),
    mutant("SGD", "weight decay added after the momentum update",
           _DECAY_THEN_MOMENTUM, _MOMENTUM_THEN_DECAY, {"test_SGD__groups", "test_SGD__defaults"}),
]

ALTERNATIVES = {
    # groups merged with setdefault, the repeat check on one flat list (set of tensors, which hash by
    # identity), state keyed by the tensor itself, in-place torch ops under inference_mode, and a
    # zero_grad that zeroes existing gradients in place
    "SGD": '''class SGD:
    """SGD with parameter groups (per-group lr, momentum, weight_decay), as torch.optim.SGD computes it."""

    def __init__(self, params, **kwargs):
        given = [entry for entry in params]
        if given and isinstance(given[0], torch.Tensor):
            given = [dict(params=given)]
        self.param_groups = []
        for entry in given:
            merged = dict(entry)
            for key, value in [*kwargs.items(), ("momentum", 0.0), ("weight_decay", 0.0)]:
                merged.setdefault(key, value)
            if "lr" not in merged:
                raise ValueError("every parameter group needs an lr")
            merged["params"] = [t for t in merged["params"]]
            self.param_groups.append(merged)
        every = [t for merged in self.param_groups for t in merged["params"]]
        if len(set(every)) != len(every):
            raise ValueError("the same tensor was given to SGD more than once")
        self.state = {}

    def zero_grad(self) -> None:
        for merged in self.param_groups:
            for t in merged["params"]:
                if t.grad is not None:
                    t.grad.zero_()

    def step(self) -> None:
        with torch.inference_mode():
            for merged in self.param_groups:
                for t in merged["params"]:
                    if t.grad is None:
                        continue
                    d = t.grad.add(t, alpha=merged["weight_decay"]) if merged["weight_decay"] else t.grad
                    if merged["momentum"]:
                        if t in self.state:
                            d = self.state[t].mul_(merged["momentum"]).add_(d)
                        else:
                            d = self.state[t] = d.clone()
                    t.add_(d, alpha=-merged["lr"])
''',
}
