"""The ``switchboard`` entry point: start-up runs with the cyclic garbage collector paused.

Opening the console builds hundreds of thousands of objects that live as long as the
process: imported modules, the config's validators, the widgets and their styles.
With the collector on, CPython ran ~240 collections over them before the first task
row was on screen, three full ones, ~130–160 ms of a ~1.3 s launch (bench/PROFILE.md
§12). So the entry point pauses the collector, and the console resumes it once the
first rows are painted (:func:`resume`): ``gc.freeze`` moves everything start-up made
out of the collector's way, so the full collections while an operator works scan only
what was made since, and collection is back on.

No collection runs at that moment: one full pass over start-up's objects took 110–200
ms in the console, on the UI loop, just as the operator starts typing, to free 8–9
thousand objects of start-up's garbage (~1 MB), which stay instead.

Every other command, and any exit, resumes it at once (:func:`main`). ``python -m
console`` is this entry point too; ``python -m console.cli`` runs without the pause.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

_paused = False


def pause() -> None:
    """Stop automatic collections until :func:`resume` (no-op if already paused)."""
    global _paused
    if not _paused and gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what start-up made and turn automatic collection back on (see the module
    doc). Only undoes :func:`pause`: a collector someone else turned off stays off."""
    global _paused
    if not _paused:
        return
    _paused = False
    gc.freeze()
    gc.enable()


def paused() -> bool:
    return _paused


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``switchboard`` with the collector paused through start-up."""
    pause()
    try:
        from console.launch import try_launch  # a valid launch record: an early first frame

        launched = try_launch(sys.argv[1:] if argv is None else list(argv))
        if launched is not None:
            return launched
        from console.cli import main as cli_main

        return cli_main(argv)
    finally:
        resume()
