"""Your micrograd package for step 2 of the exercise."""
