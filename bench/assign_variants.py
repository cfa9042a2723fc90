"""Variants measured by bench/assign_ablation.py: calibrator fitters and decision rules."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scanner.assign import Calibrator
from scanner.assign.features import build_features
from scanner.assign.learned import FieldProbes
from scanner.evaluation.assignment import THRESHOLDS, _macro_f1

# ----------------------------------------------------------------------------- rules


class Global:
    """One threshold for every field and language (the shipped rule)."""

    def choose(self, proba, labels, langs):
        best = max((_macro_f1(labels, (proba >= t).astype(int)), -t) for t in THRESHOLDS)
        return {"t": -best[1]}

    def apply(self, params, proba, langs):
        return (proba >= params["t"]).astype(int)


class PerLanguage:
    """A threshold per language, each the best macro-F1 of its language."""

    def choose(self, proba, labels, langs):
        out = {}
        for lang in ("en", "zh"):
            m = langs == lang
            best = max((_macro_f1(labels[m], (proba[m] >= t).astype(int)), -t) for t in THRESHOLDS)
            out[lang] = -best[1]
        return out

    def apply(self, params, proba, langs):
        t = np.where(langs == "en", params["en"], params["zh"])[:, None]
        return (proba >= t).astype(int)


class Gate:
    """A field threshold t and an item gate g >= t: an item gets fields only when its best
    probability reaches g (a stricter bar for giving an item any field at all)."""

    def __init__(self, weight: float = 0.0) -> None:
        self.weight = weight  # weight of the "no field" accuracy in the objective

    def _score(self, labels, pred):
        none = labels.sum(axis=1) == 0
        ok = 1.0 - (pred[none].any(axis=1).mean() if none.any() else 0.0)
        return _macro_f1(labels, pred) + self.weight * ok

    def choose(self, proba, labels, langs):
        top = proba.max(axis=1, keepdims=True)
        best = max((self._score(labels, ((proba >= t) & (top >= g)).astype(int)), -g, -t)
                   for t in THRESHOLDS for g in THRESHOLDS if g >= t)
        return {"t": -best[2], "g": -best[1]}

    def apply(self, params, proba, langs):
        top = proba.max(axis=1, keepdims=True)
        return ((proba >= params["t"]) & (top >= params["g"])).astype(int)


class Relative:
    """Threshold t, and a second field only when its probability is at least r times the
    best one's (a margin over the runner-up at decision time)."""

    def choose(self, proba, labels, langs):
        top = proba.max(axis=1, keepdims=True)
        best = max((_macro_f1(labels, ((proba >= t) & (proba >= r * top)).astype(int)), -t, -r)
                   for t in THRESHOLDS for r in (0.0, 0.3, 0.5, 0.7, 0.9))
        return {"t": -best[1], "r": -best[2]}

    def apply(self, params, proba, langs):
        top = proba.max(axis=1, keepdims=True)
        return ((proba >= params["t"]) & (proba >= params["r"] * top)).astype(int)


class Capped:
    """The best macro-F1 threshold among those that give at most `cap` of the "no field"
    items a field (within the inner CV); the lowest such rate when none reaches it.
    `slack`: instead, the highest threshold within `slack` of the best macro-F1."""

    def __init__(self, cap: float = 0.10, slack: float | None = None) -> None:
        self.cap = cap
        self.slack = slack

    def choose(self, proba, labels, langs):
        none = labels.sum(axis=1) == 0
        rows = []
        for t in THRESHOLDS:
            pred = (proba >= t).astype(int)
            rows.append((_macro_f1(labels, pred), pred[none].any(axis=1).mean(), t))
        if self.slack is not None:
            best = max(r[0] for r in rows)
            return {"t": max(t for f, _, t in rows if f >= best - self.slack)}
        ok = [r for r in rows if r[1] <= self.cap]
        if not ok:
            return {"t": min(rows, key=lambda r: (r[1], -r[0]))[2]}
        return {"t": max(ok, key=lambda r: (r[0], -r[2]))[2]}

    def apply(self, params, proba, langs):
        return (proba >= params["t"]).astype(int)


# ----------------------------------------------------------------------------- fitters


