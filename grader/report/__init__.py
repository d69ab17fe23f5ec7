"""The HTML report: static pages, one overview and one per graded step, that work offline.

    render_report(result, out_dir)   writes out_dir/index.html and out_dir/step-<k>.html

Modules: ``views`` turns a result into page-shaped data (and decides what a hidden check
may show), ``details`` reads one check's untrusted details, ``compgraph`` / ``graph_layout``
/ ``graph_svg`` draw a computation graph, ``lossplot`` the training chart, ``svg`` holds the
escaping SVG builder, ``palette`` the colours, ``render`` the Jinja2 environment.
A batch's own pages: ``overview`` (the class overview) and ``similarity`` (the most similar
pairs of submissions side by side).
"""

from grader.report.render import render_pages, render_report

__all__ = ["render_pages", "render_report"]
