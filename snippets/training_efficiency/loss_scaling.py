"""Loss scaling: why fp16 gradients need it, and a dynamic loss scaler written from scratch."""

from __future__ import annotations

import torch


# --8<-- [start:underflow]
def fp16_weight_gradient(loss_scale: float, loss_weight: float = 1e-5) -> torch.Tensor:
    """Gradient of a small loss w.r.t. fp16 weights, back-propagated through fp16 tensors.

    The loss is multiplied by `loss_scale` before backward and the fp16 gradient is divided
    by it in fp32 afterwards, as a mixed-precision training loop does.
    """
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 16, generator=gen).half()
    w = (0.1 * torch.randn(16, 16, generator=gen)).half().requires_grad_()
    y = x @ w  # fp16 activation; its gradient will be fp16 too
    loss = loss_weight * y.float().pow(2).mean()  # the loss itself is computed in fp32
    (loss * loss_scale).backward()
    return w.grad.float() / loss_scale  # unscale in fp32


def reference_weight_gradient(loss_weight: float = 1e-5) -> torch.Tensor:
    """The same gradient computed in float64: the ground truth."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(32, 16, generator=gen).half().double()
    w = (0.1 * torch.randn(16, 16, generator=gen)).half().double().requires_grad_()
    (loss_weight * (x @ w).pow(2).mean()).backward()
    return w.grad
# --8<-- [end:underflow]


# --8<-- [start:scaler]
class DynamicLossScaler:
    """Dynamic loss scaling with the rules of torch.amp.GradScaler.

    Multiply the loss by `scale` before backward. Before the optimizer step, divide the
    gradients by `scale`; if any is inf or NaN, skip the step and multiply `scale` by
    `backoff_factor`. After `growth_interval` consecutive clean steps, multiply `scale`
    by `growth_factor`.
    """

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
    ) -> None:
        self.scale = init_scale
        self.growth_factor = growth_factor
        self.backoff_factor = backoff_factor
        self.growth_interval = growth_interval
        self._clean_steps = 0

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        return loss * self.scale

    def step(self, optimizer: torch.optim.Optimizer) -> bool:
        """Unscale the gradients, step if they are all finite, update the scale.

        Returns True if the optimizer stepped, False if the step was skipped.
        """
        found_inf = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.mul_(1.0 / self.scale)
                    found_inf |= not bool(torch.isfinite(p.grad).all())
        if not found_inf:
            optimizer.step()
        self._update(found_inf)
        return not found_inf

    def _update(self, found_inf: bool) -> None:
        if found_inf:
            self.scale *= self.backoff_factor
            self._clean_steps = 0
        else:
            self._clean_steps += 1
            if self._clean_steps == self.growth_interval:
                self.scale *= self.growth_factor
                self._clean_steps = 0
# --8<-- [end:scaler]


def run_scaler(
    scaler: DynamicLossScaler | torch.amp.GradScaler, overflow_steps: set[int], steps: int = 10
) -> tuple[list[float], list[bool], torch.Tensor]:
    """Train a linear model for `steps` steps; the loss is inf on `overflow_steps`.

    Works with our scaler and with torch.amp.GradScaler. Returns the scale after each step,
    whether each step was applied, and the final weights.
    """
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    scales, applied = [], []
    for step in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        if step in overflow_steps:
            loss = loss * float("inf")  # stands in for an fp16 overflow in the backward pass
        before = model.weight.detach().clone()
        if isinstance(scaler, DynamicLossScaler):
            scaler.scale_loss(loss).backward()
            scaler.step(opt)
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        applied.append(not torch.equal(before, model.weight.detach()))
        scales.append(float(scaler.scale) if isinstance(scaler, DynamicLossScaler)
                      else scaler.get_scale())
    return scales, applied, model.weight.detach().clone()


if __name__ == "__main__":
    ref = reference_weight_gradient()
    print(f"true weight gradients: median |g| = {ref.abs().median():.1e}")
    for scale in (1.0, 2.0**16):
        g = fp16_weight_gradient(scale)
        zeros = float((g == 0).float().mean())
        err = float((g.double() - ref).norm() / ref.norm())
        print(f"loss scale {scale:>7.0f}: {zeros:6.1%} of gradients are zero, "
              f"relative error {err:.1e}")
    print()
    overflow = {1, 2, 6}
    ours = run_scaler(DynamicLossScaler(init_scale=2.0**16, growth_interval=3), overflow)
    reference = torch.amp.GradScaler("cpu", init_scale=2.0**16, growth_interval=3)
    torch_ = run_scaler(reference, overflow)
    print("step  overflow  ours: scale / stepped   GradScaler: scale / stepped")
    for i in range(len(ours[0])):
        print(f"{i:>4}  {'yes' if i in overflow else 'no':>8}  {ours[0][i]:>11.0f} / "
              f"{str(ours[1][i]):5}   {torch_[0][i]:>17.0f} / {torch_[1][i]}")
    print("same final weights:", torch.equal(ours[2], torch_[2]))
