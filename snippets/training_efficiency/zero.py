"""Ring all-reduce as reduce-scatter + all-gather, and ZeRO's memory and communication.

Workers are simulated in one process: worker i owns buffers[i]. Every function returns the
bytes each worker sends, so the communication volume can be checked against the formulas.
"""

from __future__ import annotations

import torch

GB = 10**9


# --8<-- [start:ring]
def ring_reduce_scatter(buffers: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[int]]:
    """Sum N equal-length vectors; worker i ends with chunk i of the sum.

    N - 1 steps; at step t worker i sends its running sum of chunk (i - t - 1) mod N to
    worker i + 1, which adds its own contribution. Returns (chunk per worker, bytes sent).
    """
    n = len(buffers)
    partial = [list(torch.tensor_split(b.clone(), n)) for b in buffers]
    sent = [0] * n
    for t in range(n - 1):
        messages = []
        for i in range(n):
            c = (i - t - 1) % n
            messages.append(((i + 1) % n, c, partial[i][c]))
            sent[i] += partial[i][c].numel() * partial[i][c].element_size()
        for dst, c, data in messages:  # all workers send at once, then receive
            partial[dst][c] = partial[dst][c] + data
    return [partial[i][i] for i in range(n)], sent


def ring_all_gather(chunks: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[int]]:
    """Worker i starts with chunk i; after N - 1 steps every worker has all chunks."""
    n = len(chunks)
    have: list[dict[int, torch.Tensor]] = [{i: chunks[i]} for i in range(n)]
    sent = [0] * n
    for t in range(n - 1):
        messages = []
        for i in range(n):
            c = (i - t) % n  # the chunk worker i received in the previous step
            messages.append(((i + 1) % n, c, have[i][c]))
            sent[i] += have[i][c].numel() * have[i][c].element_size()
        for dst, c, data in messages:
            have[dst][c] = data
    return [torch.cat([have[i][c] for c in range(n)]) for i in range(n)], sent


def ring_all_reduce(buffers: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[int]]:
    """All-reduce = reduce-scatter, then all-gather of the reduced chunks."""
    chunks, sent_rs = ring_reduce_scatter(buffers)
    full, sent_ag = ring_all_gather(chunks)
    return full, [a + b for a, b in zip(sent_rs, sent_ag, strict=True)]
# --8<-- [end:ring]


# --8<-- [start:memory]
def zero_model_state_bytes(psi: float, n_gpus: int, stage: int, k: int = 12) -> float:
    """Per-GPU bytes of model states with mixed-precision training (Rajbhandari et al. 2020):
    2 bytes/param for fp16 weights, 2 for fp16 gradients, K for optimizer states
    (K = 12 for Adam: fp32 master weights, momentum and variance)."""
    if stage == 0:  # plain data parallelism: everything replicated
        return (2 + 2 + k) * psi
    if stage == 1:  # optimizer states partitioned (P_os)
        return 2 * psi + 2 * psi + k * psi / n_gpus
    if stage == 2:  # + gradients partitioned (P_os+g)
        return 2 * psi + (2 + k) * psi / n_gpus
    if stage == 3:  # + parameters partitioned (P_os+g+p)
        return (2 + 2 + k) * psi / n_gpus
    raise ValueError(f"stage must be 0, 1, 2 or 3, not {stage}")


def zero_communication_elements(psi: float, n_gpus: int, stage: int) -> float:
    """Elements each GPU sends per training step with ring collectives.

    Stages 0-2: reduce-scatter of gradients + all-gather of (updated) parameters, 2 passes.
    Stage 3: parameters are all-gathered again for the backward pass, 3 passes.
    Each ring pass sends (N - 1) / N of the data; the paper rounds this to 1.
    """
    passes = 3 if stage == 3 else 2
    return passes * psi * (n_gpus - 1) / n_gpus
# --8<-- [end:memory]


