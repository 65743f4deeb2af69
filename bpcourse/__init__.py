"""bpcourse: the course machinery around bpkit.

What the chapters use besides the library a reader reads: slider explorers
(:mod:`bpcourse.widgets`, :mod:`bpcourse.explorers`), exercise checkers
(:mod:`bpcourse.exercises`), figures and graph drawing (:mod:`bpcourse.plotting`,
:mod:`bpcourse.graph`), the chapters' teaching helpers (:mod:`bpcourse.descent`,
:mod:`bpcourse.surfaces`, :mod:`bpcourse.diagnostics`) and the gallery of buggy backward
passes (:mod:`bpcourse.bugs`).

It may import bpkit, matplotlib and ipywidgets; bpkit never imports it. Importing this
package imports none of its modules: ``from bpcourse import plotting`` loads what it names.
"""
