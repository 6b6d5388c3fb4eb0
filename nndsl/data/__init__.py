"""Loading data sources into arrays, with errors that name the file, column and row."""

from .table import Dataset

__all__ = ["Dataset"]