def knn_scores(train_vecs, train_labels, vecs, k: int = 10, exclude_self: bool = False):
    """[items x fields + 1]: similarity-weighted share of the k nearest labelled items
    having each field, and (last column) having none."""
    sims = vecs @ train_vecs.T
    if exclude_self:
        np.fill_diagonal(sims, -np.inf)
    k = min(k, sims.shape[1])
    idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    w = np.take_along_axis(sims, idx, axis=1)
    w = np.exp((w - w.max(axis=1, keepdims=True)) / 0.05)
    y = np.hstack([train_labels, (train_labels.sum(axis=1, keepdims=True) == 0)]).astype(float)
    vote = (w[:, :, None] * y[idx]).sum(axis=1) / w.sum(axis=1, keepdims=True)
    return vote


class Extended(Calibrator):
    """The shipped calibrator plus extra columns from `extra(evidence, base_x, state)`."""

    def __init__(self, extra: Callable, fit_state: Callable | None = None, oof_state=None,
                 **kw) -> None:
        super().__init__(**kw)
        self.extra = extra
        self.fit_state = fit_state
        self.oof_state = oof_state

    def fit(self, evidence, labels, field_ids):
        from sklearn.linear_model import LogisticRegression

        from scanner.assign.calibrator import PROBE_FOLDS
        from scanner.assign.features import field_statistics
        from scanner.assign.learned import out_of_fold

        self.field_ids_ = list(field_ids)
        self.field_mean_, self.field_std_ = field_statistics(evidence)
        learned = out_of_fold(evidence.vectors, labels, PROBE_FOLDS, self.seed, self.probe_alpha)
        x = build_features(evidence, field_ids, self.field_mean_, self.field_std_, learned)
        oof = self.oof_state(evidence, labels) if self.oof_state else None
        x = np.concatenate([x, self.extra(evidence, x, oof)], axis=2)
        model = LogisticRegression(C=self.C, max_iter=3000)
        model.fit(x.reshape(-1, x.shape[2]), labels.reshape(-1))
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        self.probes_ = FieldProbes(self.probe_alpha).fit(evidence.vectors, labels)
        self.state_ = self.fit_state(evidence, labels) if self.fit_state else None
        return self

    def predict_proba(self, evidence):
        x = build_features(evidence, self.field_ids_, self.field_mean_, self.field_std_,
                           self.probes_.scores(evidence.vectors))
        st = self.state_(evidence) if self.state_ else None
        x = np.concatenate([x, self.extra(evidence, x, st)], axis=2)
        out = 1.0 / (1.0 + np.exp(-(x @ self.coef_ + self.intercept_)))
        if evidence.has_content is not None:
            out[~evidence.has_content] = 0.0
        return out


def _knn_oof(k):
    def oof(evidence, labels):
        v = evidence.vectors
        return knn_scores(v, labels, v, k, exclude_self=True)  # leave-one-out
    return oof


def _knn_state(k):
    def fit_state(evidence, labels):
        tv, tl = evidence.vectors.copy(), labels.copy()
        return lambda ev: knn_scores(tv, tl, ev.vectors, k)
    return fit_state


def knn_extra(ev, x, vote):
    m = x.shape[1]
    field = vote[:, :m]
    none = np.broadcast_to(vote[:, m:], field.shape)
    return np.stack([field, none], axis=2).astype(np.float32)


def lang_extra(ev, x, _):
    from scanner.assign.features import FEATURES

    z = ev.is_zh[:, None, None]
    cols = [FEATURES.index(c) for c in ("probe", "none_probe", "centroid_cos", "kw_any")]
    return (x[:, :, cols] * z).astype(np.float32)


def both_extra(ev, x, vote):
    return np.concatenate([knn_extra(ev, x, vote), lang_extra(ev, x, None)], axis=2)


def base(C=0.3, alpha=None):
    def fit(ev, labels, fids):
        kw = {"C": C}
        if alpha is not None:
            kw["probe_alpha"] = alpha
        return Calibrator(**kw).fit(ev, labels, fids)
    return fit


