"""Show a deliberate error in a cell, so that "Run All" reaches the end in any front end.

A cell tagged ``raises-exception`` shows its traceback in the book and under nbval, but
JupyterLab's, Colab's and VS Code's "Run All" ignore the tag and stop there. Wrap the
deliberate error instead::

    with expect_error(ValueError):
        bpkit.mse(np.zeros(3), np.zeros(4))

The cell then shows the error's type and message (and where it was raised) and the
notebook runs on. If the code does **not** raise, the cell fails: the example no longer
shows what the prose says it shows. An error of another type than the ones expected is
not caught.
"""

from __future__ import annotations

import html
import traceback
from types import TracebackType


class expect_error:  # lower case: used like contextlib.suppress
    """Context manager: catch and display an expected exception of one of ``types``."""

    def __init__(self, *types: type[BaseException]) -> None:
        self.types = types or (Exception,)
        self.error: BaseException | None = None
        self.where = ""

    def __enter__(self) -> expect_error:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None:
            names = " or ".join(t.__name__ for t in self.types)
            raise AssertionError(
                f"expected {names} here, but the code ran without an error: the example no "
                "longer shows the mistake it is meant to show"
            )
        if not isinstance(exc, self.types):
            return False  # not the error this cell is about: let it propagate
        self.error = exc
        frames = traceback.extract_tb(tb)
        if frames:
            last = frames[-1]
            self.where = f"in {last.name}, line {last.lineno}"
        _display(self)
        return True

    def __str__(self) -> str:
        if self.error is None:
            return "expect_error: no error yet"
        where = f" ({self.where})" if self.where else ""
        return f"{type(self.error).__name__}{where}, raised on purpose: {self.error}"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        return (
            '<div class="bpkit-expected-error" role="note" style="background:#fff4e5;'
            "color:#1a1a1a;border-left:4px solid #b35900;padding:0.5em 0.8em;"
            'font-family:sans-serif"><strong>⚠ Expected error.</strong> '
            # the code keeps the box's colours: a dark theme's code colour is light, and
            # would be unreadable on this light background
            '<code style="color:inherit;background:transparent">'
            f"{html.escape(str(self))}</code></div>"
        )


def _display(obj: object) -> None:
    try:
        from IPython.display import display
    except ImportError:  # plain Python: the exception is caught, say so on stderr
        import sys

        sys.stderr.write(str(obj) + "\n")
        return
    display(obj)
