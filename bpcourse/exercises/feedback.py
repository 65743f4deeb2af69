r"""One engine for every exercise checker.

A checker is a :class:`Check`: the exercise's label, the right answer (``reference``), a few
test inputs (``cases``) and the plausible wrong answers (``mistakes``), each a
:class:`Mistake` with a short name and a hint. ``check.run(fn)`` calls the learner's
function on a copy of every case and returns a :class:`Feedback`:

* ``"not attempted"`` while the stub still raises ``NotImplementedError``;
* ``"passed"``;
* ``"failed"``, with a message of a few lines: the hint of the :class:`Mistake` whose
  answers the learner's reproduce on every case, or else a description, in the exercise's
  own words, of how the answer differs (its shape, its sign, a constant factor, ...).
  ``Feedback.mistake`` holds the name; ``Feedback.details`` the inputs and the numbers.

The runner also says when the function returned nothing (a missing ``return``), when it
wrote into its inputs, and when it raised: a mistake that raises the same exception type
on the same input names it, or a hint for that exception type (typed, never by matching
the exception's text). Cases are chosen so that plausible mistakes give different answers;
``Check.ambiguities()`` lists the pairs that do not, and a test keeps it empty.
"""

from __future__ import annotations

import copy
import html
import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import numpy as np

from bpcourse.i18n import N_, _, localized

Status = Literal["not attempted", "passed", "failed"]
NOT_ATTEMPTED = N_("not attempted yet: replace the `raise NotImplementedError` with your answer")
RETURNED_NOTHING = N_("your function returned nothing (a missing `return`?)")
RTOL, ATOL = 1e-6, 1e-9  # the one default tolerance of every checker

# Where a learner can run a chapter: the static page's check cells link there.
# Keep equal to _config.yml's repository (a test compares them).
REPOSITORY = "https://github.com/bpkit-course/bpkit"
BRANCH = "main"
CHAPTER_OF_PREFIX = {  # exercise label "ex-<prefix>-..." -> notebook in chapters/
    "loss": "01_loss",
    "gd": "02_gradient_descent",
    "chain": "03_chain_rule",
    "value": "03_chain_rule",
    "bp": "04_backprop",
    "upd": "05_updates",
    "vanish": "06_vanishing",
    "capstone": "07_capstone",
    "mistakes": "a1_mistakes",
}


# ---------------------------------------------------------------- the verdict
@dataclass(frozen=True)
class Feedback:
    """The verdict of a checker: ``status``, a short ``message``, the name of the
    recognised ``mistake`` (if any) and ``details`` (the inputs and numbers) on request."""

    exercise: str
    status: Status
    message: str
    mistake: str | None = None
    details: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def attempted(self) -> bool:
        return self.status != "not attempted"

    def raise_if_failed(self) -> Feedback:
        """Raise ``AssertionError`` unless passed (solution cells and tests use this)."""
        if not self.passed:
            raise AssertionError(str(self) + (f"\n{self.details}" if self.details else ""))
        return self

    def __str__(self) -> str:
        message = _(self.message)  # a fixed message; a composed one is in its language already
        if self.status == "not attempted":  # the message says so already
            return f"[{self.exercise}] … {message}"
        mark = {"passed": _("✔ passed"), "failed": _("✘ not yet")}[self.status]
        return f"[{self.exercise}] {mark}: {message}"

    def _repr_pretty_(self, p, cycle) -> None:
        more = "\n  " + _("(the inputs and numbers: .details)") if self.details else ""
        p.text(localized(lambda: str(self) + more))

    def _repr_html_(self) -> str:
        # Dark text on pale backgrounds: readable and above WCAG AA contrast.
        colours = {"passed": "#e6f4ea", "failed": "#fdecea", "not attempted": "#eef1f5"}
        more = (
            f"<details><summary>{html.escape(localized(lambda: _('Details')))}</summary>"
            f'<pre style="white-space:pre-wrap;margin:0.3em 0 0">{html.escape(self.details)}</pre>'
            "</details>"
            if self.details
            else ""
        )
        return (
            f'<div class="bpkit-feedback" role="status" style="background:{colours[self.status]};'
            'color:#1a1a1a;padding:0.5em 0.8em;border-radius:4px;font-family:sans-serif">'
            f"{html.escape(localized(lambda: str(self)))}{more}</div>"
        )

    def _repr_markdown_(self) -> str | None:
        """What the static book shows for an untouched exercise (it ranks text/markdown
        first; JupyterLab and Colab rank text/html first and show the live verdict)."""
        if self.status != "not attempted":
            return None
        return localized(lambda: how_to_run(self.exercise))


