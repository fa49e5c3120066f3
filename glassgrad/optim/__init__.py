"""Optimizers and learning-rate schedules under `torch.optim`'s names: `glassgrad.optim.AdamW(...)`,
`glassgrad.optim.lr_scheduler.CosineAnnealingLR(...)`. They update scalar Values and Tensors alike."""

from glassgrad.optim import lr_scheduler
from glassgrad.optim.lr_scheduler import CosineAnnealingLR, LambdaLR, LRScheduler, StepLR
from glassgrad.optim.optimizer import SGD, Adam, AdamW, Optimizer, RMSprop

__all__ = ["SGD", "Adam", "AdamW", "CosineAnnealingLR", "LRScheduler", "LambdaLR", "Optimizer", "RMSprop", "StepLR",
           "lr_scheduler"]  # fmt: skip
