"""micrograde on course platforms.

    gradescope.py         grading inside Gradescope's container, and its results.json
    gradescope_export.py  the autograder.zip a course uploads to Gradescope

Homes of what is planned here: ``canvas.py`` and ``moodle.py`` (grades and feedback files
back into those learning platforms, in their own import formats).
"""