def how_to_run(exercise: str) -> str:
    """Markdown for a check cell on a static page: where to run it."""
    prefix = exercise.removeprefix("ex-").split("-")[0]
    chapter = CHAPTER_OF_PREFIX.get(prefix)
    if chapter is None:
        where = _("with the launch buttons at the top of this page (Binder, Colab)")
    else:
        repo = REPOSITORY.removeprefix("https://github.com/")
        path = f"chapters/{chapter}.ipynb"
        binder = f"https://mybinder.org/v2/gh/{repo}/{BRANCH}?urlpath=lab/tree/{path}"
        colab = f"https://colab.research.google.com/github/{repo}/blob/{BRANCH}/{path}"
        where = _("on [Binder]({binder}) or [Colab]({colab})").format(binder=binder, colab=colab)
    return _(
        "**This cell checks your answer when the notebook runs.** Nothing runs on this "
        "page: open the chapter {where}, or run `make lab` in a copy of the repository, "
        "write your answer in the cell above and run this cell."
    ).format(where=where)


def passed(exercise: str, message: str = N_("well done.")) -> Feedback:
    return Feedback(exercise, "passed", message)


def failed(exercise: str, message: str, mistake: str | None = None, details: str = "") -> Feedback:
    return Feedback(exercise, "failed", message, mistake, details)


def not_attempted(exercise: str) -> Feedback:
    return Feedback(exercise, "not attempted", NOT_ATTEMPTED)


# ---------------------------------------------------------------- mistakes and forms
class Mistake(NamedTuple):
    """A plausible wrong answer: ``answer`` takes the arguments of the reference and
    returns what the mistake gives; ``hint`` names it and says how to fix it, in one or
    two sentences; ``name`` is a short stable identifier (tests and self-check questions
    use it). A plain ``(hint, answer)`` tuple is accepted and named from its hint."""

    hint: str
    answer: Callable[..., Any]
    name: str = ""

    @property
    def key(self) -> str:
        return self.name or _slug(self.hint)


def _slug(text: str) -> str:
    head = re.split(r"[:;(]", text, maxsplit=1)[0]
    words = re.findall(r"[a-z0-9]+", head.lower())[:6]
    return "-".join(words) or "mistake"


class WrongForm(Exception):
    """The learner's result has the wrong form (not numbers, the wrong container, a missing
    key). Raised by the runner's conversion and by a check's ``call`` harness; the message
    is what the learner reads."""


