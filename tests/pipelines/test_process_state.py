"""A local run leaves the process as it found it: kfp.local's indenting print and its log handlers on the run's stdout go with it."""

import builtins
import logging

from labelgate.pipelines import local as L


def test_state_restored(tmp_path):
    import io
    p = builtins.print
    tee = L._LogTee(io.StringIO(), lambda s: None)
    with L._process_state_kept():
        builtins.print = lambda *a, **k: None
        logging.getLogger("kfp.x").addHandler(logging.StreamHandler(tee))
        keep = logging.StreamHandler(io.StringIO())
        logging.getLogger("other").addHandler(keep)
    assert builtins.print is p
    assert not logging.getLogger("kfp.x").handlers  # it wrote to the run's stdout: gone with the run
    assert keep in logging.getLogger("other").handlers  # a library's own handler stays
    logging.getLogger("other").removeHandler(keep)
