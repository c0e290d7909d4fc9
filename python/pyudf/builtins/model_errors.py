"""The errors loading and running a saved model raise, each saying what to change."""

from __future__ import annotations


class SavedModelError(ValueError):
    """A saved model cannot be loaded or run as asked (its format, signature, method or conf)."""


class UnknownFormatError(SavedModelError):
    """The model's format is not given and its path does not say it."""


class ModelInputError(SavedModelError):
    """A batch's columns do not fit the model's inputs (names, shapes or types)."""


class ModelOutputError(SavedModelError):
    """The model returned something that is not one array of one row per input row for each output."""


class MissingFrameworkError(ImportError):
    """The framework a saved model needs is not installed in the worker's Python."""
