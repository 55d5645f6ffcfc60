"""Runs ``osce-kg`` with a build that stops at one step, so a test can kill or interrupt it there.

    python tests/paused_build.py STEP MARKER build ARGS...

At STEP ("convert" after the first file, "publish" just before the swap) the build writes its
process id to the file MARKER and sleeps; the test waits for MARKER (conftest.wait_for_pause).
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from pathlib import Path

import kg.publish.build
from kg.cli import cli


def main() -> None:
    step, marker, *arguments = sys.argv[1:]
    build = kg.publish.build.build

    def reached(name: str) -> None:
        if name == step:
            Path(marker).write_text(str(os.getpid()), encoding="utf-8")
            time.sleep(600)

    def paused_build(options: kg.publish.build.BuildOptions) -> kg.publish.build.BuildResult:
        return build(dataclasses.replace(options, on_step=reached))

    # the build command imports build() when it runs, so it finds this one
    kg.publish.build.build = paused_build
    cli(arguments)


if __name__ == "__main__":
    main()
