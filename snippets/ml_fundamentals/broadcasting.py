"""Broadcasting: the shape rule PyTorch and NumPy apply to element-wise operations.

Used by the page ml-fundamentals/broadcasting (source question A4).
"""

from __future__ import annotations

import torch

torch.manual_seed(0)


# --8<-- [start:rule]
def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of an element-wise result of tensors shaped `a` and `b`.

    Align the shapes on the right; a missing leading dimension counts as 1.
    Two sizes are compatible when they are equal or one of them is 1.
    """
    ndim = max(len(a), len(b))
    a = (1,) * (ndim - len(a)) + tuple(a)
    b = (1,) * (ndim - len(b)) + tuple(b)
    result = []
    for i, (m, n) in enumerate(zip(a, b, strict=True)):
        if m == n or n == 1:
            result.append(m)
        elif m == 1:
            result.append(n)
        else:
            raise ValueError(f"sizes {m} and {n} do not match at dimension {i}")
    return tuple(result)
# --8<-- [end:rule]


# --8<-- [start:cases]
CASES: list[tuple[tuple[int, ...], tuple[int, ...]]] = [
    ((22, 1), (12,)),      # the question as asked: a 12-dim vector
    ((22, 1), (1, 12)),    # the same, written explicitly
    ((22, 1), (12, 1)),    # the source's first reading: a (12, 1) tensor
    ((22,), (12,)),        # two vectors of different length
    ((22, 1), (22,)),      # the classic bug: a column minus a vector
]


def describe(a: tuple[int, ...], b: tuple[int, ...]) -> str:
    """What torch does with zeros(a) - zeros(b): the result shape or the error."""
    try:
        shape = tuple((torch.zeros(a) - torch.zeros(b)).shape)
    except RuntimeError:
        return "RuntimeError (shapes do not broadcast)"
    return str(shape)
# --8<-- [end:cases]


# --8<-- [start:no-copy]
def broadcast_view(x: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """A read-only view of `x` with the broadcast shape: no data is copied.

    The expanded dimensions get stride 0, so every row reads the same memory.
    """
    return x.expand(shape)
# --8<-- [end:no-copy]


# --8<-- [start:mse-bug]
def mse_naive(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error written by hand, without checking shapes."""
    return ((pred - target) ** 2).mean()


def mse_checked(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The same loss, refusing shapes that would broadcast into a matrix."""
    if pred.shape != target.shape:
        raise ValueError(f"pred {tuple(pred.shape)} and target {tuple(target.shape)} differ")
    return ((pred - target) ** 2).mean()
# --8<-- [end:mse-bug]


# --8<-- [start:keepdim]
def center_rows(x: torch.Tensor) -> torch.Tensor:
    """Subtract each row's mean. keepdim=True keeps the mean as a (rows, 1) column."""
    return x - x.mean(dim=1, keepdim=True)


def center_rows_buggy(x: torch.Tensor) -> torch.Tensor:
    """Without keepdim the mean has shape (rows,) and lines up with the COLUMNS.

    For a square x this runs without error and subtracts the wrong numbers.
    """
    return x - x.mean(dim=1)
# --8<-- [end:keepdim]


# --8<-- [start:grad]
def grad_of_broadcast_operand(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Gradient of sum(x - y) with respect to y.

    y was used once per broadcast row, so its gradient is summed over those rows:
    each entry is -(number of rows of x).
    """
    y = y.detach().requires_grad_(True)
    (x - y).sum().backward()
    return y.grad
# --8<-- [end:grad]


# --8<-- [start:matmul]
def matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of torch.matmul for operands with at least two dimensions.

    The last two dimensions multiply as matrices, (n, k) @ (k, m) -> (n, m);
    all dimensions before them broadcast with the element-wise rule.
    """
    (n, k1), (k2, m) = a[-2:], b[-2:]
    if k1 != k2:
        raise ValueError(f"inner sizes {k1} and {k2} differ")
    return broadcast_shape(a[:-2], b[:-2]) + (n, m)
# --8<-- [end:matmul]


if __name__ == "__main__":
    print(f"{'a':>9} - {'b':<9} -> result")
    for a, b in CASES:
        print(f"{str(a):>9} - {str(b):<9} -> {describe(a, b)}")

    column = torch.arange(3.0).reshape(3, 1)
    view = broadcast_view(column, (3, 4))
    print(f"\nexpand (3, 1) -> (3, 4): strides {view.stride()}, "
          f"shares memory: {view.data_ptr() == column.data_ptr()}")

    pred = torch.tensor([[1.0], [2.0], [3.0]])    # model output, shape (3, 1)
    target = torch.tensor([1.0, 2.0, 3.0])        # labels, shape (3,)
    print(f"\nperfect predictions, naive MSE = {mse_naive(pred, target).item():.4f} "
          f"(pred - target has shape {tuple((pred - target).shape)})")
    print(f"after pred.squeeze(-1):  MSE = {mse_checked(pred.squeeze(-1), target).item():.4f}")

    square = torch.arange(16.0).reshape(4, 4)
    print(f"\nrow means after center_rows:        {center_rows(square).mean(dim=1).tolist()}")
    print(f"row means after center_rows_buggy:  {center_rows_buggy(square).mean(dim=1).tolist()}")

    try:
        torch.zeros(22, 1).sub_(torch.zeros(12))
    except RuntimeError as error:
        print(f"\nin-place (22, 1) -= (12,): RuntimeError: {error}")

    grad = grad_of_broadcast_operand(torch.randn(22, 1), torch.randn(12))
    print(f"\nd sum(x - y) / dy for x (22, 1), y (12,): shape {tuple(grad.shape)}, "
          f"every entry {grad[0].item():.0f}")
    print(f"matmul (8, 1, 5, 4) @ (3, 4, 6) -> {matmul_shape((8, 1, 5, 4), (3, 4, 6))}")
