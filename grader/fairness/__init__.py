"""Fair grading: a fault costs points once, in the check that owns it, and "where to look"
names only what the evidence shows (docs/fair-grading-and-trust.md).

    contract.py        the contract's items, and which check owns each
    audit.py           a graph's nodes checked one by one against their operators
    evidence.py        what a check's differences are evidence about (items)
    decide.py          charged, excused, or sent to a counterfactual run
    counterfactual.py  the run that only excuses: charged methods grafted from the reference
    location.py        where a hang or a crash happened in the student's code
    diagnosis.py       one sentence when most failures share a cause
"""
