"""The domain guard: a surrogate is trusted only inside the box of inputs it
was trained on; outside it extrapolates, and says so."""
import warnings

import numpy as np

__all__ = ["DomainGuard", "OutOfDomainError", "OutOfDomainWarning", "UncertainPredictionWarning", "DOMAIN_MODES"]

DOMAIN_MODES = ("warn", "raise", "ignore")
SLACK = 1e-9  # of each input's range: round-off at the boundary is inside


class OutOfDomainError(ValueError):
    """`predict` was asked for a point outside the training box (domain="raise")."""


class OutOfDomainWarning(UserWarning):
    """`predict` was asked for a point outside the training box (domain="warn")."""


class UncertainPredictionWarning(UserWarning):
    """An ensemble's members disagree at some points more than at any validation case."""


def rms_spread(std):
    """Each profile's root-mean-square spread over the grid, from std (n, m)."""
    return np.sqrt(np.mean(np.square(std), axis=1))


def check_spread(rms, limit, stacklevel=3):  # 3: the caller of predict
    """Warn if any profile's RMS spread `rms` (n,) exceeds `limit`; the mask of those rows.

    Inside the box a surrogate can still be unsure: where the ensemble's
    members disagree more than on every validation case, the fit was never
    checked at such a spread, and its error there is unknown.
    """
    rows = rms > limit
    if rows.any():
        warnings.warn(f"{int(rows.sum())} of {rms.size} prediction(s) have an ensemble spread (RMS over "
                      f"the grid, up to {float(rms.max()):.3g}) above the largest seen on the validation "
                      f"cases ({limit:.3g}): the members disagree there more than anywhere the fit was "
                      f"checked; treat these predictions as uncertain, or solve there",
                      UncertainPredictionWarning, stacklevel=stacklevel)
    return rows


def check_domain_mode(value, name="domain"):
    if value not in DOMAIN_MODES:
        raise ValueError(f"`{name}` must be one of {DOMAIN_MODES}, got {value!r}")
    return value


class DomainGuard:
    """The trusted box [lower, upper] of the inputs, named `names`."""

    def __init__(self, lower, upper, names):
        self.lower, self.upper, self.names = lower, upper, list(names)

    def _excursions(self, X):
        width = self.upper - self.lower
        slack = SLACK * np.where(width > 0, width, 1.0)
        below = (self.lower - slack) - X
        above = X - (self.upper + slack)
        return below, above, (below > 0) | (above > 0), width, slack

    def outside(self, X):
        """Boolean mask of the rows of float64 X (n, d) outside the box."""
        return self._excursions(X)[2].any(axis=1)

    def check(self, X, mode, stacklevel=3):  # 3: the caller of predict
        """Warn or raise (per `mode`) if rows of float64 X leave the box; the mask of those rows."""
        if mode == "ignore" or ((X >= self.lower) & (X <= self.upper)).all():
            return np.zeros(X.shape[0], dtype=bool)  # the common case, cheaply
        below, above, outside, width, slack = self._excursions(X)
        rows = outside.any(axis=1)
        if not rows.any():
            return rows
        parts = []
        for j in np.flatnonzero(outside.any(axis=0)):
            lo_by = float(np.max(below[:, j]) + slack[j]) if (below[:, j] > 0).any() else 0.0
            hi_by = float(np.max(above[:, j]) + slack[j]) if (above[:, j] > 0).any() else 0.0
            by, side = (lo_by, "below") if lo_by >= hi_by else (hi_by, "above")
            rel = f" ({100 * by / width[j]:.3g}% of the range)" if width[j] > 0 else ""
            parts.append(f"{self.names[j]} in {int(outside[:, j].sum())} row(s), up to {by:.4g} "
                         f"{side} the training range [{self.lower[j]:.6g}, {self.upper[j]:.6g}]{rel}")
        msg = (f"{int(rows.sum())} of {X.shape[0]} input point(s) lie outside the box the surrogate "
               f"was trained on, where it extrapolates: " + "; ".join(parts))
        if mode == "raise":
            raise OutOfDomainError(msg)
        warnings.warn(msg, OutOfDomainWarning, stacklevel=stacklevel)
        return rows
