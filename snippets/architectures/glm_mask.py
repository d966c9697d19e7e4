"""GLM's autoregressive blank infilling: inputs, 2-D positions and the attention mask."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class BlankInfillingExample:
    tokens: list[str]  # Part A (corrupted text) followed by Part B (the spans)
    targets: list[str | None]  # what each position predicts (None: no loss)
    pos_1: list[int]  # position in the corrupted text (a span's [MASK] for Part B)
    pos_2: list[int]  # position inside the span (0 for Part A)
    mask: torch.Tensor  # (n, n) bool, True where query i may attend to key j
    part_a_len: int


# --8<-- [start:build]
def blank_infilling(text: list[str], spans: list[tuple[int, int]], order: list[int],
                    mask_token: str = "[MASK]") -> BlankInfillingExample:
    """Replace each span [start, end) by one mask token (Part A), then append the spans in
    `order`, each as [S] + span as input and span + [E] as target (Part B)."""
    part_a, mask_pos, i = [], {}, 0
    for k, (start, end) in sorted(enumerate(spans), key=lambda item: item[1][0]):
        part_a += text[i:start]
        mask_pos[k] = len(part_a) + 1  # 1-based position of this span's mask token
        part_a.append(mask_token)
        i = end
    part_a += text[i:]
    tokens, targets = list(part_a), [None] * len(part_a)
    pos_1, pos_2 = list(range(1, len(part_a) + 1)), [0] * len(part_a)
    for k in order:
        span = text[spans[k][0]:spans[k][1]]
        tokens += ["[S]", *span]
        targets += [*span, "[E]"]
        pos_1 += [mask_pos[k]] * (len(span) + 1)  # every span token points at its [MASK]
        pos_2 += list(range(1, len(span) + 2))  # 1, 2, ... inside the span
    n, a = len(tokens), len(part_a)
    mask = torch.zeros(n, n, dtype=torch.bool)
    mask[:, :a] = True  # everyone sees all of Part A (Part A bidirectionally)
    mask[a:, a:] = torch.ones(n - a, n - a, dtype=torch.bool).tril()  # B: causal
    return BlankInfillingExample(tokens, targets, pos_1, pos_2, mask, a)
# --8<-- [end:build]


def show(ex: BlankInfillingExample) -> str:
    width = max(len(t) for t in ex.tokens) + 1
    lines = ["token    " + "".join(f"{t:>{width}}" for t in ex.tokens),
             "target   " + "".join(f"{t or '-':>{width}}" for t in ex.targets),
             "pos_1    " + "".join(f"{p:>{width}}" for p in ex.pos_1),
             "pos_2    " + "".join(f"{p:>{width}}" for p in ex.pos_2),
             "mask (row = query, 1 = may attend):"]
    for t, row in zip(ex.tokens, ex.mask.int().tolist(), strict=True):
        lines.append(f"{t:>8} " + "".join(f"{v:>{width}}" for v in row))
    return "\n".join(lines)


if __name__ == "__main__":
    text = ["x1", "x2", "x3", "x4", "x5", "x6"]
    # GLM paper, Figure 2: spans x3 and x5 x6, predicted in the order (x5 x6), (x3)
    print(show(blank_infilling(text, spans=[(2, 3), (4, 6)], order=[1, 0])))
    print()
    # [gMASK]: one long span running to the end of the text = a prefix LM
    print(show(blank_infilling(text, spans=[(3, 6)], order=[0], mask_token="[gMASK]")))