def close(a: Any, b: Any, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Same shape and equal within the tolerance (NaN equals NaN): the one comparison."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _leaf(value: Any, like: np.ndarray, where: str) -> np.ndarray:
    want = (
        _("one number")
        if like.shape == ()
        else _("an array of shape {shape}").format(shape=like.shape)
    )
    shown = _("the result") if where == "the result" else where
    if value is None:
        raise WrongForm(
            _("{where} is None: your function should return numbers ({want})").format(
                where=shown, want=want
            )
        )
    wrong_type = _("your function should return numbers ({want}), got {type}").format(
        want=want, type=type(value).__name__
    ) + (_(" in {where}").format(where=shown) if where != "the result" else "")
    if isinstance(value, str | bytes | bool | np.bool_):
        raise WrongForm(wrong_type)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise WrongForm(wrong_type) from None
    if like.shape == () and arr.size == 1:
        arr = arr.reshape(())
    return arr


def _conform(
    value: Any,
    like: Any,
    parts: Sequence[str] | None,
    item: str = "value",
    where: str = "the result",
) -> Any:
    """``value`` as a tree of float arrays shaped like the reference's tree ``like``."""
    if isinstance(like, dict):
        if not isinstance(value, Mapping):
            raise WrongForm(
                _("return a dict with the keys {keys}; got {type}").format(
                    keys=list(like), type=type(value).__name__
                )
            )
        missing = [k for k in like if k not in value]
        if missing:
            raise WrongForm(
                _("the result has no {item} for {missing} (missing keys)").format(
                    item=_(item), missing=missing
                )
            )
        return {
            k: _conform(value[k], like[k], None, item, _("the entry {key}").format(key=repr(k)))
            for k in like
        }
    if isinstance(like, list):
        n = len(like)
        names = parts or [_("entry {i}").format(i=i) for i in range(n)]
        if not isinstance(value, list | tuple) or len(value) != n:
            got = type(value).__name__ + (
                _(" of length {n}").format(n=len(value)) if isinstance(value, list | tuple) else ""
            )
            if parts:
                count = {2: _("two"), 3: _("three"), 4: _("four")}.get(n, str(n))
                raise WrongForm(
                    _("return {count} arrays ({names}) as a tuple; got {got}").format(
                        count=count, names=_join(parts), got=got
                    )
                )
            raise WrongForm(
                _(
                    "return a list of {n} arrays, one per input array, in the same order; got {got}"
                ).format(n=n, got=got)
            )
        return [_conform(v, w, None, item, nm) for v, w, nm in zip(value, like, names, strict=True)]
    return _leaf(value, like, where)


def _tree(value: Any) -> Any:
    """The reference's answer as a tree: dicts, lists (from tuples and lists), float arrays."""
    if isinstance(value, Mapping):
        return {k: _tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tree(v) for v in value]
    return np.asarray(value, dtype=np.float64)


def _leaves(tree: Any, parts: Sequence[str] | None, split: bool) -> dict[str, np.ndarray]:
    """The named leaves of a tree; ``split`` names the entries of a vector by ``parts``."""
    if isinstance(tree, dict):
        return dict(tree)
    if isinstance(tree, list):
        names = parts or [f"entry {i}" for i in range(len(tree))]
        return dict(zip(names, tree, strict=True))
    if split:
        return {p: tree[i] for i, p in enumerate(parts or ())}
    return {"": tree}


def _tree_close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if isinstance(b, dict):
        return isinstance(a, dict) and all(_tree_close(a[k], b[k], rtol, atol) for k in b)
    if isinstance(b, list):
        return (
            isinstance(a, list)
            and len(a) == len(b)
            and all(_tree_close(x, y, rtol, atol) for x, y in zip(a, b, strict=True))
        )
    return not isinstance(a, dict | list) and close(a, b, rtol, atol)


# ---------------------------------------------------------------- how answers differ
class Diagnosis(NamedTuple):
    """How a wrong answer differs from the right one: ``kind`` (shape, nonfinite, zero,
    sign, transpose, factor, close, other), a ``label`` and a ``fact`` about the subject."""

    kind: str
    label: str
    fact: str = ""
    factor: float | None = None

    located: bool = False  # the label names the input already

    def text(self, subject: str) -> str:
        if not self.fact:
            return self.label
        return _("{label}: {subject} {fact}").format(
            label=self.label, subject=subject, fact=self.fact
        )


def describe_difference(
    got: Any, expected: Any, rtol: float = RTOL, atol: float = ATOL
) -> Diagnosis | None:
    """``None`` if ``got`` agrees with ``expected``; else what the difference looks like,
    in words that hold for any exercise (no gradient or activation vocabulary)."""
    g, e = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape:
        hint = ""
        if g.T.shape == e.shape and close(g.T, e, rtol, atol):
            hint = _(" (transposed: its transpose is the right answer)")
        want = _("a single number") if e.shape == () else _("shape {shape}").format(shape=e.shape)
        return Diagnosis(
            "shape",
            _("wrong shape"),
            _("has shape {shape}; expected {want}").format(shape=g.shape, want=want) + hint,
        )
    if close(g, e, rtol, atol):
        return None
    if not np.all(np.isfinite(g)):
        return Diagnosis(
            "nonfinite",
            _("NaN or inf"),
            _("contains NaN or inf (an overflow or a division by zero?)"),
        )
    scale = np.max(np.abs(e), initial=0.0)
    if np.all(np.abs(g) <= atol) and scale > atol:
        return Diagnosis("zero", _("all zeros"), _("is zero where the right answer is not"))
    if close(-g, e, rtol, atol):
        return Diagnosis("sign", _("sign flipped"), _("is −1 times the right answer"))
    if g.ndim == 2 and g.shape[0] == g.shape[1] > 1 and close(g.T, e, rtol, atol):
        return Diagnosis("transpose", _("transposed"), _("is the transpose of the right answer"))
    if g.size > 1 and np.vdot(e, e) > 0:
        c = float(np.vdot(g, e) / np.vdot(e, e))  # g ≈ c e, least squares
        if c != 0 and abs(c - 1) > 1e-3 and close(g, c * e, 1e-6, atol):
            return Diagnosis(
                "factor",
                _("off by a constant factor"),
                _("is {c} times the right answer").format(c=f"{c:.4g}"),
                factor=c,
            )
    err = float(np.max(np.abs(g - e)) / max(scale, atol))
    big = np.abs(e) > 1e-9 * scale
    if err >= 1e-3 and g.size > 1 and np.all(np.abs(g[~big]) <= atol):
        r = g[big] / e[big]  # the same signs, each entry scaled by its own factor?
        if np.all(r > 0) and (r.min() >= 1 - 1e-9 or r.max() <= 1 + 1e-9):
            larger = r.min() >= 1 - 1e-9
            return Diagnosis(
                "scaled",
                _("too large entry by entry") if larger else _("too small entry by entry"),
                (
                    _(
                        "has the right signs, but each entry is larger by its own factor "
                        "({low} to {high} times the right one)"
                    )
                    if larger
                    else _(
                        "has the right signs, but each entry is smaller by its own factor "
                        "({low} to {high} times the right one)"
                    )
                ).format(low=f"{r.min():.3g}", high=f"{r.max():.3g}"),
                factor=float(np.median(r)),
            )
    if err < 1e-3:
        return Diagnosis(
            "close",
            _("close but not within the tolerance"),
            _(
                "differs by up to {err} relative to the right answer (tolerance {rtol}). "
                "The checker compares with the exact answer, so this is a small difference in "
                "the formula (a constant, or eps, in the wrong place), not rounding"
            ).format(err=f"{err:.1e}", rtol=f"{rtol:g}"),
        )
    return Diagnosis(
        "other",
        _("wrong"),
        _("differs from the right answer, and it is not a sign flip or a constant factor"),
    )


Hint = str | Callable[[Diagnosis], str]


def _gradient_factor_hint(d: Diagnosis) -> str:
    c = d.factor or 0.0
    if c > 1 and abs(c - round(c)) < 1e-6:
        # only the explanations that give this factor: a dropped ½ gives exactly 2
        if round(c) == 2:
            return _(
                "A whole number: e.g. the loss averages over the batch but the gradient sums, "
                "or the ½ in front of a squared error was dropped."
            )
        return _("A whole number: e.g. the loss averages over the batch but the gradient sums.")
    if 0 < c < 1 and abs(1 / c - round(1 / c)) < 1e-6:
        return _(
            "One over a whole number: e.g. a gradient averaged again although the delta "
            "already carries the 1/n of the mean loss."
        )
    return ""


GRADIENT_HINTS: Mapping[str, Hint] = {
    "factor": _gradient_factor_hint,
    "scaled": lambda d: (
        _(
            "A missing activation derivative looks like this: σ'(z) ≤ 1/4 and tanh'(z) ≤ 1 "
            "shrink each entry by its own factor, so without one every entry is too large."
        )
        if (d.factor or 0.0) > 1
        else _("An activation derivative applied twice looks like this.")
    ),
    "other": N_(
        "Check each chain-rule step, e.g. an activation derivative evaluated at the wrong argument."
    ),
}
"""The vocabulary of gradient exercises, for :attr:`Check.hints`: only checks of a
gradient use it, so no other exercise hears of activation derivatives."""


# ---------------------------------------------------------------- the runner
Cases = Sequence[tuple[Any, ...]] | Callable[[], Sequence[tuple[Any, ...]]]


@dataclass(frozen=True)
class Check:
    """One exercise's checker. ``check.run(fn)`` returns a :class:`Feedback`.

    ``reference(*case)`` is the right answer: a number, an array, a tuple or list of arrays
    (named by ``parts``), or a dict of arrays. ``cases`` is a sequence of argument tuples
    (or a function returning one, for inputs built on demand). ``call(fn, *case)``, when
    given, is a harness that runs the learner's ``fn`` and returns what to compare (e.g.
    builds a ``Value``, runs ``backward()`` and returns ``a.grad``). ``show(*case)`` says
    in a few words which input a message is about. ``hints`` add, per kind of
    :class:`Diagnosis`, a sentence in the exercise's own language; ``on_error`` adds one
    per exception type the learner's code raised. ``diagnose(got, expected)``, when given,
    replaces :func:`describe_difference` (e.g. gradient checks speak of gradients).
    ``describe_part(name, got, expected)``, when given, says in the exercise's words what
    is wrong with one named part of a dict or tuple answer (e.g. why a shape is
    transposed); ``None`` leaves that part to the neutral description.
    """

    exercise: str
    reference: Callable[..., Any]
    cases: Cases
    mistakes: Sequence[Mistake | tuple[str, Callable[..., Any]]] = ()
    what: str = N_("your answer")
    parts: Sequence[str] | None = None
    noun: str = N_("values")
    call: Callable[..., Any] | None = None
    show: Callable[..., str] | None = None
    rtol: float = RTOL
    atol: float = ATOL
    hints: Mapping[str, Hint] = field(default_factory=dict)
    on_error: Mapping[type[BaseException], str] = field(default_factory=dict)
    diagnose: Callable[[np.ndarray, np.ndarray], str | None] | None = None
    describe_part: Callable[[str, np.ndarray, np.ndarray], str | None] | None = None
    mutation: Literal["fail", "note"] = "fail"
    passed_message: str = N_("well done.")

    # -------------------------------------------------------- the parts of a check
    def case_list(self) -> list[tuple[Any, ...]]:
        cases = self.cases() if callable(self.cases) else self.cases
        return [tuple(c) for c in cases]

    def named_mistakes(self) -> list[Mistake]:
        return [m if isinstance(m, Mistake) else Mistake(*m) for m in self.mistakes]

    def arg_names(self) -> list[str]:
        try:
            params = inspect.signature(self.reference).parameters.values()
        except (TypeError, ValueError):
            return []
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return [p.name for p in params if p.kind in kinds]

    def _expected(self, args: tuple[Any, ...]) -> Any:
        with np.errstate(all="ignore"):
            return _tree(self.reference(*copy.deepcopy(args)))

    def _invoke(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        """Call ``fn`` on ``args``: by name when its parameters are the exercise's names
        (so an order written differently still binds right), else by position."""
        if self.call is not None:
            return self.call(fn, *args)
        names = self.arg_names()
        try:
            params = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            params = []
        if names and len(names) == len(args) and params != names and set(params) == set(names):
            return fn(**dict(zip(names, args, strict=True)))
        return fn(*args)

    def _show(self, args: tuple[Any, ...]) -> str:
        if self.show is not None:
            return self.show(*args)
        names = self.arg_names() if self.call is None else []
        shown = []
        for i, a in enumerate(args):
            name = names[i] if i < len(names) else _("argument {n}").format(n=i + 1)
            if isinstance(a, np.ndarray):
                shown.append(_("{name} of shape {shape}").format(name=name, shape=a.shape))
            elif isinstance(a, int | float | str | np.number):
                shown.append(f"{name} = {a!r}" if isinstance(a, str) else f"{name} = {a:g}")
        if not shown:
            return _("one of the test inputs")
        return _("the input {values}").format(values=", ".join(shown))

    def _show_values(self, args: tuple[Any, ...]) -> str:
        """The input's values without "the input" (``x = 1, y = 2``)."""
        shown = self._show(args)
        template = _("the input {values}")
        head, _sep, tail = template.partition("{values}")
        if shown.startswith(head) and shown.endswith(tail) and self.show is None:
            return shown[len(head) : len(shown) - len(tail)]
        return shown.removeprefix("the input ")

    # -------------------------------------------------------- running the learner
    def run(self, fn: Callable[..., Any]) -> Feedback:
        """Run ``fn`` on every case and judge it."""
        ex = self.exercise
        cases = self.case_list()
        expected = [self._expected(args) for args in cases]
        results: list[Any] = []
        errors: list[BaseException | None] = []
        mutated: list[str] = []
        for args, want in zip(cases, expected, strict=True):
            copies = copy.deepcopy(args)  # the learner may write into its inputs
            try:
                with np.errstate(all="ignore"):  # the verdict reports overflow, not a warning
                    raw = self._invoke(fn, copies)
            except NotImplementedError:
                return not_attempted(ex)
            except WrongForm as exc:  # raised by the harness: the result's form is wrong
                return failed(ex, str(exc), "wrong-form", f"for {self._show(args)}")
            except Exception as exc:  # the learner's code raised: judged below
                results.append(None)
                errors.append(exc)
                continue
            if raw is None:
                return failed(ex, RETURNED_NOTHING, "returned-nothing")
            try:
                item = self.noun[:-1] if self.noun.endswith("s") else self.noun
                results.append(_conform(raw, want, self.parts, item))
            except WrongForm as exc:
                return failed(ex, str(exc), "wrong-form", f"for {self._show(args)}")
            errors.append(None)
            mutated += [m for m in self._mutated(args, copies) if m not in mutated]

        agree = [
            err is None and _tree_close(got, want, self.rtol, self.atol)
            for got, want, err in zip(results, expected, errors, strict=True)
        ]
        note = self._mutation_note(mutated)
        if all(agree):
            if mutated and self.mutation == "fail":
                return failed(ex, note, "mutates-input")
            if not mutated:
                return passed(ex, self.passed_message)
            return passed(
                ex, _("{message} Note: {note}").format(message=_(self.passed_message), note=note)
            )
        for mistake in self.named_mistakes():
            if self._reproduces(mistake, cases, expected, results, errors):
                k = agree.index(False)
                return failed(
                    ex,
                    mistake.hint,
                    mistake.key,
                    self._details(cases[k], results[k], expected[k], errors[k], note),
                )
        k = agree.index(False)
        if errors[k] is None:  # a mistake made on the first input that goes wrong
            for mistake in self.named_mistakes():
                if self._reproduces(mistake, [cases[k]], [expected[k]], [results[k]], [None]):
                    return failed(
                        ex,
                        _("{hint} (for {input})").format(
                            hint=_(mistake.hint), input=self._show(cases[k])
                        ),
                        mistake.key,
                        self._details(cases[k], results[k], expected[k], None, note),
                    )
        return self._describe(cases, expected, results, errors, agree, note)

    def _mutated(self, originals: tuple[Any, ...], copies: tuple[Any, ...]) -> list[str]:
        names = self.arg_names() if self.call is None else []
        return [
            names[i] if i < len(names) else _("argument {n}").format(n=i + 1)
            for i, (a, c) in enumerate(zip(originals, copies, strict=True))
            if not _same(a, c)
        ]

    @staticmethod
    def _mutation_note(mutated: list[str]) -> str:
        if not mutated:
            return ""
        names = _join([f"`{m}`" for m in mutated])
        return _(
            "your function changed its input {names} in place (e.g. `x -= y` or "
            "`x[...] = ...`); the caller's arrays must stay as they were: compute into a "
            "new array (`x - y`) or work on a copy (`x = x.copy()`)."
        ).format(names=names)

    def _outcome(self, answer: Callable[..., Any], args: tuple[Any, ...], like: Any) -> Any:
        """What ``answer`` gives on a copy of ``args``, as a tree shaped like ``like``, or
        the type of the exception it raises (``WrongForm`` if its result has another form)."""
        try:
            with np.errstate(all="ignore"):
                raw = answer(*copy.deepcopy(args))
        except Exception as exc:
            return type(exc)
        try:
            return _conform(raw, like, self.parts)
        except WrongForm:
            return WrongForm

    def _reproduces(
        self,
        mistake: Mistake,
        cases: list[tuple[Any, ...]],
        expected: list[Any],
        results: list[Any],
        errors: list[BaseException | None],
    ) -> bool:
        for args, want, got, err in zip(cases, expected, results, errors, strict=True):
            wrong = self._outcome(mistake.answer, args, want)
            if isinstance(wrong, type):  # this mistake raises on these inputs
                if err is None or not isinstance(err, wrong):
                    return False
            elif err is not None or not _tree_close(got, wrong, self.rtol, self.atol):
                return False
        return True

    # -------------------------------------------------------- saying what is wrong
    def _details(self, args, got, want, err, note: str = "") -> str:
        lines = [_("for {input}:").format(input=self._show(args))]
        if err is not None:
            lines.append(
                _("  your function raised {error}: {text}").format(
                    error=type(err).__name__, text=err
                )
            )
        else:
            lines.append(_("  yours:     {value}").format(value=_short_tree(got)))
        lines.append(_("  the right: {value}").format(value=_short_tree(want)))
        if note:
            lines.append(note)
        return "\n".join(lines)

    def _diagnosis(self, got: np.ndarray, want: np.ndarray) -> Diagnosis | None:
        if self.diagnose is not None and got.shape == want.shape and np.all(np.isfinite(got)):
            if close(got, want, self.rtol, self.atol):
                return None
            text = self.diagnose(got, want)
            if text:
                return Diagnosis("custom", text)
        return describe_difference(got, want, self.rtol, self.atol)

    def _hinted(self, d: Diagnosis, subject: str) -> str:
        text = d.text(subject)
        hint = self.hints.get(d.kind)
        hint = hint(d) if callable(hint) else _(hint) if hint else hint
        return _("{text}. {hint}").format(text=text, hint=hint) if hint else text

    def _describe(self, cases, expected, results, errors, agree, note) -> Feedback:
        ex = self.exercise
        k = agree.index(False)
        if errors[k] is not None:
            exc = errors[k]
            extra = [_(h) for t, h in self.on_error.items() if isinstance(exc, t)]
            message = _("{what} raised {error}: {text}").format(
                what=_(self.what), error=type(exc).__name__, text=exc
            ) + "".join(f" {h}" for h in extra)
            return failed(
                ex, message, "raised", self._details(cases[k], None, expected[k], exc, note)
            )
        ok = [i for i, e in enumerate(errors) if e is None]
        split = bool(self.parts) and all(  # a vector whose entries the parts name
            isinstance(expected[i], np.ndarray)
            and expected[i].shape == (len(self.parts or ()),)
            and isinstance(results[i], np.ndarray)
            and results[i].shape == expected[i].shape
            for i in ok
        )
        per_case = [
            (_leaves(results[i], self.parts, split), _leaves(expected[i], self.parts, split))
            for i in ok
        ]
        names = list(per_case[0][1])
        diagnoses: dict[str, Diagnosis] = {}
        where: dict[str, int] = {}
        for name in names:
            gots = [g[name] for g, _case in per_case]
            wants = [w[name] for _, w in per_case]
            bad = [
                j
                for j, (g, w) in enumerate(zip(gots, wants, strict=True))
                if not close(g, w, self.rtol, self.atol)
            ]
            if not bad:
                continue
            where[name] = ok[bad[0]]
            if self.describe_part is not None:
                text = self.describe_part(name, gots[bad[0]], wants[bad[0]])
                if text:
                    diagnoses[name] = Diagnosis("custom", text)
                    continue
            shapes = [
                j for j, (g, w) in enumerate(zip(gots, wants, strict=True)) if g.shape != w.shape
            ]
            if shapes:
                j = shapes[0]
                diagnoses[name] = describe_difference(gots[j], wants[j])
                where[name] = ok[j]
                continue
            d = self._diagnosis(
                np.concatenate([g.ravel() for g in gots]),
                np.concatenate([w.ravel() for w in wants]),
            )
            if (
                d is not None
                and d.kind in ("other", "scaled")
                and all(w.shape == () for w in wants)
            ):
                # one number per input: say which input, and the numbers
                j = bad[0]
                g, w = float(gots[j]), float(wants[j])
                d = Diagnosis(
                    "other",
                    _("wrong for {input}").format(input=self._show_values(cases[ok[j]])),
                    _("is {got}; the right value is {right}").format(
                        got=f"{g:.6g}", right=f"{w:.6g}"
                    )
                    + (
                        _(" (over all test inputs: got [{got}], expected [{right}])").format(
                            got=", ".join(f"{float(x):.6g}" for x in gots),
                            right=", ".join(f"{float(x):.6g}" for x in wants),
                        )
                        if len(wants) <= 6 and names == [""]
                        else ""
                    ),
                    located=True,
                )
            diagnoses[name] = (
                d if d is not None else describe_difference(gots[bad[0]], wants[bad[0]])
            )
        first = where[next(iter(diagnoses))]
        details = self._details(cases[first], results[first], expected[first], None, note)
        if names == [""]:
            d = diagnoses[""]
            return failed(
                ex, self._hinted(d, _(self.what)) + _located(d, self, cases[first]), d.kind, details
            )
        wrong = list(diagnoses)
        right = [n for n in names if n not in diagnoses]
        joint = None
        if len(wrong) > 1 and all(diagnoses[n].kind not in ("shape", "custom") for n in wrong):
            # one pattern for all the wrong parts together (one factor, one sign) is said once
            joint = self._diagnosis(
                np.concatenate([g[n].ravel() for g, _case in per_case for n in wrong]),
                np.concatenate([w[n].ravel() for _, w in per_case for n in wrong]),
            )
        if joint is not None and joint.kind in ("sign", "factor", "zero", "scaled"):
            diagnoses = dict.fromkeys(wrong, joint)
        groups: dict[str, list[str]] = {}
        for name, d in diagnoses.items():
            subject = name if len(wrong) == 1 else _("each")
            if d.kind == "shape" and len(wrong) == 1:  # the learner's array, not the parameter
                mine = (
                    _("your gradient for {name}") if self.noun == "gradients" else _("your {name}")
                )
                subject = mine.format(name=name)
            key = self._hinted(d, subject)
            groups.setdefault(key, []).append(name)
        if len(groups) == 1 and diagnoses[wrong[0]].kind != "custom":
            body = next(iter(groups))
        else:
            body = "; ".join(
                f"{_join(ns)}: "
                + self._hinted(diagnoses[ns[0]], _("it") if len(ns) == 1 else _("each")).rstrip(".")
                for ns in groups.values()
            )
        tail = ""
        if right:
            tail = _(" ({names} is right.)") if len(right) == 1 else _(" ({names} are right.)")
            tail = tail.format(names=_join(right))
        kind = diagnoses[wrong[0]].kind if len(groups) == 1 else "several"
        message = _("wrong {noun} for {names}. {body}{tail}").format(
            noun=_(self.noun), names=_join(wrong), body=body, tail=tail
        )
        return failed(ex, message, kind, details)

    # -------------------------------------------------------- audits for the tests
    def ambiguities(self) -> list[tuple[str, str]]:
        """Pairs of answers (the reference and the mistakes, by name) that agree on every
        case: the cases cannot tell them apart, so a message could name the wrong one."""
        answers = [("the right answer", self.reference)] + [
            (m.key, m.answer) for m in self.named_mistakes()
        ]
        cases = self.case_list()
        likes = [self._expected(args) for args in cases]
        outputs = []
        for _name, answer in answers:
            outputs.append(
                [self._outcome(answer, args, like) for args, like in zip(cases, likes, strict=True)]
            )
        pairs = []
        for i in range(len(answers)):
            for j in range(i + 1, len(answers)):
                if all(
                    (a is b)
                    if isinstance(a, type) or isinstance(b, type)
                    else _tree_close(a, b, self.rtol, self.atol)
                    for a, b in zip(outputs[i], outputs[j], strict=True)
                ):
                    pairs.append((answers[i][0], answers[j][0]))
        return pairs


def _located(d: Diagnosis, check: Check, args: tuple[Any, ...]) -> str:
    if d.kind in ("other", "close", "nonfinite", "shape") and not d.located:
        return _(" (for {input})").format(input=check._show(args))
    return ""


def _same(a: Any, b: Any, depth: int = 0) -> bool:
    """Whether ``b`` (a copy of ``a`` handed to the learner) still equals ``a``."""
    if a is b:
        return True
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.shape == b.shape
            and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
        )
    if isinstance(a, list | tuple):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_same(x, y, depth) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same(a[k], b[k], depth) for k in a)
        )
    if isinstance(a, int | float | complex | str | bytes | np.number | type(None)):
        return bool(a == b) or (a != a and b != b)  # NaN equals NaN here
    if depth < 3 and hasattr(a, "__dict__") and not callable(a):
        return _same(vars(a), vars(b), depth + 1)
    return True  # functions and other objects: not compared


