"""Regime detectors behind one interface (`RegimeDetector`, chapter 01a): the clustering labellers (chapter 02) and
the baselines (chapter 02b). Importing the package registers every kind, so `RegimeDetector.from_dict` can rebuild
any stored detector. Hand-written (no notebook exports it): it only re-exports."""
from .base import (REGIME_NAMES, RegimeDetector, check_features, one_hot, proba_columns, proba_frame,
                   regime_names)
from .labeller import Labeller, order_clusters
from .kmeans import KMeansLabeller
from .gmm import GMMLabeller
from .hmm import GaussianHMMDetector, hmm_filter
from .jump import JumpModelDetector
from .rules import Persistence, VixThreshold
