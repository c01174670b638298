"""What the GPU check's table says about amp run records (JSON), for the stages that train
through the `amp` binary: `device_flag` (one run per row) and `experiment` (a grid's cells).

  records.py device RECORD   one note: epochs, final test accuracy and train loss, layers
                             amplified per epoch, seconds per epoch, the record's device
  records.py experiment DIR  a line `name|final test acc|note` per record in DIR/*/ (a grid's
                             results folder); `name|FAIL|why` for one that cannot be read
"""

import glob
import json
import os
import sys


def epochs(record):
    """The finished epochs of a record, at least one (KeyError or IndexError otherwise)."""
    e = record["epochs"]
    e[-1]["test_acc"]
    return e


def device_note(path):
    r = json.load(open(path))
    e = epochs(r)
    return "%d epochs: test acc %.3f, train loss %.4f; layers amplified per epoch %s; " \
        "s/epoch %s; record device %s" % (
            len(e), e[-1]["test_acc"], e[-1]["train_loss"],
            " ".join(str(len(x["amplified"])) for x in e),
            ", ".join("%.1f" % x["seconds"] for x in e),
            r.get("provenance", {}).get("device", "?"))


def experiment_lines(folder):
    for path in sorted(glob.glob(os.path.join(folder, "*", "*.json"))):
        name = os.path.basename(path)[: -len(".json")]
        try:
            e = epochs(json.load(open(path)))
            secs = sum(x["seconds"] for x in e)
            yield "%s|%.4f|test acc after %d epochs, %.1f s/epoch, layers amplified %s" % (
                name, e[-1]["test_acc"], len(e), secs / len(e),
                max(len(x["amplified"]) for x in e))
        except (KeyError, ValueError, IndexError) as err:
            yield "%s|FAIL|unreadable record: %s" % (path, err)


if __name__ == "__main__":
    what, arg = sys.argv[1:3]
    if what == "device":
        print(device_note(arg))
    elif what == "experiment":
        for line in experiment_lines(arg):
            print(line)
    else:
        sys.exit("records.py: unknown report %r (device or experiment)" % what)
