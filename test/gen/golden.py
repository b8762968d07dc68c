#!/usr/bin/env python3
"""Numbered golden cases for vigil-unit: options in, files out.

Each case directory holds `args` (one command-line argument per line), optionally `config`
(given with --config), and `expected/` (the exact files). Every output is then checked by
systemd itself: `systemd-analyze verify` in a root tree with stub executables (no output at
all allowed), `systemd-analyze security --offline=true` of every service unit, companions
included, against the manifest's expected scores, and the companion files with
systemd-sysusers/systemd-tmpfiles --root."""
import argparse
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from unitcheck import verify_units, security_score, check_companions

def run_case(args, case, out):
    argv = [args.bin, "--templates", args.templates, "--output", out]
    if os.path.exists(os.path.join(case, "config")):
        argv += ["--config", os.path.join(case, "config")]
    with open(os.path.join(case, "args"), encoding="utf-8") as f:
        argv += [line.rstrip("\n") for line in f if line.strip()]
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError(f"vigil-unit failed: {p.stderr}")
    return p.stderr

def compare(case, out, update):
    expected = os.path.join(case, "expected")
    if update:
        shutil.rmtree(expected, ignore_errors=True)
        shutil.copytree(out, expected)
        return
    cmp = filecmp.dircmp(out, expected)
    problems = []
    def walk(c, prefix):
        problems.extend(prefix + n for n in c.left_only + c.right_only + c.diff_files)
        for name, sub in c.subdirs.items():
            walk(sub, prefix + name + "/")
    walk(cmp, "")
    if problems:
        raise AssertionError(f"output differs from expected/: {problems}")

def check_unit_scores(units, manifest):
    """Each companion service's score is the one its manifest entry names."""
    services = sorted(n for n in os.listdir(units) if n.endswith(".service"))
    assert sorted(manifest["unit_exposure"]) == services, \
        f"unit_exposure lists {sorted(manifest['unit_exposure'])}, files are {services}"
    for name, expected in manifest["unit_exposure"].items():
        if name == manifest["service"] + ".service" or expected is None:
            continue
        score = security_score(os.path.join(units, name))
        assert score == expected, f"{name}: exposure {score}, expected {expected}"

def check_case(args, case):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out")
        stderr = run_case(args, case, out)
        want_stderr = os.path.join(case, "stderr")
        if args.update and stderr:
            with open(want_stderr, "w", encoding="utf-8") as f:
                f.write(stderr)
        if os.path.exists(want_stderr) or stderr:
            with open(want_stderr, encoding="utf-8") as f:
                assert stderr == f.read(), f"stderr differs: {stderr!r}"
        compare(case, out, args.update)
        # layout = mix_systemd puts the units (and the manifest) in lib/systemd/system/ and
        # the companions' directories in lib/, as a tree to copy to /usr.
        units = os.path.join(out, "lib/systemd/system")
        units = units if os.path.isdir(units) else out
        manifest = json.load(open(next(os.path.join(units, n) for n in os.listdir(units)
                                       if n.endswith(".manifest.json"))))
        verify_units(units, manifest, tmp)
        service = os.path.join(units, manifest["service"] + ".service")
        score = security_score(service)
        expected = manifest["expected_exposure"]
        if expected is None:
            # Targets before 248: the manifest makes no claim; the case pins the score.
            if args.update:
                with open(os.path.join(case, "score"), "w", encoding="utf-8") as f:
                    f.write(score + "\n")
            with open(os.path.join(case, "score"), encoding="utf-8") as f:
                expected = f.read().strip()
        assert score == expected, f"exposure {score}, expected {expected}"
        assert manifest["unit_exposure"][manifest["service"] + ".service"] == \
            manifest["expected_exposure"], "unit_exposure disagrees with expected_exposure"
        check_unit_scores(units, manifest)
        check_companions(os.path.join(out, "lib") if units != out else out, tmp)
        return score

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()
    cases = sorted(d for d in os.listdir(args.cases) if re.match(r"^\d\d-", d))
    assert cases, "no golden cases found"
    failed = 0
    for name in cases:
        try:
            score = check_case(args, os.path.join(args.cases, name))
            print(f"  golden {name}: ok (exposure {score})")
        except AssertionError as e:
            failed += 1
            print(f"  golden {name}: FAILED: {e}")
    if failed:
        sys.exit(f"{failed} of {len(cases)} golden cases failed")
    print(f"golden: {len(cases)} cases passed")

if __name__ == "__main__":
    main()
