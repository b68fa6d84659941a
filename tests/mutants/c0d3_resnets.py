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
