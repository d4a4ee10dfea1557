"""PyTorch peer of pets' model3 training step (train/src/presets.ts), for `npm run bench`.

The same layers, sizes and parameter counts as pets' model3 (checked against the counts passed in), the
same image size, batch, thread count, loss (softmax cross-entropy on the logits) and Adam step; BatchNorm
with Keras' epsilon and momentum. NCHW, as a PyTorch user writes it. The 7x7 stride-2 stem pads 3 on every
side where TensorFlow's 'same' pads 2 before and 3 after: the same output size and work.

Protocol (stdin/stdout, one line each): prints `ready {json}` once built, then for every `step` line runs
one training step and prints `step <ms>`; exits on `quit` or end of input.
"""
import argparse
import json
import sys
import time

import torch
from torch import nn


def model3(classes: int) -> nn.Sequential:
    def block(cin: int, cout: int, kernel: int, stride: int) -> list:
        return [
            nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2),
            nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01),
            nn.ReLU(inplace=True),
        ]

    return nn.Sequential(
        *block(3, 64, 7, 2), nn.MaxPool2d(2),
        *block(64, 128, 3, 1), *block(128, 128, 3, 1), nn.MaxPool2d(2),
        *block(128, 256, 3, 1), *block(256, 256, 3, 1), nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(256, classes),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument('--size', type=int, required=True)
    parser.add_argument('--batch', type=int, required=True)
    parser.add_argument('--threads', type=int, required=True)
    parser.add_argument('--classes', type=int, default=37)
    parser.add_argument('--trainable', type=int, required=True, help="pets' trainable parameter count")
    parser.add_argument('--non-trainable', type=int, required=True, help="pets' non-trainable count (BatchNorm moving statistics)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    model = model3(args.classes)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    moving = sum(b.numel() for name, b in model.named_buffers() if name.endswith(('running_mean', 'running_var')))
    if (trainable, moving) != (args.trainable, args.non_trainable):
        raise SystemExit(f'model3 mismatch: torch has {trainable} trainable and {moving} moving-statistic values, pets {args.trainable} and {args.non_trainable}')
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(1)
    x = torch.rand(args.batch, 3, args.size, args.size, generator=generator)
    labels = torch.arange(args.batch) % args.classes

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), labels)
        loss.backward()
        optimizer.step()

    print('ready ' + json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'trainable': trainable}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == 'quit':
            break
        if command != 'step':
            raise SystemExit(f'unknown command {command!r}; expected step or quit')
        start = time.perf_counter()
        step()
        print(f'step {(time.perf_counter() - start) * 1000:.3f}', flush=True)


if __name__ == '__main__':
    main()
