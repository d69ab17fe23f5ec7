"""Your micrograd package for step 5 of the exercise."""
