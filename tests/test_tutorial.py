"""docs/tutorial.md runs as written: every ```python block is executed in order, in one
namespace, in a fresh folder; each ```text block that follows one is exactly what it
printed, and every figure the prose quotes from the output (in bold) appears in it. So the
tutorial cannot go stale: a change that moves its figures fails here until the page is
regenerated with ``python -m tests.test_tutorial`` (which rewrites the ```text blocks) and
its prose reread."""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
from pathlib import Path

import pytest

TUTORIAL = Path(__file__).parents[1] / "docs" / "tutorial.md"
BLOCK = re.compile(r"```(python|text)\n(.*?)```", re.S)
FIGURE = re.compile(r"(?<![\w.])[+-]?\d[\d,]*(?:\.\d+)?%?")  # 1,234 / -9.7% / 0.3


def blocks(text: str) -> list[tuple[str, str, int, int]]:
    """(kind, body, start, end) of every fenced python/text block, in order."""
    return [(m.group(1), m.group(2), m.start(2), m.end(2)) for m in BLOCK.finditer(text)]


def run_blocks(text: str, folder: Path) -> list[str]:
    """Execute the python blocks in ``folder``; the stdout of each, in order."""
    namespace: dict[str, object] = {"__name__": "tutorial"}
    outputs = []
    here = os.getcwd()
    os.chdir(folder)
    try:
        for kind, body, *_ in blocks(text):
            if kind != "python":
                continue
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                exec(compile(body, str(TUTORIAL), "exec"), namespace)  # noqa: S102
            outputs.append(printed.getvalue())
    finally:
        os.chdir(here)
    return outputs


def expected_outputs(text: str) -> list[str | None]:
    """Per python block, the text block right after it (None when there is none)."""
    found = blocks(text)
    out: list[str | None] = []
    for i, (kind, *_rest) in enumerate(found):
        if kind == "python":
            nxt = found[i + 1] if i + 1 < len(found) else None
            out.append(nxt[1] if nxt is not None and nxt[0] == "text" else None)
    return out


def prose(text: str) -> str:
    """The page without its fenced blocks."""
    return re.sub(r"```.*?```", " ", text, flags=re.S)


def quoted_figures(text: str) -> list[str]:
    """The figures the prose quotes from the output: those in bold (``**-9.7%**``)."""
    return [
        f
        for bold in re.findall(r"\*\*(.+?)\*\*", prose(text), flags=re.S)
        for f in FIGURE.findall(bold)
    ]


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return run_blocks(TUTORIAL.read_text(encoding="utf-8"), tmp_path_factory.mktemp("tutorial"))


def test_every_python_block_is_followed_by_what_it_prints(printed: list[str]) -> None:
    expected = expected_outputs(TUTORIAL.read_text(encoding="utf-8"))
    assert len(expected) == len(printed) >= 5
    for i, (want, got) in enumerate(zip(expected, printed)):
        assert want is not None, f"python block {i + 1} has no ```text block after it"
        assert got == want, f"python block {i + 1} printed:\n{got}"


def test_every_figure_the_prose_quotes_is_printed(printed: list[str]) -> None:
    output = "\n".join(printed)
    for figure in quoted_figures(TUTORIAL.read_text(encoding="utf-8")):
        assert figure in output, f"the tutorial quotes {figure}, which no block prints"


def test_the_prose_check_can_fail() -> None:
    page = "Taobao earned **123,456 yuan** (**+1.5%**).\n```text\n**9**\n```\n5,000 buyers.\n"
    assert quoted_figures(page) == ["123,456", "+1.5%"]


def regenerate() -> None:
    """Rewrite the tutorial's ```text blocks with what its code prints now."""
    import tempfile

    text = TUTORIAL.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        outputs = iter(run_blocks(text, Path(folder)))
    found = blocks(text)
    pieces, last = [], 0
    for i, (kind, *_) in enumerate(found):
        if kind != "python":
            continue
        out = next(outputs)
        nxt = found[i + 1] if i + 1 < len(found) else None
        if nxt is not None and nxt[0] == "text":
            pieces += [text[last : nxt[2]], out]
            last = nxt[3]
    TUTORIAL.write_text("".join([*pieces, text[last:]]), encoding="utf-8")
    sys.stdout.write(f"rewrote {TUTORIAL}\n")


if __name__ == "__main__":
    regenerate()
