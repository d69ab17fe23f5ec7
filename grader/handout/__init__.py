"""What students receive and how they check it at home.

build.py       ``micrograde handout``: skeleton, public staged tests, answer key, README
answer_key.py  the reference's observations for the public seed
check.py       ``micrograde check``: a student's hand-out graded against its answer key
"""
