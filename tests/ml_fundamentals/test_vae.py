"""Tests for snippets/ml_fundamentals/vae.py: KL, reparameterisation, ELBO, training."""

from __future__ import annotations

import math

import torch
from torch.distributions import MultivariateNormal, Normal, kl_divergence

from snippets.ml_fundamentals.vae import (
    TinyVAE,
    evaluate_negative_elbo,
    gaussian_kl,
    load_binary_digits,
    negative_elbo,
    reparameterize,
    train,
)


def _random_posterior(seed: int = 0, batch: int = 5, dim: int = 3):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    logvar = torch.randn(batch, dim, generator=g, dtype=torch.float64)
    return mu, logvar


def test_closed_form_kl_matches_torch_distributions():
    mu, logvar = _random_posterior()
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    expected = kl_divergence(q, p).sum(-1)
    torch.testing.assert_close(gaussian_kl(mu, logvar), expected)


def test_closed_form_kl_matches_monte_carlo():
    # KL(q || p) = E_q[log q(z) - log p(z)]; estimate it from samples of q.
    mu, logvar = _random_posterior(seed=1)
    q = Normal(mu, torch.exp(0.5 * logvar))
    p = Normal(torch.zeros_like(mu), torch.ones_like(mu))
    torch.manual_seed(0)
    z = q.sample((200_000,))  # (n, batch, dim)
    log_ratio = (q.log_prob(z) - p.log_prob(z)).sum(-1)  # (n, batch)
    estimate = log_ratio.mean(0)
    stderr = log_ratio.std(0) / math.sqrt(z.shape[0])
    closed = gaussian_kl(mu, logvar)
    assert torch.all((estimate - closed).abs() < 5 * stderr + 1e-9)
    assert torch.all(closed >= 0)
    # Zero exactly when q is the prior.
    assert float(gaussian_kl(torch.zeros(4), torch.zeros(4))) == 0.0


def test_reparameterised_sample_has_the_right_distribution():
    mu = torch.tensor([1.5, -2.0])
    logvar = torch.tensor([0.0, math.log(0.25)])
    g = torch.Generator().manual_seed(0)
    z = reparameterize(mu.expand(100_000, 2), logvar.expand(100_000, 2), g)
    torch.testing.assert_close(z.mean(0), mu, atol=0.02, rtol=0)
    torch.testing.assert_close(z.std(0), torch.tensor([1.0, 0.5]), atol=0.01, rtol=0)


def test_gradients_reach_mean_and_variance_through_the_sample():
    # For f(z) = z^2: E[z^2] = mu^2 + sigma^2, so dE/dmu = 2 mu and dE/dlogvar = sigma^2.
    mu = torch.tensor([0.7, -1.2], dtype=torch.float64, requires_grad=True)
    logvar = torch.tensor([0.3, -0.5], dtype=torch.float64, requires_grad=True)
    n = 400_000
    z = reparameterize(mu.expand(n, 2), logvar.expand(n, 2), torch.Generator().manual_seed(0))
    z.pow(2).mean(0).sum().backward()
    torch.testing.assert_close(mu.grad, 2 * mu.detach(), atol=0.01, rtol=0)
    torch.testing.assert_close(logvar.grad, logvar.detach().exp(), atol=0.01, rtol=0)


def test_exact_per_sample_gradients():
    # dz/dmu = 1 and dz/dlogvar = 0.5 * sigma * eps, per sample.
    mu = torch.tensor([0.3], requires_grad=True)
    logvar = torch.tensor([0.8], requires_grad=True)
    g = torch.Generator().manual_seed(3)
    z = reparameterize(mu, logvar, g)
    eps = torch.randn(1, generator=torch.Generator().manual_seed(3))
    z.backward()
    torch.testing.assert_close(mu.grad, torch.ones(1))
    torch.testing.assert_close(logvar.grad, 0.5 * torch.exp(0.5 * logvar.detach()) * eps)


def test_sampling_without_the_trick_gives_no_gradient():
    # The page's pitfall: torch.normal(mu, std) is "differentiable" but its gradient is zero,
    # and Normal.sample() detaches; only the reparameterised sample carries mu and sigma.
    mu = torch.tensor([0.5, 1.0], requires_grad=True)
    std = torch.tensor([1.0, 2.0], requires_grad=True)
    torch.normal(mu, std).pow(2).sum().backward()
    assert torch.all(mu.grad == 0) and torch.all(std.grad == 0)
    assert not Normal(mu, std).sample().requires_grad
    assert Normal(mu, std).rsample().requires_grad


