r"""Self-check questions that work on a static page: no kernel, no network, ``file://``.

Two kinds, each rendered as self-contained HTML with a few lines of our own JavaScript
(no framework), usable in the book and in a live notebook alike:

* :class:`Numeric`: the reader types a number. The right value and the value each named
  mistake gives are computed by the chapter's code when the page is built
  (:func:`numeric_from_check` takes them from an exercise's
  :class:`~bpcourse.exercises.feedback.Check`), so the page answers "correct", names the
  mistake that gives the typed number, or says it matches no mistake we know of. The
  tolerance is stated (relative, or in decades for an order of magnitude); a fraction
  such as ``2/3`` is read as its value; text that is not a number gets "not a number".
* :class:`Choice`: a concept question; every option has its own explanation.

The widget is a labelled ``<input>`` (or a ``<fieldset>`` of radio buttons), a button, and
an ``aria-live`` region that announces the verdict; everything is reachable by keyboard.
``question.verdict(text)`` gives, in Python, the same verdict the page's script gives, so
the two are tested against each other.

Give a question ``exercise="ex-..."`` when it is the checker of a pencil-and-paper
exercise (tests/course/test_exercises_count.py counts it).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bpcourse.i18n import N_, _, localized, tr

__all__ = ["Choice", "Numeric", "Option", "numeric_from_check", "parse_number"]

NOT_A_NUMBER = N_("That is not a number. Type digits, e.g. 0.25, -1.5, 3e-4 or 2/3.")
CORRECT = N_("Correct.")
UNKNOWN = N_(
    "That matches no mistake we know of (and is not the right value). Check each step once more."
)
NOT_QUITE = N_("Not quite: {hints}")
OR = N_(" Or: ")
CHOOSE = N_("Choose an answer first.")
CORRECT_BECAUSE = N_("Correct. {explanation}")
NOT_QUITE_BECAUSE = N_("Not quite. {explanation}")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text: str) -> float | None:
    """A typed number, as the page's script reads it: spaces ignored, a Unicode minus
    accepted, a decimal comma accepted when it is the only separator, a fraction ``a/b``
    (two numbers, ``b`` not zero) read as its value; else ``None``."""
    t = re.sub(r"[\s\u2009\u202f]", "", str(text)).replace("\u2212", "-")
    if "," in t and "." not in t and t.count(",") == 1:
        t = t.replace(",", ".")
    if t.count("/") == 1:  # a fraction worked out by hand, e.g. 2/3 or -1/4
        top, bottom = t.split("/")
        if _NUMBER.match(top) and _NUMBER.match(bottom) and float(bottom) != 0:
            return float(top) / float(bottom)
        return None
    return float(t) if _NUMBER.match(t) else None


@dataclass(frozen=True)
class Numeric:
    """A question answered by one number.

    ``mistakes`` are ``(hint, value)`` pairs: what a named mistake gives. A typed number
    within ``rtol`` (relative, with ``atol`` as a floor) of ``answer`` is correct; of a
    mistake's value, that mistake's hint is shown. A question that asks for an order of
    magnitude gives ``decades`` instead: a positive number whose ``log10`` is within
    ``decades`` of the target's is near it (``decades=0.5``: the same power of ten,
    rounded). Values that coincide (within the
    tolerance) with the answer are refused when the question is built: the page could
    not tell them apart.
    """

    id: str
    prompt: str
    answer: float
    mistakes: Sequence[tuple[str, float]] = ()
    rtol: float = 1e-3
    atol: float = 1e-9
    exercise: str | None = None
    decades: float | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][\w-]*", self.id):
            raise ValueError(
                f"a question id is lower-case letters, digits, - and _; got {self.id!r}"
            )
        if not math.isfinite(self.answer):
            raise ValueError(f"{self.id}: the answer must be a finite number; got {self.answer}")
        if self.decades is not None and not (self.answer > 0 and self.decades > 0):
            raise ValueError(
                f"{self.id}: an order-of-magnitude question needs a positive answer and a "
                f"positive number of decades; got {self.answer} and {self.decades}"
            )
        for hint, value in self.mistakes:
            if math.isfinite(value) and self._near(value, self.answer):
                raise ValueError(
                    f"{self.id}: the mistake {hint!r} gives {value:.6g}, within the tolerance "
                    f"of the answer {self.answer:.6g}: the page could not tell them apart"
                )

    def _near(self, x: float, target: float) -> bool:
        if self.decades is not None:
            return x > 0 and target > 0 and abs(math.log10(x / target)) <= self.decades
        return abs(x - target) <= max(self.atol, self.rtol * abs(target))

    @property
    def tolerance_text(self) -> str:
        if self.decades is not None:
            return _(
                "An order of magnitude: an answer within a factor of {factor} of the right "
                "value counts as right."
            ).format(factor=f"{10**self.decades:.2g}")
        return _("An answer within {percent} % of the right value counts as right.").format(
            percent=f"{self.rtol * 100:.2g}"
        )

    def verdict(self, text: str) -> tuple[str, str]:
        """``(kind, message)`` for a typed answer: kind is ``correct``, ``mistake``,
        ``unknown`` or ``nan`` (not a number)."""
        x = parse_number(text)
        if x is None:
            return "nan", _(NOT_A_NUMBER)
        if self._near(x, self.answer):
            return "correct", _(CORRECT)
        named = [
            _(hint)
            for hint, value in self.mistakes
            if math.isfinite(value) and self._near(x, value)
        ]
        if named:
            return "mistake", _(NOT_QUITE).format(hints=_(OR).join(named))
        return "unknown", _(UNKNOWN)

    def _data(self) -> dict[str, Any]:
        return {
            "kind": "numeric",
            "answer": self.answer,
            "rtol": self.rtol,
            "atol": self.atol,
            "decades": self.decades,
            "mistakes": [[tr(h), v] for h, v in self.mistakes if math.isfinite(v)],
            "text": {
                "nan": tr(NOT_A_NUMBER),
                "correct": tr(CORRECT),
                "unknown": tr(UNKNOWN),
                "mistake": tr(NOT_QUITE),
                "or": tr(OR),
            },
        }

    def _body(self, uid: str) -> str:
        return (
            f'<label for="{uid}-in" class="bpkit-sc-prompt">{html.escape(tr(self.prompt))}</label>'
            f'<div class="bpkit-sc-row"><input id="{uid}-in" type="text" inputmode="decimal" '
            f'autocomplete="off" aria-describedby="{uid}-tol">'
            f'<button type="submit">{html.escape(tr("Check"))}</button></div>'
            f'<p id="{uid}-tol" class="bpkit-sc-note">'
            f"{html.escape(localized(lambda: self.tolerance_text))}</p>"
        )

    def _repr_html_(self) -> str:
        return _widget(self.id, self._body(self.id), self._data())

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(f"Self-check {self.id}: {self.prompt} (answer with question.verdict('...'))")


@dataclass(frozen=True)
class Option:
    """One choice of a :class:`Choice` question and why it is right or wrong."""

    text: str
    correct: bool
    explanation: str


@dataclass(frozen=True)
class Choice:
    """A concept question: pick one option; each option has its own explanation."""

    id: str
    prompt: str
    options: Sequence[Option] = field(default_factory=tuple)
    exercise: str | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][\w-]*", self.id):
            raise ValueError(
                f"a question id is lower-case letters, digits, - and _; got {self.id!r}"
            )
        if len(self.options) < 2 or sum(o.correct for o in self.options) != 1:
            raise ValueError(f"{self.id}: give at least two options, exactly one of them correct")

    def verdict(self, index: int | None) -> tuple[str, str]:
        if index is None:
            return "none", _(CHOOSE)
        option = self.options[index]
        explanation = _(option.explanation)
        if option.correct:
            return "correct", _(CORRECT_BECAUSE).format(explanation=explanation)
        return "wrong", _(NOT_QUITE_BECAUSE).format(explanation=explanation)

    def _data(self) -> dict[str, Any]:
        return {
            "kind": "choice",
            "options": [
                [o.correct, localized(lambda i=i: self.verdict(i)[1])]
                for i, o in enumerate(self.options)
            ],
            "text": {"none": tr(CHOOSE)},
        }

    def _body(self, uid: str) -> str:
        radios = "".join(
            f'<div><input type="radio" id="{uid}-{i}" name="{uid}" value="{i}">'
            f'<label for="{uid}-{i}">{html.escape(tr(o.text))}</label></div>'
            for i, o in enumerate(self.options)
        )
        return (
            f'<fieldset><legend class="bpkit-sc-prompt">{html.escape(tr(self.prompt))}</legend>'
            f"{radios}</fieldset>"
            f'<div class="bpkit-sc-row"><button type="submit">{html.escape(tr("Check"))}</button>'
            "</div>"
        )

    def _repr_html_(self) -> str:
        return _widget(self.id, self._body(self.id), self._data())

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(f"Self-check {self.id}: {self.prompt} (answer with question.verdict(index))")


# Our own few lines of script: read the question's JSON, judge on submit, announce the
# verdict in the aria-live region. Idempotent, so a page with many questions defines it
# once; no network, so it works from file:// and offline.
_SCRIPT = r"""
(function () {
  if (!window.bpkitSelfCheck) {
    var near = function (x, t, d) {
      if (d.decades !== null && d.decades !== undefined) return x > 0 && t > 0 && Math.abs(Math.log10(x / t)) <= d.decades;
      return Math.abs(x - t) <= Math.max(d.atol, d.rtol * Math.abs(t));
    };
    var num = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
    var parse = function (s) {
      var t = String(s).replace(/[\s\u2009\u202f]/g, "").replace(/\u2212/g, "-");
      if (t.indexOf(",") >= 0 && t.indexOf(".") < 0 && t.split(",").length === 2) t = t.replace(",", ".");
      var parts = t.split("/");
      if (parts.length === 2) {
        return num.test(parts[0]) && num.test(parts[1]) && parseFloat(parts[1]) !== 0 ? parseFloat(parts[0]) / parseFloat(parts[1]) : null;
      }
      if (parts.length > 2) return null;
      return num.test(t) ? parseFloat(t) : null;
    };
    window.bpkitSelfCheck = function (root) {
      if (!root || root.dataset.ready) return;
      root.dataset.ready = "1";
      var d = JSON.parse(root.querySelector("script[type='application/json']").textContent);
      var out = root.querySelector("[aria-live]");
      var say = function (kind, text) { out.dataset.kind = kind; out.textContent = ""; setTimeout(function () { out.textContent = text; }, 30); };
      root.querySelector("form").addEventListener("submit", function (e) {
        e.preventDefault();
        if (d.kind === "numeric") {
          var x = parse(root.querySelector("input").value);
          if (x === null) return say("nan", d.text.nan);
          if (near(x, d.answer, d)) return say("correct", d.text.correct);
          var named = d.mistakes.filter(function (m) { return near(x, m[1], d); }).map(function (m) { return m[0]; });
          if (named.length) return say("mistake", d.text.mistake.replace("{hints}", named.join(d.text.or)));
          return say("unknown", d.text.unknown);
        }
        var picked = root.querySelector("input[type=radio]:checked");
        if (!picked) return say("none", d.text.none);
        var o = d.options[+picked.value];
        say(o[0] ? "correct" : "wrong", o[1]);
      });
    };
  }
  var roots = document.querySelectorAll(".bpkit-selfcheck");
  for (var i = 0; i < roots.length; i++) window.bpkitSelfCheck(roots[i]);
})();
"""

_STYLE = (
    # dark text on a pale box whatever the page's theme: readable, contrast above WCAG AA
    ".bpkit-selfcheck{border:1px solid #8a8f98;border-radius:6px;padding:.6em .9em;"
    "margin:.8em 0;font-family:inherit;background:#f7f8fa;color:#1a1a1a;color-scheme:light}"
    ".bpkit-selfcheck input[type=radio]{margin:0 .45em 0 0}"
    ".bpkit-selfcheck fieldset{border:0;margin:0;padding:0}"
    ".bpkit-selfcheck legend{font-size:1em;font-weight:normal;padding:0;margin:0}"
    ".bpkit-selfcheck input[type=text]{background:#fff;color:#1a1a1a;border:1px solid #6b7280}"
    ".bpkit-selfcheck button{background:#e8eaee;color:#1a1a1a;border:1px solid #6b7280;"
    "border-radius:4px}"
    ".bpkit-selfcheck .bpkit-sc-title{font-weight:600;margin:0 0 .3em}"
    ".bpkit-selfcheck .bpkit-sc-prompt{display:block;margin-bottom:.4em}"
    ".bpkit-selfcheck .bpkit-sc-row{display:flex;gap:.5em;flex-wrap:wrap;margin:.3em 0}"
    ".bpkit-selfcheck input[type=text]{min-width:8em;flex:1 1 8em;font:inherit;padding:.2em .4em}"
    ".bpkit-selfcheck button{font:inherit;padding:.2em .9em;cursor:pointer}"
    ".bpkit-selfcheck .bpkit-sc-note{font-size:.85em;opacity:.8;margin:.2em 0}"
    ".bpkit-selfcheck [aria-live]{margin:.3em 0 0;font-weight:600}"
    ".bpkit-selfcheck [data-kind=correct]{color:#1a7f37}"
    ".bpkit-selfcheck [data-kind=mistake],.bpkit-selfcheck [data-kind=wrong]{color:#8a4500}"
)


#: Where the book serves the script and the style once for every page (in ``_static``).
PAGE_SCRIPT, PAGE_STYLE = "bpkit-selfcheck.js", "bpkit-selfcheck.css"


def page_assets() -> dict[str, str]:
    """``{file name: text}`` of the script and style the book serves once per page: in the
    book build a question carries neither (a chapter with ten questions shipped them ten
    times, 35 KB); in a notebook each output carries both, to stand alone."""
    return {PAGE_SCRIPT: _SCRIPT, PAGE_STYLE: _STYLE}


def _widget(uid: str, body: str, data: dict[str, Any]) -> str:
    payload = json.dumps(data).replace("</", "<\\/")  # never closes the <script> early
    from bpcourse.plotting import book_build

    own = not book_build()  # the book serves the script and the style once (page_assets)
    return (
        f'<div class="bpkit-selfcheck" id="{uid}" role="group" aria-labelledby="{uid}-title">'
        + (f"<style>{_STYLE}</style>" if own else "")
        + f'<p class="bpkit-sc-title" id="{uid}-title">{html.escape(tr("Self-check"))}</p>'
        f"<form novalidate>{body}</form>"
        f'<p aria-live="polite" role="status" id="{uid}-out"></p>'
        f'<script type="application/json">{payload}</script>'
        + (f"<script>{_SCRIPT}</script>" if own else "")
        + "</div>"
    )


def _sentence(hint: str) -> str:
    """A checker's hint as a sentence: capitalised, unless it starts with a symbol's name
    ("tanh' is evaluated ...", "σ'(z) ..."), which keeps its own spelling."""
    first = hint.split(" ", 1)[0]
    return hint if not first.isalpha() or first in _SYMBOLS else hint[:1].upper() + hint[1:]


_SYMBOLS = {
    "tanh",
    "relu",
    "sigmoid",
    "softmax",
    "exp",
    "log",
    "max",
    "np",
    "x",
    "y",
    "z",
    "w",
    "b",
}


def numeric_from_check(
    id: str,
    prompt: str,
    check: Any,
    case: int = 0,
    pick: Callable[[Any], float] = float,
    *,
    rtol: float = 1e-3,
    exercise: str | None = None,
    more: Sequence[tuple[str, float]] = (),
) -> Numeric:
    """A :class:`Numeric` question whose answer and mistakes come from an exercise's
    :class:`~bpcourse.exercises.feedback.Check`: the reference and every named mistake are
    evaluated on ``check.case_list()[case]`` and ``pick`` reduces each result to one number.
    A mistake that raises there, gives no finite number, or gives (within ``rtol``) the
    right value is left out; mistakes that give the same number are all named when it is
    typed. ``more`` adds ``(hint, value)`` pairs for slips that are not a wrong function
    (reading the question wrongly, say), computed by the caller."""
    args = check.case_list()[case]

    def value(fn: Callable[..., Any]) -> float | None:
        try:
            with np.errstate(all="ignore"):
                v = float(pick(fn(*args)))
        except Exception:
            return None
        return v if math.isfinite(v) else None

    answer = value(check.reference)
    if answer is None:
        raise ValueError(f"{id}: the reference gives no finite number on case {case}")
    mistakes: list[tuple[str, float]] = []
    near = lambda a, b: abs(a - b) <= max(1e-9, rtol * abs(b))  # noqa: E731
    for m in check.named_mistakes():
        v = value(m.answer)
        if v is None or near(v, answer):
            continue
        mistakes.append((_sentence(m.hint), v))
    mistakes += [(hint, float(v)) for hint, v in more]
    return Numeric(id, prompt, answer, tuple(mistakes), rtol=rtol, exercise=exercise)
