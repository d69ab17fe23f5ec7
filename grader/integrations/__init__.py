"""micrograde on course platforms.

gradescope.py         grading inside Gradescope's container, and its results.json
gradescope_export.py  the autograder.zip a course uploads to Gradescope
canvas.py             a batch's grades into Canvas's gradebook CSV; its feedback zip
moodle.py             a batch's grades into Moodle's grading worksheet; its feedback zip
lms_export.py         what those two share: reading a batch, scaling, CSV files, zips
"""
