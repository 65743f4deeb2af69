"""Self-check questions (bpcourse.selfcheck): the verdicts in Python, the same verdicts from
the page's own script in headless Chromium (offline, from file://, by keyboard), and the
count of questions per chapter (at least four, written in round B with the chapter text).

The pilot question set below is built the way a chapter builds its questions: numbers
computed at build time from an exercise's Check, so the right value and every named
mistake's value come from the course's own code.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from bpcourse import selfcheck
from bpcourse.exercises import backprop, chain_rule, gradient_descent

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
GARBAGE = ["abc", "", "1.2.3", "--1", "0x10", "1e", "½"]


def pilot_questions() -> list:
    return [
        selfcheck.numeric_from_check(
            "sc-chain-w1",
            "In the chain a1 = tanh(w1·x), a2 = tanh(w2·a1), ŷ = w3·a2, L = (ŷ − y)², "
            "with w1 = 0.8, w2 = −1.3, w3 = 0.7, x = 1.5 and y = 0.25: what is ∂L/∂w1?",
            chain_rule.THREE_LAYER,
            case=0,
            exercise="ex-chain-three-layer",
        ),
        selfcheck.numeric_from_check(
            "sc-gd-central",
            "The central difference of sin at x = 1 with h = 0.01 (give 5 digits)?",
            gradient_descent.CENTRAL,
            case=0,
            rtol=1e-5,
        ),
        selfcheck.numeric_from_check(
            "sc-bp-delta",
            "The first entry of the output delta Δ2 for the chapter's first test batch?",
            backprop.OUTPUT_DELTA,
            case=0,
            pick=lambda d: d[0, 0],
        ),
        selfcheck.Choice(
            "sc-bp-predict",
            "Is backpropagation used when a trained model makes a prediction?",
            (
                selfcheck.Option(
                    "Yes: every prediction runs the backward pass.",
                    False,
                    "A prediction needs only the forward pass; backprop computes the "
                    "gradients that training uses to change the weights.",
                ),
                selfcheck.Option(
                    "No: a prediction is the forward pass alone.",
                    True,
                    "Backprop computes gradients of a loss, and a prediction has no loss "
                    "to differentiate.",
                ),
                selfcheck.Option(
                    "Only through the output layer.",
                    False,
                    "No layer runs backward at prediction time: the output layer is "
                    "computed forward like the others.",
                ),
            ),
        ),
        # an order of magnitude, judged on log10 (cold read 2: sc-gd-best-h)
        selfcheck.Numeric(
            "sc-order",
            "Roughly which step h is best for a central difference in float64?",
            8.7e-6,
            (("That is the forward difference's best step, about √ε.", 1.5e-8),),
            decades=0.5,
        ),
    ]


def _typed(value: float) -> str:
    return f"{value:.7g}"


# ------------------------------------------------------------------ Python verdicts
def test_numbers_are_read_as_the_page_reads_them():
    assert selfcheck.parse_number(" −0.25 ") == -0.25
    assert selfcheck.parse_number("3e-4") == 3e-4
    assert selfcheck.parse_number("0,5") == 0.5
    assert selfcheck.parse_number("1 000") == 1000
    for text in GARBAGE:
        assert selfcheck.parse_number(text) is None, text


def test_a_fraction_is_read_as_its_value():
    # cold read 2: a learner who worked ∂L/∂ŷ₁ out by hand typed "2/3" and was told
    # "That is not a number"
    assert selfcheck.parse_number("2/3") == 2 / 3
    assert selfcheck.parse_number(" −2 / 3 ") == -2 / 3
    assert selfcheck.parse_number("1.5/-3") == -0.5
    for text in ["1/0", "1/2/3", "/3", "2/", "a/b", "1//2"]:
        assert selfcheck.parse_number(text) is None, text
    q = selfcheck.Numeric("sc-frac", "?", 2 / 3, (("the sign", -2 / 3),))
    assert q.verdict("2/3") == ("correct", selfcheck.CORRECT)
    assert q.verdict("-2/3")[0] == "mistake"


def test_an_order_of_magnitude_is_judged_in_decades():
    q = pilot_questions()[4]
    assert q.decades == 0.5
    for typed in ["1e-5", "8.7e-6", "3e-6", "2.6e-5"]:  # within a factor 10^0.5 of 8.7e-6
        assert q.verdict(typed) == ("correct", selfcheck.CORRECT), typed
    for typed in ["1e-6", "1e-4", "-1e-5", "0"]:
        assert q.verdict(typed)[0] != "correct", typed
    assert q.verdict("1e-8")[0] == "mistake"  # the order of √ε, 1.5e-8
    assert "factor of 3.2" in q.tolerance_text
    with pytest.raises(ValueError, match="positive answer"):
        selfcheck.Numeric("sc-neg", "?", -1.0, decades=0.5)


def test_pilot_numeric_questions_name_every_mistake_from_the_check():
    q = pilot_questions()[0]
    assert q.answer == pytest.approx(chain_rule.chain_grad_w1(*chain_rule.CHAIN_CASES[0]))
    assert len(q.mistakes) >= 10  # the chain's named mistakes, computed by its Check
    assert q.verdict(_typed(q.answer)) == ("correct", selfcheck.CORRECT)
    for hint, value in q.mistakes:
        kind, text = q.verdict(_typed(value))
        assert kind == "mistake" and hint in text
    assert q.verdict(_typed(q.answer * 7.3 + 1))[0] == "unknown"
    for text in GARBAGE:
        assert q.verdict(text) == ("nan", selfcheck.NOT_A_NUMBER)
    assert "0.1 %" in q.tolerance_text


def test_a_hint_starting_with_a_symbol_keeps_its_spelling():
    # cold read 2: sc-chain-w1 read "Tanh' is evaluated ..."
    hints = [hint for hint, _ in pilot_questions()[0].mistakes]
    assert not any(h.startswith("Tanh") for h in hints), hints
    assert any(h.startswith("tanh'") for h in hints), hints
    # an ordinary first word is still capitalised
    assert (
        selfcheck.numeric_from_check("sc-cap", "?", gradient_descent.CENTRAL)
        .mistakes[0][0][:1]
        .isupper()
    )


def test_a_mistake_equal_to_the_answer_is_refused():
    with pytest.raises(ValueError, match="could not tell them apart"):
        selfcheck.Numeric("sc-x", "?", 1.0, (("twice nothing", 1.0000001),))
    with pytest.raises(ValueError, match="exactly one of them correct"):
        selfcheck.Choice(
            "sc-y", "?", (selfcheck.Option("a", True, ""), selfcheck.Option("b", True, ""))
        )


def test_choice_verdicts_give_each_options_explanation():
    q = pilot_questions()[3]
    assert q.verdict(None)[0] == "none"
    assert q.verdict(1) == ("correct", "Correct. " + q.options[1].explanation)
    assert q.verdict(0) == ("wrong", "Not quite. " + q.options[0].explanation)


def test_the_html_is_self_contained_and_labelled():
    for q in pilot_questions():
        page = q._repr_html_()
        assert not re.search(r"(src|href)=|https?://|fetch\(|import ", page), "no network"
        assert 'aria-live="polite"' in page and f'id="{q.id}"' in page
        if isinstance(q, selfcheck.Numeric):
            assert f'<label for="{q.id}-in"' in page and f'id="{q.id}-in"' in page


# ------------------------------------------------------------------ in the browser
@pytest.fixture(scope="module")
def page_file(tmp_path_factory) -> Path:
    questions = pilot_questions()
    body = "\n".join(q._repr_html_() for q in questions)
    path = tmp_path_factory.mktemp("selfcheck") / "index.html"
    path.write_text(
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>Self-check test page</title></head><body><main><h1>Self-check</h1>"
        f"{body}</main></body></html>"
    )
    return path


def test_the_page_answers_like_python_offline_and_by_keyboard(page_file: Path):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("The self-check browser test needs Chromium: run 'make browser-deps'.")
    questions = pilot_questions()
    remote, errors = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page()
        page.route(
            "**/*",
            lambda r: (
                r.continue_()
                if r.request.url.startswith(("file:", "data:"))
                else (remote.append(r.request.url), r.abort())
            ),
        )
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(page_file.as_uri())

        def answer(q, text: str) -> str:
            out = page.locator(f"#{q.id}-out")
            page.evaluate(
                "(id) => { document.getElementById(id).textContent = ''; }", f"{q.id}-out"
            )
            field = page.locator(f"#{q.id}-in")
            field.fill(text)
            field.press("Enter")  # the keyboard submits the form
            page.wait_for_function(
                "(id) => document.getElementById(id).textContent.length > 0", arg=f"{q.id}-out"
            )
            return out.inner_text()

        # keyboard: the first Tab reaches the first question's labelled input
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.id")
        assert focused == f"{questions[0].id}-in"
        assert (
            page.locator(f"#{focused}").evaluate("e => e.labels[0].textContent")
            == questions[0].prompt
        )

        for q in questions[:3]:
            assert answer(q, _typed(q.answer)) == selfcheck.CORRECT
            for hint, value in q.mistakes:
                shown = answer(q, _typed(value))
                assert shown == q.verdict(_typed(value))[1] and hint in shown, (q.id, hint)
            assert answer(q, _typed(q.answer * 7.3 + 1)) == selfcheck.UNKNOWN
            for text in GARBAGE[:4]:
                assert answer(q, text) == selfcheck.NOT_A_NUMBER
        # a fraction, read as Python reads it
        q = questions[0]
        for text in ["2/3", "-1.5 / 3", "1/0", "1/2/3"]:
            assert answer(q, text) == q.verdict(text)[1], text
        # an order of magnitude, judged in decades as Python judges it
        q = questions[4]
        for text in ["1e-5", "3e-6", "1e-6", "1e-4", "1e-8", "-1e-5", "2.6e-5"]:
            assert answer(q, text) == q.verdict(text)[1], text

        choice = questions[3]
        for i, option in enumerate(choice.options):
            page.locator(f"#{choice.id}-{i}").check()
            page.evaluate(
                "(id) => { document.getElementById(id).textContent = ''; }", f"{choice.id}-out"
            )
            page.locator(f"#{choice.id} button").press("Enter")
            page.wait_for_function(
                "(id) => document.getElementById(id).textContent.length > 0", arg=f"{choice.id}-out"
            )
            assert page.locator(f"#{choice.id}-out").inner_text() == choice.verdict(i)[1]
            assert option.explanation in choice.verdict(i)[1]

        violations = [
            f"{v['id']} ({v['impact']})"
            for v in Axe().run(page).response["violations"]
            if v.get("impact") in ("serious", "critical")
        ]
        browser.close()
    assert not violations, violations
    assert not errors, errors
    assert not remote, remote


# ------------------------------------------------------------------ per chapter
QUESTION = re.compile(r"selfcheck\.(?:Numeric|Choice|numeric_from_check)\(")


def _count(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum(len(QUESTION.findall(c.source)) for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.stem) for p in NOTEBOOKS],
)
def test_every_chapter_has_at_least_four_self_check_questions(path: Path):
    assert _count(path) >= 4, f"{path.stem}: {_count(path)} self-check questions"


def test_pilot_data_round_trips_through_json():
    for q in pilot_questions():
        blob = re.search(r'<script type="application/json">(.*?)</script>', q._repr_html_(), re.S)
        assert json.loads(blob.group(1))["kind"] in ("numeric", "choice")