def knn(k=10, C=0.3, extra=knn_extra):
    def fit(ev, labels, fids):
        return Extended(extra, _knn_state(k), _knn_oof(k), C=C).fit(ev, labels, fids)
    return fit


def lang(C=0.3):
    def fit(ev, labels, fids):
        return Extended(lang_extra, C=C).fit(ev, labels, fids)
    return fit


class Learned(Calibrator):
    """The shipped calibrator plus columns from a learner fitted on labelled items:
    `learner(evidence, labels)` returns a function evidence -> [items x fields x k];
    training items get theirs cross-fitted (5 folds), as the probes do. `drop` zeroes
    shipped feature columns (to replace them)."""

    def __init__(self, learner: Callable, drop: tuple[str, ...] = (), **kw) -> None:
        super().__init__(**kw)
        self.learner = learner
        self.drop = drop

    def _drop(self, x):
        from scanner.assign.features import FEATURES

        for name in self.drop:
            x[:, :, FEATURES.index(name)] = 0.0
        return x

    def fit(self, evidence, labels, field_ids):
        from sklearn.linear_model import LogisticRegression

        from scanner.assign.calibrator import PROBE_FOLDS
        from scanner.assign.features import field_statistics
        from scanner.assign.learned import out_of_fold

        self.field_ids_ = list(field_ids)
        self.field_mean_, self.field_std_ = field_statistics(evidence)
        learned = out_of_fold(evidence.vectors, labels, PROBE_FOLDS, self.seed, self.probe_alpha)
        x = self._drop(build_features(evidence, field_ids, self.field_mean_, self.field_std_,
                                      learned))
        n = len(labels)
        extra = None
        order = np.random.default_rng(self.seed).permutation(n)
        for k in range(PROBE_FOLDS):
            test = order[k::PROBE_FOLDS]
            train = np.setdiff1d(np.arange(n), test)
            got = self.learner(evidence.subset(train), labels[train])(evidence.subset(test))
            if extra is None:
                extra = np.zeros((n, *got.shape[1:]), dtype=np.float32)
            extra[test] = got
        x = np.concatenate([x, extra], axis=2)
        model = LogisticRegression(C=self.C, max_iter=3000)
        model.fit(x.reshape(-1, x.shape[2]), labels.reshape(-1))
        self.coef_ = model.coef_[0].astype(np.float64)
        self.intercept_ = float(model.intercept_[0])
        self.probes_ = FieldProbes(self.probe_alpha).fit(evidence.vectors, labels)
        self.state_ = self.learner(evidence, labels)
        return self

    def predict_proba(self, evidence):
        x = self._drop(build_features(evidence, self.field_ids_, self.field_mean_,
                                      self.field_std_, self.probes_.scores(evidence.vectors)))
        x = np.concatenate([x, self.state_(evidence)], axis=2)
        out = 1.0 / (1.0 + np.exp(-(x @ self.coef_ + self.intercept_)))
        if evidence.has_content is not None:
            out[~evidence.has_content] = 0.0
        return out


def logistic_probes(C: float = 1.0, balanced: bool = False):
    """Per-field logistic regressions on the embedding (and one for no field): their
    logits, the margin over the best other field's, and the no-field logit."""
    def learner(ev, labels):
        from sklearn.linear_model import LogisticRegression

        x = ev.vectors
        y = np.hstack([labels, labels.sum(axis=1, keepdims=True) == 0]).astype(int)
        coefs, ints = [], []
        for j in range(y.shape[1]):
            if y[:, j].sum() == 0 or y[:, j].sum() == len(y):
                coefs.append(np.zeros(x.shape[1]))
                ints.append(-5.0 if y[:, j].sum() == 0 else 5.0)
                continue
            m = LogisticRegression(C=C, max_iter=2000,
                                   class_weight="balanced" if balanced else None).fit(x, y[:, j])
            coefs.append(m.coef_[0])
            ints.append(m.intercept_[0])
        W, b = np.array(coefs).T, np.array(ints)

        def score(e):
            z = e.vectors @ W + b
            f, none = z[:, :-1], z[:, -1:]
            from scanner.assign.features import _margin
            return np.stack([f, _margin(f), np.broadcast_to(none, f.shape)], axis=2)
        return score
    return learner


