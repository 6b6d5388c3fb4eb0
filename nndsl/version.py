"""The version of nndsl: one home, read by the build (hatch), the facade, run records and plots."""

__version__ = "0.1.0"
