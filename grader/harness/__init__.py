"""The part of micrograde that runs next to student code.

This package is *relocatable*: it is copied into the sandbox (as ``mg_harness``) and into
students' hand-outs, where the rest of ``grader`` is absent. So its modules use only the
standard library and pytest, and import each other relatively. Nothing in here decides a
grade: inside the sandbox it only records what the student's code did (see ``observe``);
the host compares those records with the reference's (``grader.judge``).
"""
