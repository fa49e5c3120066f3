"""End to end, the way the series' programs use the library: a small GPT written once for both
libraries (ModuleDict, ModuleList, tied weights, LayerNorm, GELU, Dropout, causal attention, nn.init
through Module.apply), fed by a DataLoader, trained with AdamW parameter groups, a learning rate set
by hand each step and gradient clipping, saved mid-way and resumed. From the same weights, glassgrad
and torch (float64) give the same losses and weights at every step."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import glassgrad

VOCAB, BLOCK, EMBD, HEADS, LAYERS = 11, 6, 8, 2, 2


def gpt(t):
    """The model, built with library t (glassgrad or torch)."""
    nn, F = t.nn, t.nn.functional

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.q, self.k, self.v = (nn.Linear(EMBD, EMBD) for _ in range(3))
            self.c_proj = nn.Linear(EMBD, EMBD)

        def forward(self, x):
            B, T, C = x.size()
            q, k, v = (f(x).view(B, T, HEADS, C // HEADS).transpose(1, 2) for f in (self.q, self.k, self.v))
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
            return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1, self.attn, self.ln_2 = nn.LayerNorm(EMBD), Attention(), nn.LayerNorm(EMBD)
            self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(EMBD, 4 * EMBD), act=nn.GELU(),
                                          c_proj=nn.Linear(4 * EMBD, EMBD), drop=nn.Dropout(0.0)))

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            m = self.mlp
            return x + m.drop(m.c_proj(m.act(m.c_fc(self.ln_2(x)))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict(dict(
                wte=nn.Embedding(VOCAB, EMBD), wpe=nn.Embedding(BLOCK, EMBD), drop=nn.Dropout(0.0),
                h=nn.ModuleList([Block() for _ in range(LAYERS)]), ln_f=nn.LayerNorm(EMBD)))
            self.lm_head = nn.Linear(EMBD, VOCAB, bias=False)
            self.transformer.wte.weight = self.lm_head.weight
            self.apply(self._init)

        @staticmethod
        def _init(module):
            if isinstance(module, (nn.Linear, nn.Embedding)):
                t.nn.init.normal_(module.weight, mean=0.0, std=0.2)
            if isinstance(module, nn.Linear) and module.bias is not None:
                t.nn.init.zeros_(module.bias)

        def forward(self, idx, targets):
            pos = t.arange(0, idx.size(1), dtype=t.long, device=idx.device)
            x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
            for block in self.transformer.h:
                x = block(x)
            logits = self.lm_head(self.transformer.ln_f(x))
            return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)

    return GPT().double()


def optimizer(t, model):
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return t.optim.AdamW(groups, lr=1e-2, betas=(0.9, 0.95))


def batches(t):
    rng = np.random.default_rng(7)
    x = rng.integers(0, VOCAB, (12, BLOCK))
    y = np.roll(x, -1, axis=1)
    y[::3, -2:] = -1  # ignored targets, as makemore pads
    return t.utils.data.DataLoader(t.utils.data.TensorDataset(t.tensor(x), t.tensor(y)), batch_size=4)


def train(t, model, opt, steps, start=0):
    losses, seen = [], 0
    while seen < steps:
        for x, y in batches(t):
            if seen == steps:
                break
            step = start + seen
            for group in opt.param_groups:
                group["lr"] = 1e-2 * min(1.0, (step + 1) / 3) * (0.5 + 0.5 * math.cos(math.pi * step / 20))
            loss = model(x.to("cpu"), y.to("cpu"))
            model.zero_grad(set_to_none=True)
            loss.backward()
            t.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            opt.step()
            losses.append(loss.item())
            seen += 1
    return losses


def twins():
    glassgrad.manual_seed(0)
    ours = gpt(glassgrad)
    theirs = gpt(torch)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()})
    return ours, theirs


@pytest.fixture
def one_torch_thread():
    """torch's threads fight the other tests' processes for two cores: one thread is 10x faster here."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_a_small_gpt_trains_as_on_torch_and_resumes_from_its_files(tmp_path, one_torch_thread):
    ours, theirs = twins()
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    our_opt, their_opt = optimizer(glassgrad, ours), optimizer(torch, theirs)
    ours_losses = train(glassgrad, ours, our_opt, 6)
    theirs_losses = train(torch, theirs, their_opt, 6)
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=1e-10)
    glassgrad.save({"model": ours.state_dict(), "optimizer": our_opt.state_dict(), "iter_num": 6}, tmp_path / "c.pt")

    ours_losses += train(glassgrad, ours, our_opt, 6, start=6)
    theirs_losses += train(torch, theirs, their_opt, 6, start=6)
    np.testing.assert_allclose(ours_losses, theirs_losses, rtol=1e-9)
    for (name, p), q in zip(ours.state_dict().items(), theirs.state_dict().values()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
    assert ours_losses[-1] < ours_losses[0]

    checkpoint = glassgrad.load(tmp_path / "c.pt")
    glassgrad.manual_seed(1)
    resumed = gpt(glassgrad)
    resumed.load_state_dict(checkpoint["model"])
    resumed_opt = optimizer(glassgrad, resumed)
    resumed_opt.load_state_dict(checkpoint["optimizer"])
    assert train(glassgrad, resumed, resumed_opt, 6, start=checkpoint["iter_num"]) == ours_losses[6:]
