"""Plausible bugs of day 0.4, drawn from the course plan and from common student mistakes."""

from . import mutant

_SGD_DECAY_THEN_MOMENTUM = """            if self.weight_decay != 0:
                g = g + self.weight_decay * p
            if self.momentum != 0:
                if self.buffers[i] is None:
                    self.buffers[i] = g.clone()
                else:
                    self.buffers[i] = self.momentum * self.buffers[i] + g
                g = self.buffers[i]
"""
_SGD_MOMENTUM_THEN_DECAY = """            if self.momentum != 0:
                if self.buffers[i] is None:
                    self.buffers[i] = g.clone()
                else:
                    self.buffers[i] = self.momentum * self.buffers[i] + g
                g = self.buffers[i]
            if self.weight_decay != 0:
                g = g + self.weight_decay * p
"""
_RECORD_THEN_STEP = """        points.append(point.detach().clone())
        optimizer.zero_grad()
        fn(point[0], point[1]).backward()
        optimizer.step()
"""
_STEP_THEN_RECORD = """        optimizer.zero_grad()
        fn(point[0], point[1]).backward()
        optimizer.step()
        points.append(point.detach().clone())
"""
_ADAMW_DECAY_FIRST = """            p *= 1 - self.lr * self.weight_decay
            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g**2
            m_hat = self.m[i] / (1 - self.beta1**self.t)
            v_hat = self.v[i] / (1 - self.beta2**self.t)
            p -= self.lr * m_hat / (v_hat.sqrt() + self.eps)
"""
_ADAMW_DECAY_LAST = """            self.m[i] = self.beta1 * self.m[i] + (1 - self.beta1) * g
            self.v[i] = self.beta2 * self.v[i] + (1 - self.beta2) * g**2
            m_hat = self.m[i] / (1 - self.beta1**self.t)
            v_hat = self.v[i] / (1 - self.beta2**self.t)
            p -= self.lr * m_hat / (v_hat.sqrt() + self.eps)
            p *= 1 - self.lr * self.weight_decay
"""
_STEP_COUNT_OUTSIDE = """        self.t += 1
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
"""
_STEP_COUNT_INSIDE = """        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            self.t += 1
"""
_SKIP_NONE = """            if p.grad is None:
                continue
"""
_COUNT_THEN_LOG = """                self.examples_seen += imgs.shape[0]
                wandb.log({"loss": loss.item()}, step=self.examples_seen)
"""
_LOG_THEN_COUNT = """                wandb.log({"loss": loss.item()}, step=self.examples_seen)
                self.examples_seen += imgs.shape[0]
"""
_FINISH_AT_END = """            wandb.log({"accuracy": accuracy}, step=self.examples_seen)
        wandb.finish()
"""
_FINISH_EACH_EPOCH = """            wandb.log({"accuracy": accuracy}, step=self.examples_seen)
            wandb.finish()
"""
_SWEEP_READ_THEN_BUILD = """        args = dataclasses.replace(
            args,
            learning_rate=wandb.config["learning_rate"],
            batch_size=wandb.config["batch_size"],
            epochs=wandb.config["epochs"],
        )
        ResNetTrainer.__init__(self, args)
"""
_SWEEP_BUILD_THEN_READ = """        ResNetTrainer.__init__(self, args)
        self.args = dataclasses.replace(
            args,
            learning_rate=wandb.config["learning_rate"],
            batch_size=wandb.config["batch_size"],
            epochs=wandb.config["epochs"],
        )
"""
_SWEEP_INIT_THEN_READ = """        wandb.init(project=args.wandb_project, name=args.wandb_name)
        args = dataclasses.replace(
            args,
            learning_rate=wandb.config["learning_rate"],
            batch_size=wandb.config["batch_size"],
            epochs=wandb.config["epochs"],
        )
"""
_SWEEP_READ_THEN_INIT = """        args = dataclasses.replace(
            args,
            learning_rate=wandb.config["learning_rate"],
            batch_size=wandb.config["batch_size"],
            epochs=wandb.config["epochs"],
        )
        wandb.init(project=args.wandb_project, name=args.wandb_name)
"""

