"""A tiny variational autoencoder (VAE): closed-form KL, reparameterisation, negative ELBO.

Run `python -m snippets.ml_fundamentals.vae` to train it and a plain autoencoder with the
same network on binarised 8x8 digits (scikit-learn's bundled copy, nothing downloaded).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


# --8<-- [start:kl]
def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, diag(exp(logvar))) || N(0, I) ), summed over the last dimension."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)
# --8<-- [end:kl]


# --8<-- [start:reparameterize]
def reparameterize(
    mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Sample z ~ N(mu, sigma^2) as z = mu + sigma * eps, eps ~ N(0, I).

    The randomness enters as an input (eps), so z is a differentiable function of mu
    and logvar and backpropagation reaches the encoder.
    """
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps
# --8<-- [end:reparameterize]


# --8<-- [start:model]
class TinyVAE(nn.Module):
    """MLP encoder -> (mu, logvar); MLP decoder -> Bernoulli logits, one per pixel."""

    def __init__(self, n_in: int = 64, n_hidden: int = 128, n_latent: int = 2) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, 2 * n_latent)
        )
        self.decoder = nn.Sequential(
            nn.Linear(n_latent, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_in)
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.encoder(x).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)  # logits of p(x | z)
# --8<-- [end:model]


# --8<-- [start:loss]
def negative_elbo(
    model: TinyVAE, x: torch.Tensor, generator: torch.Generator | None = None, beta: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return (loss, reconstruction, kl), each averaged over the batch.

    loss = -E_q[log p(x|z)] + beta * KL(q(z|x) || N(0, I)); beta = 1 is the negative ELBO.
    The expectation is estimated with one reparameterised sample per example.
    """
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, generator)
    logits = model.decode(z)
    # -log p(x|z) for independent Bernoulli pixels
    recon = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1)
    kl = gaussian_kl(mu, logvar)
    return (recon + beta * kl).mean(), recon.mean(), kl.mean()


def autoencoder_loss(model: TinyVAE, x: torch.Tensor) -> torch.Tensor:
    """The plain autoencoder on the same network: decode the mean, no noise, no KL."""
    mu, _ = model.encode(x)
    logits = model.decode(mu)
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=-1).mean()
# --8<-- [end:loss]


def load_binary_digits() -> torch.Tensor:
    """scikit-learn's 1797 8x8 digits (bundled with the package), binarised at half intensity."""
    from sklearn.datasets import load_digits

    pixels = load_digits().data / 16.0
    return torch.tensor(pixels > 0.5, dtype=torch.float32)


def train(
    x: torch.Tensor, variational: bool = True, steps: int = 300, lr: float = 1e-2, seed: int = 0
) -> TinyVAE:
    """Full-batch Adam on the negative ELBO (variational) or the autoencoder loss."""
    torch.manual_seed(seed)
    model = TinyVAE(n_in=x.shape[1])
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        if variational:
            loss, _, _ = negative_elbo(model, x, generator)
        else:
            loss = autoencoder_loss(model, x)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


@torch.no_grad()
def evaluate_negative_elbo(
    model: TinyVAE, x: torch.Tensor, samples: int = 20, seed: int = 1
) -> tuple[float, float, float]:
    """Negative ELBO, reconstruction and KL averaged over several reparameterised samples."""
    generator = torch.Generator().manual_seed(seed)
    runs = [negative_elbo(model, x, generator) for _ in range(samples)]
    return tuple(float(np.mean([float(r[i]) for r in runs])) for i in range(3))


if __name__ == "__main__":
    torch.set_num_threads(1)  # tiny model: one thread is fastest and avoids oversubscription
    x = load_binary_digits()
    torch.manual_seed(0)
    untrained = TinyVAE(n_in=x.shape[1])
    vae = train(x, variational=True)
    ae = train(x, variational=False)
    print(f"data: {x.shape[0]} binarised 8x8 digits, latent size 2")
    for name, model in [("VAE before training", untrained), ("VAE after 300 steps", vae)]:
        loss, recon, kl = evaluate_negative_elbo(model, x)
        print(f"{name:20s} -ELBO {loss:6.2f} nats = recon {recon:6.2f} + KL {kl:5.2f}")
    with torch.no_grad():
        print(f"AE reconstruction loss {float(autoencoder_loss(ae, x)):6.2f} nats (no KL term)")
        # Where the codes of the training data sit, per latent dimension. For the VAE the
        # aggregate variance is Var(mu) + E[sigma^2]; the prior N(0, I) has mean 0, variance 1.
        for name, model in [("AE ", ae), ("VAE", vae)]:
            mu, logvar = model.encode(x)
            var = mu.var(0) + (logvar.exp().mean(0) if model is vae else 0.0)
            mean = ", ".join(f"{v:6.2f}" for v in mu.mean(0).tolist())
            spread = ", ".join(f"{v:7.2f}" for v in var.tolist())
            print(f"{name} codes: mean [{mean}]  variance [{spread}]")
