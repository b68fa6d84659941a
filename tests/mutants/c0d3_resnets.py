"""Plausible bugs of day 0.3, drawn from the course plan and from common student mistakes.

The ResNet exercises build on each other: ResidualBlock uses Sequential and BatchNorm2d,
BlockGroup uses ResidualBlock, ResNet34 uses all of them and AveragePool, and
get_resnet_for_feature_extraction and ResNetTrainer build a ResNet34. A bug in an earlier module
also fails the later tests that reach it (a forward pass, copying weights by position, or the
state_dict layout), so those cells are listed too.
"""

from . import mutant

# Tests that copy weights into (or compare the layout of) a ResNet34 or one of its parts.
BLOCK_WEIGHTS = {"test_ResidualBlock__weights", "test_BlockGroup", "test_ResNet34__pretrained"}
RESNET_ALL = {"test_ResNet34", "test_ResNet34__pretrained", "test_get_resnet_for_feature_extraction",
              "test_ResNetTrainer"}

MUTANTS = [
    # ConvNet
    mutant("ConvNet", "no ReLU between the two linear layers",
           "hidden = F.relu(self.fc1(self.flatten(x)))", "hidden = self.fc1(self.flatten(x))",
           "test_ConvNet__forward"),
    mutant("ConvNet", "convolutions with a bias",
           "nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1, bias=False)",
           "nn.Conv2d(1, 32, kernel_size=3, stride=1, padding=1, bias=True)",
           {"test_ConvNet", "test_ConvNet__forward"}),
    mutant("ConvNet", "average pooling instead of max pooling",
           "self.pool = nn.MaxPool2d(kernel_size=2, stride=2)", "self.pool = nn.AvgPool2d(kernel_size=2, stride=2)",
           "test_ConvNet__forward"),
    # ConvNetTrainer (validation)
    mutant("ConvNetTrainer", "mean of the per-batch accuracies",
           "accuracy = sum(c for c, _ in counts) / sum(n for _, n in counts)",
           "accuracy = sum(c / n for c, n in counts) / len(counts)", "test_ConvNetTrainer"),
    mutant("ConvNetTrainer", "accuracy of the last batch only",
           "accuracy = sum(c for c, _ in counts) / sum(n for _, n in counts)",
           "accuracy = counts[-1][0] / counts[-1][1]", "test_ConvNetTrainer"),
    mutant("ConvNetTrainer", "validates in training mode (no eval())",
           "self.model.eval()", "pass", "test_ConvNetTrainer__modes"),
    mutant("ConvNetTrainer", "leaves the model in eval mode after validating",
           "self.model.train()", "pass", "test_ConvNetTrainer__modes"),
    mutant("ConvNetTrainer", "validation builds a graph (no torch.no_grad())",
           "with torch.no_grad():", "if True:", "test_ConvNetTrainer__modes"),
    # Sequential
    mutant("Sequential", "negative indices not supported by __getitem__",
           "return self._modules[str(index % len(self._modules))]", "return self._modules[str(index)]",
           {"test_Sequential", "test_ResNetTrainer"}),
    mutant("Sequential", "__setitem__ with a negative index adds a module instead of replacing one",
           "key = str(index % len(self._modules))", "key = str(index)",
           {"test_Sequential__setitem", "test_get_resnet_for_feature_extraction", "test_ResNetTrainer"}),
    # BatchNorm2d
    mutant("BatchNorm2d", "biased variance in the running statistics",
           "unbiased_var = batch_var * n / (n - 1)", "unbiased_var = batch_var",
           "test_BatchNorm2d__running_stats"),
    mutant("BatchNorm2d", "updates the running statistics in eval mode too",
           "if self.training:  # the running statistics move only in training mode", "if True:",
           {"test_BatchNorm2d__eval"} | BLOCK_WEIGHTS),
    mutant("BatchNorm2d", "running mean stored as a plain attribute (not a buffer)",
           'self.register_buffer("running_mean", torch.zeros(num_features))',
           "self.running_mean = torch.zeros(num_features)",
           {"test_BatchNorm2d", "test_BatchNorm2d__eval", "test_ResidualBlock"} | BLOCK_WEIGHTS | RESNET_ALL),
    mutant("BatchNorm2d", "normalises over all dimensions (one mean for every channel)",
           "dims = (0, 2, 3)", "dims = (0, 1, 2, 3)",
           {"test_BatchNorm2d", "test_BatchNorm2d__running_stats", "test_BatchNorm2d__eval",
            "test_ResidualBlock__weights"}),
    # AveragePool
    mutant("AveragePool", "keeps the pooled dimensions, (b, c, 1, 1)",
           "return x.mean(dim=(2, 3))", "return x.mean(dim=(2, 3), keepdim=True)",
           {"test_AveragePool", "test_ResNet34", "test_ResNet34__pretrained",
            "test_get_resnet_for_feature_extraction"}),
    mutant("AveragePool", "maximum instead of mean",
           "return x.mean(dim=(2, 3))", "return x.amax(dim=(2, 3))",
           {"test_AveragePool", "test_ResNet34__pretrained"}),
    # ResidualBlock
    mutant("ResidualBlock", "ReLU before the addition",
           "return self.relu(self.left(x) + self.right(x))", "return self.relu(self.left(x)) + self.right(x)",
           BLOCK_WEIGHTS),
    mutant("ResidualBlock", "projection branch without the stride",
           "nn.Conv2d(in_feats, out_feats, kernel_size=1, stride=first_stride, bias=False)",
           "nn.Conv2d(in_feats, out_feats, kernel_size=1, bias=False)",
           {"test_ResidualBlock", "test_get_resnet_for_feature_extraction"} | BLOCK_WEIGHTS | {"test_ResNet34"}),
    mutant("ResidualBlock", "stride on the second convolution instead of the first",
           "kernel_size=3, stride=first_stride, padding=1, bias=False),\n"
           "            BatchNorm2d(out_feats),\n"
           "            nn.ReLU(),\n"
           "            nn.Conv2d(out_feats, out_feats, kernel_size=3, stride=1,",
           "kernel_size=3, stride=1, padding=1, bias=False),\n"
           "            BatchNorm2d(out_feats),\n"
           "            nn.ReLU(),\n"
           "            nn.Conv2d(out_feats, out_feats, kernel_size=3, stride=first_stride,",
           BLOCK_WEIGHTS),
    mutant("ResidualBlock", "right branch declared before the left one (breaks copying by position)",
           "        self.left = Sequential(\n"
           "            nn.Conv2d(in_feats, out_feats, kernel_size=3, stride=first_stride, padding=1, bias=False),\n"
           "            BatchNorm2d(out_feats),\n"
           "            nn.ReLU(),\n"
           "            nn.Conv2d(out_feats, out_feats, kernel_size=3, stride=1, padding=1, bias=False),\n"
           "            BatchNorm2d(out_feats),\n"
           "        )\n"
           "        if first_stride == 1 and in_feats == out_feats:\n"
           "            self.right = nn.Identity()\n"
           "        else:\n"
           "            self.right = Sequential(\n"
           "                nn.Conv2d(in_feats, out_feats, kernel_size=1, stride=first_stride, bias=False),\n"
           "                BatchNorm2d(out_feats),\n"
           "            )\n",
           "        if first_stride == 1 and in_feats == out_feats:\n"
           "            self.right = nn.Identity()\n"
           "        else:\n"
           "            self.right = Sequential(\n"
           "                nn.Conv2d(in_feats, out_feats, kernel_size=1, stride=first_stride, bias=False),\n"
           "                BatchNorm2d(out_feats),\n"
           "            )\n"
           "        self.left = Sequential(\n"
           "            nn.Conv2d(in_feats, out_feats, kernel_size=3, stride=first_stride, padding=1, bias=False),\n"
           "            BatchNorm2d(out_feats),\n"
           "            nn.ReLU(),\n"
           "            nn.Conv2d(out_feats, out_feats, kernel_size=3, stride=1, padding=1, bias=False),\n"
           "            BatchNorm2d(out_feats),\n"
           "        )\n",
           BLOCK_WEIGHTS | RESNET_ALL),
    # BlockGroup
    mutant("BlockGroup", "every block gets the first stride",
           "ResidualBlock(out_feats, out_feats) for _ in", "ResidualBlock(out_feats, out_feats, first_stride) for _ in",
           {"test_BlockGroup"} | RESNET_ALL),
    mutant("BlockGroup", "one block too many",
           "for _ in range(n_blocks - 1)]", "for _ in range(n_blocks)]",
           {"test_BlockGroup"} | RESNET_ALL),
    mutant("BlockGroup", "every block takes in_feats channels",
           "ResidualBlock(out_feats, out_feats) for _ in", "ResidualBlock(in_feats, out_feats) for _ in",
           {"test_BlockGroup"} | RESNET_ALL),
    # ResNet34
    mutant("ResNet34", "stem convolution with padding 1 instead of 3",
           "nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)",
           "nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=1, bias=False)",
           "test_ResNet34__pretrained"),
    mutant("ResNet34", "no max-pool in the stem",
           "            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),\n", "",
           "test_ResNet34__pretrained"),
    mutant("ResNet34", "each group takes its own output width as input width",
           "in_features = [stem] + list(out_features_per_group[:-1])", "in_features = list(out_features_per_group)",
           RESNET_ALL),
    mutant("ResNet34", "first strides ignored (every group has stride 1)",
           ", first_strides_per_group)", ", [1] * len(n_blocks_per_group))",
           "test_ResNet34__pretrained"),
    # prepare_data
    mutant("prepare_data", "RGBA and greyscale images not converted to RGB",
           'transform(image.convert("RGB"))', "transform(image)", "test_prepare_data"),
    mutant("prepare_data", "resizes the shorter side only (keeps the aspect ratio)",
           "transforms.Resize((IMAGE_SIZE, IMAGE_SIZE))", "transforms.Resize(IMAGE_SIZE)", "test_prepare_data"),
    mutant("prepare_data", "no normalisation",
           "        transforms.Normalize(mean=IMAGENET_MEAN, std=IMAGENET_STD),\n", "", "test_prepare_data"),
    mutant("prepare_data", "resizes without antialiasing",
           "transforms.Resize((IMAGE_SIZE, IMAGE_SIZE))", "transforms.Resize((IMAGE_SIZE, IMAGE_SIZE), antialias=False)",
           "test_prepare_data"),
    # predict
    mutant("predict", "predicts in training mode (no eval())", "model.eval()", "pass", "test_predict"),
    mutant("predict", "returns the logits", "return logits.argmax(dim=-1)", "return logits", "test_predict"),
    mutant("predict", "builds a graph (no torch.no_grad())", "with torch.no_grad():", "if True:", "test_predict"),
    # hook_check_for_nan_output
    mutant("hook_check_for_nan_output", "checks the input instead of the output",
           "torch.isnan(output).any()", "torch.isnan(input[0]).any()", "test_hook_check_for_nan_output"),
    mutant("hook_check_for_nan_output", "raises only when every value is NaN",
           "torch.isnan(output).any()", "torch.isnan(output).all()", "test_hook_check_for_nan_output"),
    mutant("hook_check_for_nan_output", "raises for infinities too",
           "torch.isnan(output).any()", "(~torch.isfinite(output)).any()", "test_hook_check_for_nan_output"),
    mutant("hook_check_for_nan_output", "raises the wrong exception type",
           "raise ValueError(", "raise RuntimeError(", "test_hook_check_for_nan_output"),
    # get_resnet_for_feature_extraction
    mutant("get_resnet_for_feature_extraction", "freezes after replacing the head (the head is frozen too)",
           "    model.requires_grad_(False)\n"
           "    model.out_layers[-1] = nn.Linear(model.out_features_per_group[-1], n_classes)\n",
           "    model.out_layers[-1] = nn.Linear(model.out_features_per_group[-1], n_classes)\n"
           "    model.requires_grad_(False)\n",
           "test_get_resnet_for_feature_extraction"),
    mutant("get_resnet_for_feature_extraction", "new head with 1000 input features",
           "nn.Linear(model.out_features_per_group[-1], n_classes)", "nn.Linear(1000, n_classes)",
           {"test_get_resnet_for_feature_extraction", "test_ResNetTrainer"}),
    mutant("get_resnet_for_feature_extraction", "pretrained weights not copied",
           "model = copy_weights(ResNet34(), pretrained_resnet34())", "model = ResNet34()",
           "test_get_resnet_for_feature_extraction"),
    # ResNetTrainer
    mutant("ResNetTrainer", "optimizer over every parameter of the model",
           "torch.optim.Adam(self.model.out_layers[-1].parameters(),", "torch.optim.Adam(self.model.parameters(),",
           "test_ResNetTrainer"),
    mutant("ResNetTrainer", "train_dataloader does not switch to training mode",
           "        self.model.train()\n", "", "test_ResNetTrainer"),
    mutant("ResNetTrainer", "val_dataloader does not switch to eval mode",
           "        self.model.eval()\n", "", "test_ResNetTrainer"),
]

