"""Developer tool: rebuild ``t2s_chars.txt``, every character OpenCC ``t2s`` can change.

Run from the project root: ``.venv/bin/python -m pipelines.decoding._build_t2s_chars``.
Never imported at run time.

OpenCC converts by matching dictionary keys (phrases first, then characters) and replacing each match
by its first value; no entry changes the length of what it replaces (this script checks). A text can
therefore change only at a character that some entry replaces: a key character whose value differs at
the same position. Those characters are listed here, read from the dictionaries of the installed OpenCC
(``t2s.json``'s chain) with the ``opencc_dict`` tool that ships with it. ``mirrors.is_traditional``
skips OpenCC for a text holding too few of them (most Simplified pages), which gives the same answer
sooner.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

OUTPUT = Path(__file__).with_name("t2s_chars.txt")


def _opencc_root() -> Path:
    import opencc

    return Path(opencc.__file__).parent / "clib"


def _dictionaries(config: dict[str, object]) -> list[str]:
    """The ``ocd2`` files a conversion config uses, in order."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "ocd2":
                found.append(str(node["file"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return found


def entries(config_name: str = "t2s") -> list[tuple[str, str]]:
    """(key, first value) of every dictionary entry the conversion uses."""
    root = _opencc_root()
    share = root / "share" / "opencc"
    config = json.loads((share / f"{config_name}.json").read_text("utf-8"))
    env = dict(os.environ, LD_LIBRARY_PATH=str(root / "lib64"))
    out: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in _dictionaries(config):
            text = Path(tmp) / (name + ".txt")
            subprocess.run([str(root / "bin" / "opencc_dict"), "-i", str(share / name), "-o", str(text),
                            "-f", "ocd2", "-t", "text"], check=True, env=env)
            for line in text.read_text("utf-8").splitlines():
                key, _, values = line.partition("\t")
                out.append((key, values.split(" ")[0]))
    return out


def changing_chars(pairs: list[tuple[str, str]]) -> set[str]:
    chars: set[str] = set()
    for key, value in pairs:
        if len(key) != len(value):  # mirrors.is_traditional counts on equal lengths
            raise ValueError(f"OpenCC entry {key!r} -> {value!r} changes the length")
        chars.update(k for k, v in zip(key, value, strict=True) if k != v)
    return chars


def main() -> None:
    chars = changing_chars(entries())
    OUTPUT.write_text("".join(sorted(chars)) + "\n", "utf-8")
    print(f"{len(chars)} characters written to {OUTPUT}")


if __name__ == "__main__":
    main()
