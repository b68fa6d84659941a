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
