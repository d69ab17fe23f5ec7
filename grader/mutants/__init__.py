"""``micrograde mutants``: how well the checks catch single faults, and whom they blame.

operators.py  mutation operators: one change to a solution's source (find, replace)
frozen.py     the frozen set of mutants staff measure against (frozen.json beside it)
run.py        materialise the mutants, grade them with the batch, analyse the results
report.py     the JSON and HTML report
"""
