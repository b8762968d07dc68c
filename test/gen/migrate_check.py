#!/usr/bin/env python3
"""Checks a generated output directory the way the golden cases are checked, for tests that
generate units elsewhere (the mix_systemd migration test): `systemd-analyze verify` with no
output at all, the companions through systemd-sysusers/systemd-tmpfiles, and, given
NAME=VALUE arguments, those environment values read back through systemd's own parser.

Usage: migrate_check.py OUTPUT_DIR [NAME=VALUE]..."""
import json
import os
import shutil
import sys
import tempfile

from unitcheck import verify_units, check_companions
from roundtrip import dump_block, dumped_env

def main():
    out, want = sys.argv[1], dict(a.split("=", 1) for a in sys.argv[2:])
    units = os.path.join(out, "lib/systemd/system")
    units = units if os.path.isdir(units) else out
    manifest = json.load(open(next(os.path.join(units, n) for n in os.listdir(units)
                                   if n.endswith(".manifest.json"))))
    with tempfile.TemporaryDirectory() as tmp:
        verify_units(units, manifest, tmp)
        check_companions(os.path.join(out, "lib") if units != out else out, tmp)
        if want:
            # systemd --test runs as nobody: it reads a world-readable copy of the units.
            copy = os.path.join(tmp, "units")
            shutil.copytree(units, copy)
            os.chmod(tmp, 0o755)
            for root, dirs, files in os.walk(copy):
                for d in dirs:
                    os.chmod(os.path.join(root, d), 0o755)
                for f in files:
                    os.chmod(os.path.join(root, f), 0o644)
            env = dumped_env(dump_block(copy, manifest["service"] + ".service"))
            for name, value in want.items():
                assert env.get(name) == value, f"{name}: {env.get(name)!r} != {value!r}"
    print(f"migrate_check: {manifest['service']}: verified")

if __name__ == "__main__":
    main()
