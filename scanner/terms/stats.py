"""Interval and trend statistics of term shares (pure): Wilson's interval, the share-ratio
interval, EScore's trends and the Poisson trend of a share, used by scanner.terms.emergence.
"""

from __future__ import annotations

import numpy as np


def wilson(hits: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (0..1 where n is 0)."""
    n_safe = np.maximum(n, 1)
    phat = hits / n_safe
    centre = (phat + z * z / (2 * n_safe)) / (1 + z * z / n_safe)
    half = z * np.sqrt(phat * (1 - phat) / n_safe + z * z / (4 * n_safe ** 2)) / \
        (1 + z * z / n_safe)
    return np.where(n > 0, centre - half, 0.0), np.where(n > 0, centre + half, 1.0)


def rate_ratio_interval(late: np.ndarray, late_total: float | np.ndarray, early: np.ndarray,
                        early_total: float | np.ndarray, confidence: float
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ratio, low, high) of late over early shares, by Wilson on late / (late + early)."""
    z = z_score(confidence)
    low_p, high_p = wilson(late, late + early, z)
    scale = early_total / np.maximum(late_total, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(early > 0, late / np.maximum(early, 1e-12) * scale, np.inf)
        low = low_p / np.maximum(1 - low_p, 1e-12) * scale
        high = np.where(high_p < 1, high_p / np.maximum(1 - high_p, 1e-12) * scale, np.inf)
    return ratio, low, high


def z_score(confidence: float) -> float:
    """The two-sided normal quantile of a confidence level (1.645 at 0.9)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def escore(shares: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(score, active trend, recent trend, slope) of [terms x active periods] shares."""
    r = np.sqrt(shares)
    active_trend = r[:, -3:].mean(axis=1) - r[:, :3].mean(axis=1)
    recent_trend = r[:, -2:].mean(axis=1) - r[:, -4:-2].mean(axis=1)
    slope = (r[:, -1] - r[:, -3]) / 2
    return 2 * active_trend + recent_trend + slope, active_trend, recent_trend, slope


def poisson_trend(counts: np.ndarray, totals: np.ndarray, years: np.ndarray,
                  iterations: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(slope per year, its standard error, fitted log share in the last period) of log
    share, Poisson with log(total) offset.

    Fitted for every row of [terms x periods] counts at once by Newton's method; a
    small prior (half an item spread over the periods) keeps all-zero starts finite.
    """
    y = counts + 0.5 / counts.shape[1]
    offset = np.log(np.maximum(totals, 1.0))
    t = years - years.mean()
    a = np.log(y.sum(axis=1) / np.exp(offset).sum(axis=-1))
    b = np.zeros(len(y))
    for _ in range(iterations):
        mu = np.exp(a[:, None] + b[:, None] * t + offset)
        g_a, g_b = (y - mu).sum(axis=1), ((y - mu) * t).sum(axis=1)
        h_aa, h_ab, h_bb = mu.sum(axis=1), (mu * t).sum(axis=1), (mu * t * t).sum(axis=1)
        det = np.maximum(h_aa * h_bb - h_ab ** 2, 1e-12)
        a = a + (h_bb * g_a - h_ab * g_b) / det
        b = np.clip(b + (h_aa * g_b - h_ab * g_a) / det, -20, 20)
    mu = np.exp(a[:, None] + b[:, None] * t + offset)
    h_aa, h_ab, h_bb = mu.sum(axis=1), (mu * t).sum(axis=1), (mu * t * t).sum(axis=1)
    se = np.sqrt(h_aa / np.maximum(h_aa * h_bb - h_ab ** 2, 1e-12))
    return b, se, a + b * t[-1]
