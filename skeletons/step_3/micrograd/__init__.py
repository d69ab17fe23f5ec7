"""Your micrograd package for step 3 of the exercise."""
