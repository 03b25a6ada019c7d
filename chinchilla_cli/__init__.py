"""chinchilla: plan compute-optimal language-model training (Hoffmann et al. 2022)."""

__version__ = "0.1.0"