def _join(items: Sequence[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + _(" and ") + items[-1]


def _short(x: Any) -> str:
    if isinstance(x, np.ndarray) and x.shape == ():
        return f"{float(x):.6g}"
    text = np.array2string(np.asarray(x), precision=4, threshold=12, suppress_small=True)
    return " ".join(text.split())


def _short_tree(tree: Any) -> str:
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in tree.items()) + "}"
    if isinstance(tree, list):
        return "(" + ", ".join(_short_tree(v) for v in tree) + ")"
    return _short(tree)


# ---------------------------------------------------------------- the older calls
def call_answer(fn: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
    """Call the learner's function: ``(False, None)`` while it is the stub, else
    ``(True, result)`` (``result`` may be ``None``: a missing ``return``)."""
    try:
        return True, fn(*args)
    except NotImplementedError:
        return False, None


def compare_arrays(
    exercise: str,
    got: Any,
    expected: Any,
    what: str = "your answer",
    rtol: float = RTOL,
    atol: float = ATOL,
) -> Feedback:
    """Compare a learner's numbers with the right ones and say how they differ."""
    if got is None:
        return failed(exercise, RETURNED_NOTHING, "returned-nothing")
    expected = np.asarray(expected, dtype=np.float64)
    try:
        got = _leaf(got, expected, "the result")
    except WrongForm as exc:
        return failed(exercise, str(exc), "wrong-form")
    d = describe_difference(got, expected, rtol, atol)
    return passed(exercise) if d is None else failed(exercise, d.text(what), d.kind)


def check_function(
    exercise: str,
    fn: Callable[..., Any],
    reference: Callable[..., Any],
    cases: Iterable[Sequence[Any]],
    what: str = "your answer",
    rtol: float = RTOL,
    atol: float = ATOL,
    mistakes: Sequence[Mistake | tuple[str, Callable[..., Any]]] = (),
    **options: Any,
) -> Feedback:
    """Run ``fn`` against ``reference`` on each argument tuple in ``cases`` (see
    :class:`Check`, whose other options ``options`` passes on) and judge it."""
    check = Check(
        exercise,
        reference,
        [tuple(c) for c in cases],
        tuple(mistakes),
        what,
        rtol=rtol,
        atol=atol,
        **options,
    )
    return check.run(fn)