# --8<-- [start:simulate]
def simulate_training_step(
    n_workers: int, stage: int, psi: int = 1000, lr: float = 1e-2, steps: int = 3
) -> dict[str, object]:
    """Data-parallel Adam on a least-squares model, with ZeRO `stage` 0, 2 or 3.

    Stage 0: all-reduce the gradients, every worker keeps full Adam states.
    Stages 2 and 3: reduce-scatter the gradients, each worker runs Adam on its 1/N shard
    (its own states only). Stage 2 then all-gathers the updated parameters; stage 3 keeps
    them sharded and all-gathers them before the forward and again before the backward
    pass. Returns the final parameters of every worker,
    the bytes each worker sent and the optimizer-state bytes each worker holds.
    """
    gen = torch.Generator().manual_seed(0)
    w0 = torch.randn(psi, generator=gen)
    data = [(torch.randn(8, psi, generator=gen), torch.randn(8, generator=gen))
            for _ in range(n_workers)]
    shards = list(torch.tensor_split(torch.arange(psi), n_workers))
    weights = [w0.clone() for _ in range(n_workers)]
    if stage == 0:
        params = [torch.nn.Parameter(w0.clone()) for _ in range(n_workers)]
    else:
        params = [torch.nn.Parameter(w0[s].clone()) for s in shards]
    optimizers = [torch.optim.Adam([p], lr=lr) for p in params]
    sent = [0] * n_workers

    def add(counts: list[int]) -> None:
        for i, c in enumerate(counts):
            sent[i] += c

    for _ in range(steps):
        if stage == 3:  # parameters live only as shards: gather them before use
            weights, counts = ring_all_gather([p.detach().clone() for p in params])
            add(counts)  # all-gather for the forward pass
            add(counts)  # the same all-gather again in the backward pass (params were freed)
        grads = []
        for w, (x, y) in zip(weights, data, strict=True):
            w = w.clone().requires_grad_()
            ((x @ w - y) ** 2).mean().backward()
            grads.append(w.grad)
        if stage == 0:
            reduced, counts = ring_all_reduce(grads)  # every worker gets the full sum
        else:
            reduced, counts = ring_reduce_scatter(grads)  # worker i gets shard i of the sum
        add(counts)
        for p, g, opt in zip(params, reduced, optimizers, strict=True):
            p.grad = g / n_workers
            opt.step()  # Adam on the full vector (stage 0) or on this worker's shard
        if stage == 0:
            weights = [p.detach().clone() for p in params]
        elif stage == 2:
            weights, counts = ring_all_gather([p.detach().clone() for p in params])
            add(counts)  # every worker needs the updated parameters for the next forward
    if stage == 3:  # for the caller: assemble the final parameters (not a training step)
        weights, _ = ring_all_gather([p.detach().clone() for p in params])
    state_bytes = [
        sum(v.numel() * v.element_size() for v in opt.state[p].values() if v.dim() > 0)
        for p, opt in zip(params, optimizers, strict=True)
    ]
    return {"weights": weights, "sent": sent, "optimizer_state_bytes": state_bytes}
# --8<-- [end:simulate]


if __name__ == "__main__":
    n, psi = 4, 1000
    bufs = [torch.randn(psi, generator=torch.Generator().manual_seed(i)) for i in range(n)]
    _, rs = ring_reduce_scatter(bufs)
    _, ar = ring_all_reduce(bufs)
    print(f"ring over {n} workers, {psi} fp32 values each:")
    print(f"  reduce-scatter: {rs[0]:,} B sent per worker; formula (N-1)/N*psi*4 = "
          f"{(n - 1) * psi * 4 // n:,}")
    print(f"  all-reduce:     {ar[0]:,} B sent per worker; formula 2(N-1)/N*psi*4 = "
          f"{2 * (n - 1) * psi * 4 // n:,}")
    print()
    print("7.5B parameters, K = 12 (Rajbhandari et al. 2020, Figure 1 and Table 1), GB per GPU:")
    print(f"{'GPUs':>6}{'baseline':>10}{'P_os':>9}{'P_os+g':>9}{'P_os+g+p':>10}")
    for gpus in (1, 4, 16, 64, 256, 1024):
        row = [zero_model_state_bytes(7.5e9, gpus, s) / GB for s in range(4)]
        widths = (10, 9, 9, 10)
        print(f"{gpus:>6}" + "".join(f"{v:>{w}.2f}" for v, w in zip(row, widths, strict=True)))
    print()
    print("simulated data-parallel Adam, 4 workers, 1000 fp32 parameters, 3 steps:")
    base = simulate_training_step(4, stage=0)
    for stage in (0, 2, 3):
        r = base if stage == 0 else simulate_training_step(4, stage=stage)
        same = all(torch.allclose(w, base["weights"][0], atol=1e-6) for w in r["weights"])
        per_step = r["sent"][0] / 3 / (1000 * 4)
        print(f"  stage {stage}: same weights as stage 0: {same}; sent per step "
              f"{per_step:.2f} x psi (formula {zero_communication_elements(1, 4, stage):.2f}); "
              f"Adam state per worker {r['optimizer_state_bytes'][0]:,} B")