def test_elbo_is_log_evidence_minus_kl_to_the_true_posterior():
    # Linear-Gaussian model: z ~ N(0, 1), x | z ~ N(w z + b, s^2 I). Everything is closed form:
    # p(x) = N(b, w w^T + s^2 I) and the posterior p(z|x) is Gaussian.
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    b = torch.tensor([0.1, 0.2, -0.3], dtype=torch.float64)
    s2 = 0.5
    x = torch.tensor([1.0, -1.5, 0.4], dtype=torch.float64)
    log_evidence = MultivariateNormal(b, torch.outer(w, w) + s2 * torch.eye(3)).log_prob(x)
    post_var = 1.0 / (1.0 + w @ w / s2)
    post_mean = post_var * (w @ (x - b)) / s2

    def elbo(q_mu: torch.Tensor, q_logvar: torch.Tensor) -> float:
        n = 400_000
        g = torch.Generator().manual_seed(0)
        z = reparameterize(q_mu.expand(n, 1), q_logvar.expand(n, 1), g)
        recon = Normal(z * w + b, math.sqrt(s2)).log_prob(x).sum(-1).mean()
        return float(recon - gaussian_kl(q_mu, q_logvar))

    exact = elbo(post_mean.reshape(1), torch.log(post_var).reshape(1))
    assert abs(exact - float(log_evidence)) < 0.01
    # Any other q falls short by exactly KL(q || posterior).
    q_mu = torch.tensor([0.0], dtype=torch.float64)
    q_logvar = torch.tensor([0.0], dtype=torch.float64)
    gap = kl_divergence(Normal(q_mu, 1.0), Normal(post_mean, post_var.sqrt())).sum()
    assert abs(elbo(q_mu, q_logvar) - float(log_evidence - gap)) < 0.02
    assert float(gap) > 0.5


def test_negative_elbo_matches_its_definition():
    torch.manual_seed(0)
    model = TinyVAE(n_in=6, n_hidden=8, n_latent=2)
    x = (torch.rand(4, 6) > 0.5).float()
    loss, recon, kl = negative_elbo(model, x, torch.Generator().manual_seed(5))
    # Recompute with torch.distributions: -log Bernoulli(x | logits) and KL to N(0, I).
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, torch.Generator().manual_seed(5))
    bern = torch.distributions.Bernoulli(logits=model.decode(z))
    expected_recon = -bern.log_prob(x).sum(-1).mean()
    q = Normal(mu, torch.exp(0.5 * logvar))
    expected_kl = kl_divergence(q, Normal(0.0, 1.0)).sum(-1).mean()
    torch.testing.assert_close(recon, expected_recon)
    torch.testing.assert_close(kl, expected_kl)
    torch.testing.assert_close(loss, expected_recon + expected_kl)


def _kl_of_moment_matched_gaussian(mu: torch.Tensor, var: torch.Tensor) -> float:
    """KL( N(mean, diag var) || N(0, I) ) for the aggregate codes, per latent dimension."""
    return float(gaussian_kl(mu, var.log()))


def test_vae_codes_fill_the_prior_and_autoencoder_codes_do_not():
    # The page's claim: the KL term (with the sampling noise) pulls the codes of the whole
    # training set into the prior's region; the plain autoencoder puts them anywhere.
    x = load_binary_digits()[:400]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        vae = train(x, variational=True, steps=60, seed=0)
        ae = train(x, variational=False, steps=60, seed=0)
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        mu_vae, logvar_vae = vae.encode(x)
        mu_ae, _ = ae.encode(x)
    # Aggregate posterior of the VAE: mixture of the q(z|x); its variance is
    # Var(mu) + E[sigma^2]. The autoencoder has only the points mu.
    var_vae = mu_vae.var(0) + logvar_vae.exp().mean(0)
    kl_vae = _kl_of_moment_matched_gaussian(mu_vae.mean(0), var_vae)
    kl_ae = _kl_of_moment_matched_gaussian(mu_ae.mean(0), mu_ae.var(0))
    assert kl_vae < 0.1
    assert kl_ae > 1.0


def test_a_few_training_steps_lower_the_negative_elbo():
    x = load_binary_digits()[:400]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: avoid thread oversubscription on a shared CPU
    try:
        torch.manual_seed(0)
        before = evaluate_negative_elbo(TinyVAE(n_in=64), x)[0]
        after = evaluate_negative_elbo(train(x, steps=40, seed=0), x)[0]
    finally:
        torch.set_num_threads(threads)
    assert after < before - 5.0