def neg_centroids():
    """Cosine to the centroid of each field's keyword-hit negatives (items naming the
    field's terms but labelled without it) and that minus the positive-centroid cosine."""
    def learner(ev, labels):
        m = labels.shape[1]
        fids = getattr(ev, "_fids", None)
        hit = np.zeros(labels.shape, bool)
        for i in range(len(labels)):
            names = set(ev.title_hits[i]) | set(ev.body_hits[i])
            for j, fid in enumerate(FIELD_IDS):
                hit[i, j] = fid in names
        neg = hit & (labels == 0)
        x = ev.vectors.astype(np.float64)
        def centroid(mask):
            s = mask.T.astype(float) @ x
            nrm = np.linalg.norm(s, axis=1, keepdims=True)
            return np.where(nrm > 0, s / np.maximum(nrm, 1e-12), 0.0)
        cn, cp = centroid(neg), centroid(labels == 1)
        del fids, m

        def score(e):
            a, b = e.vectors @ cn.T, e.vectors @ cp.T
            return np.stack([a, b - a], axis=2).astype(np.float32)
        return score
    return learner


def centred_probes(alpha: float = 0.3, renorm: bool = True):
    """The shipped probes and centroids, fitted on vectors with each language's mean
    removed (so a field learned mostly from English items transfers to Chinese ones)."""
    def learner(ev, labels):
        from scanner.assign.features import _margin

        z = ev.vectors.astype(np.float64)
        mu = np.stack([z[ev.is_zh == f].mean(axis=0) if (ev.is_zh == f).any() else z.mean(axis=0)
                       for f in (0.0, 1.0)])

        def centre(e):
            c = e.vectors - mu[e.is_zh.astype(int)]
            if renorm:
                c = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-9)
            return c

        probes = FieldProbes(alpha).fit(centre(ev), labels)

        def score(e):
            s = probes.scores(centre(e))
            return np.stack([s[:, :, 0], _margin(s[:, :, 0]), s[:, :, 1], _margin(s[:, :, 1]),
                             s[:, :, 2]], axis=2).astype(np.float32)
        return score
    return learner


LEARNED_COLS = ("probe", "probe_margin", "centroid_cos", "centroid_margin", "none_probe")

FIELD_IDS: list[str] = []


def with_learner(learner, drop=(), C=0.3):
    def fit(ev, labels, fids):
        FIELD_IDS[:] = fids
        return Learned(learner, drop, C=C).fit(ev, labels, fids)
    return fit


VARIANTS: dict[str, tuple[Callable, object]] = {
    "centred": (with_learner(centred_probes(), LEARNED_COLS), Global()),
    "centred_add": (with_learner(centred_probes()), Global()),
    "centred_norenorm": (with_learner(centred_probes(renorm=False), LEARNED_COLS), Global()),
    "cap10": (base(), Capped(0.10)),
    "cap12": (base(), Capped(0.12)),
    "slack01": (base(), Capped(slack=0.01)),
    "logprobe": (with_learner(logistic_probes()), Global()),
    "logprobe_only": (with_learner(logistic_probes(), ("probe", "probe_margin", "none_probe")),
                      Global()),
    "logprobe_bal": (with_learner(logistic_probes(balanced=True)), Global()),
    "logprobe_C10": (with_learner(logistic_probes(C=10.0)), Global()),
    "negcent": (with_learner(neg_centroids()), Global()),
    "baseline": (base(), Global()),
    "perlang": (base(), PerLanguage()),
    "gate": (base(), Gate()),
    "gate_w0.2": (base(), Gate(0.2)),
    "relative": (base(), Relative()),
    "knn10": (knn(10), Global()),
    "knn20": (knn(20), Global()),
    "knn10_gate": (knn(10), Gate()),
    "lang": (lang(), Global()),
    "knn10_lang": (knn(10, extra=both_extra), Global()),
    "alpha0.1": (base(alpha=0.1), Global()),
    "alpha1": (base(alpha=1.0), Global()),
    "C0.1": (base(C=0.1), Global()),
}
