"""Reference solution of the micrograd exercise, as it stands after step 4."""