# Correct solutions written differently from the reference (see tests/mutants/__init__.py).
ALTERNATIVES = {
    # two nn.Sequential stages (features, classifier) instead of named layers and F.relu
    "ConvNet": '''class ConvNet(nn.Module):
    """Two conv-ReLU-maxpool stages, then two linear layers: (b, 1, 28, 28) -> (b, 10) logits."""

    def __init__(self):
        super().__init__()
        stages = []
        for c_in, c_out in ((1, 32), (32, 64)):
            stages += [nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False), nn.ReLU(), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*stages)
        self.classifier = nn.Sequential(nn.Flatten(start_dim=1), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x: Float[Tensor, "b 1 28 28"]) -> Float[Tensor, "b 10"]:
        return self.classifier(self.features(x))
''',
    # running totals under inference_mode, max(...).indices, train(False)/train(True)
    "ConvNetTrainer": '''class ConvNetTrainer:
    """Trains a ConvNet on (a subset of) MNIST and measures it on the test split after every epoch."""

    def __init__(self, args: ConvNetTrainingArgs):
        self.args = args
        self.model = ConvNet().to(DEVICE)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=args.learning_rate)
        self.trainset, self.testset = get_mnist(subset=args.subset)
        self.logged_variables = {"loss": [], "accuracy": []}

    def _shared_train_val_step(self, imgs: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        imgs, labels = imgs.to(DEVICE), labels.to(DEVICE)
        return self.model(imgs), labels

    def training_step(self, imgs: Tensor, labels: Tensor) -> Tensor:
        logits, labels = self._shared_train_val_step(imgs, labels)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        self.optimizer.step()
        self.optimizer.zero_grad()
        return loss

    def validation_step(self, imgs: Tensor, labels: Tensor) -> Tensor:
        """The number of correctly classified images in this batch."""
        logits, labels = self._shared_train_val_step(imgs, labels)
        guesses = logits.max(dim=-1).indices
        return torch.eq(guesses, labels).long().sum()

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.trainset, batch_size=self.args.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.testset, batch_size=self.args.batch_size, shuffle=False)

    def train(self) -> None:
        for epoch in range(self.args.epochs):
            for imgs, labels in self.train_dataloader():
                loss = self.training_step(imgs, labels)
                self.logged_variables["loss"].append(loss.item())
            self.model.train(False)
            right, seen = 0, 0
            with torch.inference_mode():
                for imgs, labels in self.val_dataloader():
                    right += self.validation_step(imgs, labels).item()
                    seen += labels.shape[0]
            self.model.train(True)
            self.logged_variables["accuracy"].append(right / seen)
''',
    # add_module for registration, list positions for indexing, functools.reduce in forward
    "Sequential": '''class Sequential(nn.Module):
    """Apply the given modules one after the other; they are registered as "0", "1", ..."""

    _modules: dict[str, nn.Module]

    def __init__(self, *modules: nn.Module):
        super().__init__()
        for position, layer in enumerate(modules):
            self.add_module(f"{position}", layer)

    def __getitem__(self, index: int) -> nn.Module:
        return list(self._modules.values())[index]

    def __setitem__(self, index: int, module: nn.Module) -> None:
        name = list(self._modules.keys())[index]
        self.add_module(name, module)

    def forward(self, x: Tensor) -> Tensor:
        return functools.reduce(lambda acc, layer: layer(acc), self._modules.values(), x)
''',
    # statistics from a (c, n) view by hand, running statistics updated in place with lerp_
    "BatchNorm2d": '''class BatchNorm2d(nn.Module):
    """Batch normalisation over (b, h, w) for each channel, with running statistics kept in buffers."""

    running_mean: Float[Tensor, "num_features"]
    running_var: Float[Tensor, "num_features"]
    num_batches_tracked: Int[Tensor, ""]

    def __init__(self, num_features: int, eps: float = 1e-05, momentum: float = 0.1):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.weight = nn.Parameter(torch.full((num_features,), 1.0))
        self.bias = nn.Parameter(torch.full((num_features,), 0.0))
        self.register_buffer("running_mean", torch.full((num_features,), 0.0))
        self.register_buffer("running_var", torch.full((num_features,), 1.0))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x: Float[Tensor, "b c h w"]) -> Float[Tensor, "b c h w"]:
        per_channel = x.transpose(0, 1).reshape(x.shape[1], -1)
        count = per_channel.shape[1]
        if self.training:
            mu = per_channel.sum(dim=1) / count
            squares = ((per_channel - mu[:, None]) ** 2).sum(dim=1)
            sigma2 = squares / count
            with torch.no_grad():
                self.running_mean.lerp_(mu, self.momentum)
                self.running_var.lerp_(squares / (count - 1), self.momentum)
                self.num_batches_tracked.add_(1)
        else:
            mu, sigma2 = self.running_mean, self.running_var
        shape = (1, -1, 1, 1)
        normalised = (x - mu.view(shape)) * torch.rsqrt(sigma2.view(shape) + self.eps)
        return normalised * self.weight.view(shape) + self.bias.view(shape)

    def extra_repr(self) -> str:
        return ", ".join([f"{key}={getattr(self, key)}" for key in ["num_features", "eps", "momentum"]])
''',
    # flatten the image axes, then one mean
    "AveragePool": '''class AveragePool(nn.Module):
    """Mean over height and width: (b, c, h, w) -> (b, c)."""

    def forward(self, x: Float[Tensor, "b c h w"]) -> Float[Tensor, "b c"]:
        return x.flatten(start_dim=2).mean(dim=-1)
''',
    # the identity branch is an empty Sequential; the final ReLU is torch.relu
    "ResidualBlock": '''class ResidualBlock(nn.Module):
    """A basic ResNet block: relu(left(x) + right(x)), the right branch an identity or a 1x1 projection."""

    def __init__(self, in_feats: int, out_feats: int, first_stride: int = 1):
        super().__init__()
        layers = []
        for c_in, stride in ((in_feats, first_stride), (out_feats, 1)):
            layers += [nn.Conv2d(c_in, out_feats, 3, stride, 1, bias=False), BatchNorm2d(out_feats), nn.ReLU()]
        self.left = Sequential(*layers[:-1])
        needs_projection = first_stride != 1 or in_feats != out_feats
        self.right = Sequential(*([nn.Conv2d(in_feats, out_feats, 1, first_stride, bias=False),
                                   BatchNorm2d(out_feats)] if needs_projection else []))

    def forward(self, x: Float[Tensor, "b in_feats h w"]) -> Float[Tensor, "b out_feats oh ow"]:
        return torch.relu(self.left(x) + self.right(x))
''',
    # blocks registered one by one with add_module, forward loops over the children
    "BlockGroup": '''class BlockGroup(nn.Module):
    """n_blocks residual blocks; only the first changes the channel count and applies first_stride."""

    def __init__(self, n_blocks: int, in_feats: int, out_feats: int, first_stride: int = 1):
        super().__init__()
        channels, stride = in_feats, first_stride
        for k in range(n_blocks):
            self.add_module(f"block_{k}", ResidualBlock(channels, out_feats, stride))
            channels, stride = out_feats, 1

    def forward(self, x: Float[Tensor, "b in_feats h w"]) -> Float[Tensor, "b out_feats oh ow"]:
        for block in self.children():
            x = block(x)
        return x
''',
    # groups built in a loop that carries the channel count; forward loops over the three stages
    "ResNet34": '''class ResNet34(nn.Module):
    """ResNet34, laid out like torchvision's resnet34: in_layers, residual_layers, out_layers."""

    def __init__(
        self,
        n_blocks_per_group=[3, 4, 6, 3],
        out_features_per_group=[64, 128, 256, 512],
        first_strides_per_group=[1, 2, 2, 2],
        n_classes=1000,
    ):
        super().__init__()
        self.n_blocks_per_group = n_blocks_per_group
        self.out_features_per_group = out_features_per_group
        self.first_strides_per_group = first_strides_per_group
        self.n_classes = n_classes
        self.in_layers = Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), BatchNorm2d(64), nn.ReLU(),
                                    nn.MaxPool2d(3, 2, 1))
        groups, width = [], 64
        for k, n_blocks in enumerate(n_blocks_per_group):
            groups.append(BlockGroup(n_blocks, width, out_features_per_group[k], first_strides_per_group[k]))
            width = out_features_per_group[k]
        self.residual_layers = Sequential(*groups)
        self.out_layers = Sequential(AveragePool(), nn.Linear(width, n_classes))

    def forward(self, x: Float[Tensor, "b 3 h w"]) -> Float[Tensor, "b n_classes"]:
        for stage in (self.in_layers, self.residual_layers, self.out_layers):
            x = stage(x)
        return x
''',
    # resize the PIL image first (the text accepts it), normalise by hand with broadcasting
    "prepare_data": '''def prepare_data(images: list) -> Float[Tensor, "batch 3 224 224"]:
    """PIL images -> one normalised batch of shape (len(images), 3, IMAGE_SIZE, IMAGE_SIZE)."""
    mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
    batch = []
    for image in images:
        small = image.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE), Image.BILINEAR)
        pixels = torch.from_numpy(np.array(small, dtype=np.float32)).permute(2, 0, 1) / 255.0
        batch.append((pixels - mean) / std)
    return torch.stack(batch)
''',
    # train(False) and inference_mode; topk for the best class
    "predict": '''def predict(model: nn.Module, images: Float[Tensor, "batch rgb h w"]) -> Int[Tensor, "batch"]:
    """The predicted class (argmax of the logits) of each image, with the model in eval mode."""
    model.train(False)
    with torch.inference_mode():
        best = model(images).topk(1, dim=1).indices
    return best.squeeze(1)
''',
    # NaN is the only value not equal to itself
    "hook_check_for_nan_output": '''def hook_check_for_nan_output(module: nn.Module, input: tuple, output: Tensor) -> None:
    """Forward hook: raise ValueError if the module's output contains a NaN."""
    if bool((output != output).any()):
        raise ValueError(f"NaN in the output of {module.__class__.__name__}")
''',
    # freeze parameter by parameter; the head is replaced through a positive index
    "get_resnet_for_feature_extraction": '''def get_resnet_for_feature_extraction(n_classes: int) -> ResNet34:
    """A ResNet34 with the pretrained weights, frozen, and a new trainable final layer with n_classes outputs."""
    model = ResNet34()
    copy_weights(model, pretrained_resnet34())
    for parameter in model.parameters():
        parameter.requires_grad = False
    head_position = len(list(model.out_layers.children())) - 1
    model.out_layers[head_position] = nn.Linear(model.out_layers[head_position].in_features, n_classes)
    return model
''',
    # optimizer over the parameters that still require gradients (exactly the new head)
    "ResNetTrainer": '''class ResNetTrainer(ConvNetTrainer):
    """Trains only the new head of a pretrained ResNet34 on (a subset of) CIFAR-10."""

    def __init__(self, args: ResNetTrainingArgs):
        self.args = args
        self.model = get_resnet_for_feature_extraction(args.n_classes)
        self.model.to(DEVICE)
        trainable = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(trainable, lr=args.learning_rate)
        self.trainset, self.testset = get_cifar(subset=args.subset)
        self.logged_variables = {"loss": [], "accuracy": []}

    def train_dataloader(self) -> DataLoader:
        self.model.train(mode=True)
        return DataLoader(self.trainset, batch_size=self.args.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        self.model.train(mode=False)
        return DataLoader(self.testset, batch_size=self.args.batch_size)
''',
}
