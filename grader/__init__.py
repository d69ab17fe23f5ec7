"""micrograde: an autograder for the five-step micrograd exercise."""

__version__ = "0.1.0"
