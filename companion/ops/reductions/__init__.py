"""Reductions over the last axis: ``logsumexp``, ``softmax`` and the Euclidean ``norm``."""
