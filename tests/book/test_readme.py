"""The README's example runs and does what it claims."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_readme_python_example_runs_and_trains_xor():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "README has no python example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert namespace["history"].final_loss < 0.05
    assert "passed" in str(
        namespace["bpkit"].gradcheck(
            namespace["model"],
            namespace["X"],
            namespace["y"],
            loss="binary_cross_entropy_with_logits",
        )
    )