SGD_CELLS = {"test_SGD", "test_SGD__weight_decay"}
RMSPROP_CELLS = {"test_RMSprop", "test_RMSprop__momentum_weight_decay"}
ADAM_CELLS = {"test_Adam", "test_Adam__weight_decay"}

MUTANTS = [
    # opt_fn_with_sgd
    mutant("opt_fn_with_sgd", "appends the parameter itself (every row becomes the final point)",
           "points.append(point.detach().clone())", "points.append(point.detach())", "test_opt_fn_with_sgd"),
    mutant("opt_fn_with_sgd", "never zeros the gradients (they accumulate)",
           "        optimizer.zero_grad()\n", "", "test_opt_fn_with_sgd"),
    mutant("opt_fn_with_sgd", "optimises the caller's xy in place",
           "point = xy.detach().clone().requires_grad_(True)", "point = xy", "test_opt_fn_with_sgd__input"),
    mutant("opt_fn_with_sgd", "records the point after the step (row 0 is not the start)",
           _RECORD_THEN_STEP, _STEP_THEN_RECORD, "test_opt_fn_with_sgd"),
    # SGD
    mutant("SGD", "weight decay added after the momentum update",
           _SGD_DECAY_THEN_MOMENTUM, _SGD_MOMENTUM_THEN_DECAY, "test_SGD__weight_decay"),
    mutant("SGD", "zero_grad leaves the gradients unchanged",
           "            p.grad = None", "            pass", SGD_CELLS),
    mutant("SGD", "keeps the params generator, which is empty after __init__ read it",
           "self.params = list(params)", "self.params = params", SGD_CELLS),
    mutant("SGD", "dampens the momentum buffer like an average",
           "self.momentum * self.buffers[i] + g", "self.momentum * self.buffers[i] + (1 - self.momentum) * g",
           SGD_CELLS),
    mutant("SGD", "does not skip parameters without a gradient",
           _SKIP_NONE, "", "test_SGD__weight_decay"),
    # RMSprop
    mutant("RMSprop", "momentum buffer over the raw gradient",
           "self.momentum * self.buffers[i] + u", "self.momentum * self.buffers[i] + g",
           "test_RMSprop__momentum_weight_decay"),
    mutant("RMSprop", "eps inside the square root",
           "(self.square_avg[i].sqrt() + self.eps)", "(self.square_avg[i] + self.eps).sqrt()", RMSPROP_CELLS),
    mutant("RMSprop", "zero_grad leaves the gradients unchanged",
           "            p.grad = None", "            pass", RMSPROP_CELLS),
    mutant("RMSprop", "weight decay applied to the parameter instead of the gradient",
           "g = g + self.weight_decay * p", "p -= self.lr * self.weight_decay * p",
           "test_RMSprop__momentum_weight_decay"),
    mutant("RMSprop", "alpha and 1 - alpha swapped in the running average",
           "self.alpha * self.square_avg[i] + (1 - self.alpha) * g**2",
           "(1 - self.alpha) * self.square_avg[i] + self.alpha * g**2", RMSPROP_CELLS),
    # Adam
    mutant("Adam", "no bias correction",
           "            m_hat = self.m[i] / (1 - self.beta1**self.t)\n"
           "            v_hat = self.v[i] / (1 - self.beta2**self.t)\n",
           "            m_hat = self.m[i]\n            v_hat = self.v[i]\n", ADAM_CELLS),
    mutant("Adam", "step counter off by one (t = 2 on the first step)",
           "self.t = 0", "self.t = 1", ADAM_CELLS),
    mutant("Adam", "eps inside the square root",
           "(v_hat.sqrt() + self.eps)", "(v_hat + self.eps).sqrt()", ADAM_CELLS),
    mutant("Adam", "decoupled (AdamW) weight decay instead of L2",
           "g = g + self.weight_decay * p", "p *= 1 - self.lr * self.weight_decay", "test_Adam__weight_decay"),
    mutant("Adam", "zero_grad leaves the gradients unchanged",
           "            p.grad = None", "            pass", ADAM_CELLS),
    # AdamW
    mutant("AdamW", "L2 weight decay (added to the gradient) instead of decoupled",
           "p *= 1 - self.lr * self.weight_decay", "g = g + self.weight_decay * p", "test_AdamW"),
    mutant("AdamW", "decays by weight_decay instead of lr * weight_decay",
           "p *= 1 - self.lr * self.weight_decay", "p *= 1 - self.weight_decay", "test_AdamW"),
    mutant("AdamW", "decay applied after the Adam update",
           _ADAMW_DECAY_FIRST, _ADAMW_DECAY_LAST, "test_AdamW"),
    mutant("AdamW", "step counter increased once per parameter",
           _STEP_COUNT_OUTSIDE, _STEP_COUNT_INSIDE, "test_AdamW"),
    # opt_fn
    mutant("opt_fn", "passes only the learning rate to the optimiser",
           "optimizer_class([point], **optimizer_hyperparams)",
           'optimizer_class([point], lr=optimizer_hyperparams["lr"])', "test_opt_fn"),
    mutant("opt_fn", "never zeros the gradients (they accumulate)",
           "        optimizer.zero_grad()\n", "", "test_opt_fn"),
    mutant("opt_fn", "optimises the caller's xy in place",
           "point = xy.detach().clone().requires_grad_(True)", "point = xy", "test_opt_fn"),
    # ResNetTrainerWandb
    mutant("ResNetTrainerWandb", "step counts batches, not examples",
           "self.examples_seen += imgs.shape[0]", "self.examples_seen += 1", "test_ResNetTrainerWandb__logging"),
    mutant("ResNetTrainerWandb", "counts a full batch for the smaller last batch",
           "self.examples_seen += imgs.shape[0]", "self.examples_seen += self.args.batch_size",
           "test_ResNetTrainerWandb__logging"),
    mutant("ResNetTrainerWandb", "logs the loss before counting the batch",
           _COUNT_THEN_LOG, _LOG_THEN_COUNT, "test_ResNetTrainerWandb__logging"),
    mutant("ResNetTrainerWandb", "never calls wandb.finish",
           "        wandb.finish()\n", "", "test_ResNetTrainerWandb"),
    mutant("ResNetTrainerWandb", "calls wandb.finish after every epoch",
           _FINISH_AT_END, _FINISH_EACH_EPOCH, "test_ResNetTrainerWandb"),
    mutant("ResNetTrainerWandb", "starts the run without the config",
           ", config=dataclasses.asdict(args))", ")", "test_ResNetTrainerWandb"),
    # sweep_config
    mutant("sweep_config", "minimises the accuracy",
           'goal="maximize"', 'goal="minimize"', "test_sweep_config"),
    mutant("sweep_config", "uniform learning rate instead of log-uniform",
           'distribution="log_uniform_values"', 'distribution="uniform"', "test_sweep_config"),
    mutant("sweep_config", "log_uniform with the values themselves (it takes logs)",
           'distribution="log_uniform_values"', 'distribution="log_uniform"', "test_sweep_config"),
    mutant("sweep_config", "a batch size missing",
           "values=[32, 64, 128]", "values=[32, 64]", "test_sweep_config"),
    # ResNetTrainerWandbSweeps
    mutant("ResNetTrainerWandbSweeps", "reads the sweep's values after building the optimiser",
           _SWEEP_READ_THEN_BUILD, _SWEEP_BUILD_THEN_READ, "test_ResNetTrainerWandbSweeps"),
    mutant("ResNetTrainerWandbSweeps", "forgets the batch size",
           '            batch_size=wandb.config["batch_size"],\n', "", "test_ResNetTrainerWandbSweeps"),
    mutant("ResNetTrainerWandbSweeps", "reads wandb.config before wandb.init",
           _SWEEP_INIT_THEN_READ, _SWEEP_READ_THEN_INIT, "test_ResNetTrainerWandbSweeps"),
]

