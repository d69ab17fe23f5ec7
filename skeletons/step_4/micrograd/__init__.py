"""Your micrograd package for step 4 of the exercise."""
