"""Grading a whole class: many submissions, resumably, into gradebooks and an overview.

    run.py          the batch itself: plan, grade, write each result, gradebooks
    executors.py    where submissions are graded: the interface, the thread pool (default)
    distributed.py  ... or a Dask cluster (the optional extra micrograde[distributed])
    cluster.py      reaching that cluster, and checking its workers before grading
    worker.py       what the cluster's workers run
    parcel.py       a submission as plain data, to grade it on another machine
    input.py        the class folder (or a .zip of one, unpacked safely)
    lms.py          Canvas and Moodle download names -> one submission per student
    keys.py         content keys: what changed since the last run, so a rerun resumes
    stop.py         a sandbox wrapper that Ctrl-C can stop all at once
    gradebook.py    gradebook.csv, gradebook-checks.csv, gradebook.json
    finish.py       what a complete run writes last, from the results on disk
    overrides.py    grades set by hand (overrides.csv), and when one goes stale
    students.py     the files safe to hand back to each student (DIR/students/)
    similarity.py   similarity screening across the class (copydetect, an optional extra)

docs/batch.md is the staff's guide; docs/scale.md covers grading on a cluster.
"""

from grader.batch.run import BatchRequest, BatchSummary, Done, run_batch

__all__ = ["BatchRequest", "BatchSummary", "Done", "run_batch"]