ALTERNATIVES = {
    # the path is written into a preallocated tensor (row assignment copies) instead of stacking a list
    "opt_fn_with_sgd": '''def opt_fn_with_sgd(fn: Callable, xy: Tensor, lr: float = 0.001, momentum: float = 0.98,
                    n_iters: int = 100) -> Tensor:
    """Minimise fn(x, y) from xy with torch.optim.SGD; return the (n_iters, 2) path, start first."""
    leaf = torch.tensor(xy.detach().tolist(), dtype=xy.dtype, requires_grad=True)
    sgd = torch.optim.SGD(params=[leaf], lr=lr, momentum=momentum)
    path = torch.empty((n_iters, 2), dtype=xy.dtype)
    i = 0
    while i < n_iters:
        with torch.no_grad():
            path[i] = leaf
        sgd.zero_grad(set_to_none=True)
        x, y = leaf.unbind(0)
        fn(x, y).backward()
        sgd.step()
        i += 1
    return path
''',
    # in-place torch ops (add / mul_ / add_), per-parameter state in a dict filled lazily, and a
    # zero_grad that zeroes existing gradients in place (which the exercise allows)
    "SGD": '''class SGD:
    """Stochastic gradient descent with momentum and L2 weight decay, as torch.optim.SGD computes it."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        self.params = [p for p in params]
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.state = {}

    def zero_grad(self) -> None:
        for p in self.params:
            if p.grad is not None:
                p.grad.zero_()

    @torch.no_grad()
    def step(self) -> None:
        for k, p in enumerate(self.params):
            if p.grad is None:
                continue
            d = p.grad if self.weight_decay == 0 else torch.add(p.grad, p, alpha=self.weight_decay)
            if self.momentum:
                if k in self.state:
                    d = self.state[k].mul_(self.momentum).add_(d)
                else:
                    d = self.state[k] = torch.clone(d).detach()
            p.add_(d, alpha=-self.lr)
''',
    # torch's in-place kernels (addcmul_, addcdiv_) on lazily created state, instead of
    # out-of-place arithmetic on preallocated lists
    "RMSprop": '''class RMSprop:
    """RMSprop with optional momentum and L2 weight decay, as torch.optim.RMSprop computes it."""

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0):
        self.params = list(params)
        self.lr, self.alpha, self.eps = lr, alpha, eps
        self.weight_decay, self.momentum = weight_decay, momentum
        self.state = {}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        for p in self.params:
            if p.grad is None:
                continue
            st = self.state.setdefault(id(p), {"sq": torch.zeros_like(p), "buf": torch.zeros_like(p)})
            grad = p.grad
            if self.weight_decay:
                grad = grad.add(p, alpha=self.weight_decay)
            st["sq"].mul_(self.alpha).addcmul_(grad, grad, value=1 - self.alpha)
            denom = st["sq"].sqrt().add_(self.eps)
            if self.momentum > 0:
                st["buf"].mul_(self.momentum).addcdiv_(grad, denom)
                p.add_(st["buf"], alpha=-self.lr)
            else:
                p.addcdiv_(grad, denom, value=-self.lr)
''',
    # bias correction folded into the step size and eps (Kingma & Ba's "efficient" form:
    # lr * sqrt(1 - b2^t) / (1 - b1^t) and eps * sqrt(1 - b2^t)), with running powers of the betas
    "Adam": '''class Adam:
    """Adam with L2 weight decay added to the gradient, as torch.optim.Adam computes it."""

    def __init__(self, params, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        self.params = list(params)
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay
        self.beta1, self.beta2 = betas
        self.t = 0
        self.pow1, self.pow2 = 1.0, 1.0
        self.moments = {}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        self.pow1 *= self.beta1
        self.pow2 *= self.beta2
        root = math.sqrt(1.0 - self.pow2)
        step_size = self.lr * root / (1.0 - self.pow1)
        eps_hat = self.eps * root
        for k, p in enumerate(self.params):
            if p.grad is None:
                continue
            grad = p.grad + self.weight_decay * p if self.weight_decay else p.grad
            if k not in self.moments:
                self.moments[k] = (torch.zeros_like(p), torch.zeros_like(p))
            m, v = self.moments[k]
            m.lerp_(grad, 1.0 - self.beta1)
            v.mul_(self.beta2).add_(grad * grad, alpha=1.0 - self.beta2)
            p.sub_(step_size * m / (v.sqrt() + eps_hat))
''',
    # torch-style in-place kernels: lerp_ for m, addcmul_ for v, a divided sqrt for the second
    # correction and one addcdiv_ for the update
    "AdamW": '''class AdamW:
    """Adam with decoupled weight decay, as torch.optim.AdamW computes it."""

    def __init__(self, params, lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01):
        self.params = list(params)
        self.lr, self.eps, self.weight_decay = lr, eps, weight_decay
        self.beta1, self.beta2 = betas
        self.t = 0
        self.exp_avg = {}
        self.exp_avg_sq = {}

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        correction1 = 1 - self.beta1 ** self.t
        correction2_root = (1 - self.beta2 ** self.t) ** 0.5
        for p in self.params:
            if p.grad is None:
                continue
            key = id(p)
            if key not in self.exp_avg:
                self.exp_avg[key] = torch.zeros_like(p)
                self.exp_avg_sq[key] = torch.zeros_like(p)
            m, v = self.exp_avg[key], self.exp_avg_sq[key]
            p.mul_(1 - self.lr * self.weight_decay)
            m.lerp_(p.grad, 1 - self.beta1)
            v.mul_(self.beta2).addcmul_(p.grad, p.grad, value=1 - self.beta2)
            denom = (v.sqrt() / correction2_root).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / correction1)
''',
    # rows appended to a tensor with torch.cat, the loss evaluated on the unbound coordinates
    "opt_fn": '''def opt_fn(fn: Callable, xy: Tensor, optimizer_class, optimizer_hyperparams: dict,
           n_iters: int = 100) -> Tensor:
    """Minimise fn(x, y) from xy with optimizer_class(**optimizer_hyperparams); the (n_iters, 2) path."""
    current = xy.clone().detach()
    current.requires_grad_()
    opt = optimizer_class([current], **dict(optimizer_hyperparams))
    history = xy.new_zeros((0, 2))
    for _ in range(n_iters):
        history = torch.cat([history, current.detach().reshape(1, 2).clone()])
        opt.zero_grad()
        loss = fn(*current.unbind())
        loss.backward()
        opt.step()
    return history
''',
    # counts len(labels), logs float(loss), and iterates epochs with a while loop
    "ResNetTrainerWandb": '''class ResNetTrainerWandb(ResNetTrainer):
    """ResNetTrainer that logs the loss per step and the accuracy per epoch to Weights & Biases."""

    def __init__(self, args: ResNetTrainingArgsWandb):
        super().__init__(args)
        config = {field.name: getattr(args, field.name) for field in dataclasses.fields(args)}
        wandb.init(project=args.wandb_project, name=args.wandb_name, config=config)
        wandb.watch(self.model)
        self.examples_seen = 0

    def train(self) -> None:
        epochs_done = 0
        while epochs_done < self.args.epochs:
            for batch in self.train_loader():
                imgs, labels = batch
                batch_loss = float(self.training_step(imgs, labels))
                self.examples_seen = self.examples_seen + len(labels)
                wandb.log(dict(loss=batch_loss), step=self.examples_seen)
            wandb.log(dict(accuracy=self.evaluate()), step=self.examples_seen)
            epochs_done += 1
        wandb.finish()
''',
    # a dict literal with epochs as an int_uniform range and the learning rate in the older
    # log_uniform form (min and max given as natural logs)
    "sweep_config": '''sweep_config = {
    "method": "random",
    "metric": {"goal": "maximize", "name": "accuracy"},
    "parameters": {
        "batch_size": {"values": [32, 64, 128]},
        "epochs": {"distribution": "int_uniform", "min": 2, "max": 3},
        "learning_rate": {"distribution": "log_uniform", "min": math.log(1e-4), "max": math.log(1e-1)},
    },
}
''',
    # builds a new args object from a dict of all fields instead of dataclasses.replace
    "ResNetTrainerWandbSweeps": '''class ResNetTrainerWandbSweeps(ResNetTrainerWandb):
    """ResNetTrainerWandb whose learning rate, batch size and epochs come from wandb.config."""

    def __init__(self, args: ResNetTrainingArgsWandb):
        wandb.init(project=args.wandb_project, name=args.wandb_name)
        picked = {key: wandb.config[key] for key in ("learning_rate", "batch_size", "epochs")}
        fields = dataclasses.asdict(args)
        fields.update(picked)
        ResNetTrainer.__init__(self, type(args)(**fields))
        wandb.watch(self.model, log="all")
        self.examples_seen = 0
''',
}
