"""The logistic-regression baseline: L2-regularised, fitted exactly by IRLS, used for
nuisance-only baselines and as a reference classifier on hand-made features.

References
----------
Hastie T, Tibshirani R, Friedman J (2009). The Elements of Statistical Learning, 2nd ed.,
section 4.4.1 (IRLS).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from brim.errors import ConfigError
from brim.evaluate import metrics as M

__all__ = ["LogisticModel", "logistic_fit", "logistic_fit_predict"]


@dataclass
class LogisticModel:
    """An L2-regularised logistic regression on standardised features.

    Attributes
    ----------
    coef : ndarray of shape (p,)
        Weights of the standardised features.
    intercept : float
    mean, scale : ndarray of shape (p,)
        Standardisation fitted on the training features (a constant feature has scale 1).
    """

    coef: np.ndarray
    intercept: float
    mean: np.ndarray
    scale: np.ndarray

    def decision_function(self, X) -> np.ndarray:
        """Log-odds of each row of ``X`` (n, p).

        Parameters
        ----------
        X : array of shape (n, p) or (n,)
            Features, in the layout the model was fitted on (trailing axes are flattened).

        Returns
        -------
        ndarray of shape (n,)
            ``coef . (x - mean) / scale + intercept``.

        Examples
        --------
        >>> import numpy as np
        >>> from brim.evaluate import LogisticModel
        >>> m = LogisticModel(np.array([2.0]), 0.0, mean=np.zeros(1), scale=np.ones(1))
        >>> m.decision_function([[0.0], [1.0]]).tolist()
        [0.0, 2.0]
        """
        F = _features(X)
        if F.shape[1] != self.coef.size:
            raise ConfigError(
                f"X has {F.shape[1]} feature(s) per sample but the model was fit on "
                f"{self.coef.size}; pass an array of shape (n_samples, {self.coef.size})"
            )
        Z = (F - self.mean) / self.scale
        return Z @ self.coef + self.intercept

    def predict_proba(self, X) -> np.ndarray:
        """``P(y = 1 | x)`` of each row of ``X`` (n, p).

        Parameters
        ----------
        X : array of shape (n, p) or (n,)
            Features, as for :meth:`decision_function`.

        Returns
        -------
        ndarray of shape (n,)
            Probabilities in [0, 1] (the logistic function of :meth:`decision_function`).

        Examples
        --------
        >>> import numpy as np
        >>> from brim.evaluate import LogisticModel
        >>> m = LogisticModel(np.array([2.0]), 0.0, mean=np.zeros(1), scale=np.ones(1))
        >>> [round(p, 3) for p in m.predict_proba([[0.0], [1.0]]).tolist()]
        [0.5, 0.881]
        """
        return _sigmoid(self.decision_function(X))


def logistic_fit(
    X: ArrayLike, y: ArrayLike, *, l2: float = 1e-2, max_iter: int = 100
) -> LogisticModel:
    """L2-regularised logistic regression by Newton-Raphson (IRLS).

    Minimises ``sum(log(1 + exp(z)) - y z) + l2 / 2 * |w|^2`` over standardised features, the
    intercept not penalised, to a Newton step below 1e-10 (the exact optimum to round-off, not
    an early-stopped approximation). A tiny ridge (1e-9) keeps perfectly separable data finite.

    Parameters
    ----------
    X : array of shape (n, p) or (n,)
        Features (any trailing shape is flattened).
    y : array of shape (n,)
        0/1 labels.
    l2 : float
        Penalty on the standardised coefficients (>= 0).
    max_iter : int
        Newton iterations at most.

    Returns
    -------
    LogisticModel

    References
    ----------
    Hastie T, Tibshirani R, Friedman J (2009). The Elements of Statistical Learning, 2nd ed.,
    section 4.4.1 (IRLS).

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import logistic_fit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = (X[:, 0] + 0.2 * rng.normal(size=200) > 0).astype(int)
    >>> model = logistic_fit(X, y)
    >>> bool(abs(model.coef[0]) > 5 * abs(model.coef[1]))
    True
    """
    X = _features(X)
    y = M._binary(np.ravel(y), "labels").astype(np.float64)
    if len(y) != len(X):
        raise ConfigError(f"{len(X)} feature rows but {len(y)} labels")
    if y.size == 0 or y.min() == y.max():
        raise ConfigError(
            f"labels must hold both classes to fit a classifier; got {int(y.sum())} positive "
            f"and {int(y.size - y.sum())} negative samples"
        )
    if not np.all(np.isfinite(X)):
        rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        raise ConfigError(
            f"X holds NaN or infinite features in {rows.size} sample(s), the first is sample "
            f"{int(rows[0])}; impute or drop them first"
        )
    if l2 < 0:
        raise ConfigError(f"l2 must be >= 0, not {l2}")
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale == 0] = 1.0
    Z = np.c_[np.ones(len(X)), (X - mean) / scale]
    reg = np.full(Z.shape[1], float(l2))
    reg[0] = 0.0
    w = np.zeros(Z.shape[1])
    for _ in range(max_iter):
        p = _sigmoid(Z @ w)
        g = Z.T @ (p - y) + reg * w
        H = (Z * (p * (1 - p))[:, None]).T @ Z + np.diag(reg + 1e-9)
        step = np.linalg.solve(H, g)
        w -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    return LogisticModel(w[1:], float(w[0]), mean, scale)


def _features(X: ArrayLike) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 0:
        raise ConfigError("X must hold one row of features per sample, got a scalar")
    return X.reshape(len(X), int(np.prod(X.shape[1:])))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function ``1 / (1 + exp(-z))``, written with tanh (no overflow warning)."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def logistic_fit_predict(
    X_train: ArrayLike, y_train: ArrayLike, X_val: ArrayLike, y_val: ArrayLike, X_test: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """A ``fit_predict`` for tabular features: :func:`logistic_fit` (L2, IRLS), probabilities.

    Used for nuisance-only baselines; also a sensible baseline on hand-made features.

    Parameters
    ----------
    X_train : array of shape (n_train, p)
        Training features.
    y_train : array of shape (n_train,)
        Training labels 0/1.
    X_val : array of shape (n_val, p)
        Validation features (the model is not tuned on them: no hyper-parameter is searched).
    y_val : array of shape (n_val,)
        Validation labels (unused; part of the ``fit_predict`` contract).
    X_test : array of shape (n_test, p)
        Test features.

    Returns
    -------
    val_scores, test_scores : ndarray
        Predicted probabilities of class 1.

    Examples
    --------
    >>> import numpy as np
    >>> from brim.evaluate import logistic_fit_predict
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> v, t = logistic_fit_predict(X, [0, 0, 1, 1], X[:2], [0, 0], X[2:])
    >>> bool(t.min() > 0.5 > v.max())
    True
    """
    model = logistic_fit(X_train, y_train)
    return model.predict_proba(X_val), model.predict_proba(X_test)
