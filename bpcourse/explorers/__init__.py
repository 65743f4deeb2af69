"""Slider explorers used by the chapters, one module per topic.

Each module exposes pure ``compute_*`` functions (testable without a browser) and
factories named ``*_explorer()`` (no required arguments) that wrap them in a
:class:`bpcourse.widgets.Explorer`. Import the module you need, e.g.
``from bpcourse.explorers import gradient_descent``.
"""
