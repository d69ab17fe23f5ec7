"""Your micrograd package for step 1 of the exercise."""
