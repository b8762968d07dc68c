#!/usr/bin/env python3
"""Exposure score of each profile's output next to a plain unit measured in the same run,
and the time vigil-unit takes to render a full set of files."""
import argparse
import os
import re
import subprocess
import tempfile
import time

def score(path):
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", path],
                       capture_output=True, text=True)
    return re.search(r"Overall exposure level for \S+: (\d+\.\d \S+)", p.stdout).group(1)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--runs", type=int, default=200)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.service")
        with open(plain, "w") as f:
            f.write("[Service]\nExecStart=/srv/foo-bar/current/bin/foo_bar start\n")
        print(f"  {'baseline: plain unit, no hardening':40} {score(plain)}")
        for label, extra in [("strict", []), ("strict, port 80 + os_mon", ["--listen-ports", "80",
                             "--os-mon"]), ("strict + ip allow-list", ["--ip-address-allow",
                             "localhost"]), ("standard", ["--hardening", "standard"]),
                             ("off", ["--hardening", "off"])]:
            out = os.path.join(tmp, label.replace(" ", "_"))
            subprocess.run([a.bin, "--templates", a.templates, "--output", out, "--app-name",
                            "foo_bar"] + extra, check=True)
            print(f"  {'vigil-unit ' + label:40} {score(os.path.join(out, 'foo-bar.service'))}")
        argv = [a.bin, "--templates", a.templates, "--app-name", "foo_bar", "--restart-method",
                "systemd_flag", "--runtime-environment-service", "--dirs", "state", "--output"]
        t0 = time.perf_counter()
        for i in range(a.runs):
            subprocess.run(argv + [os.path.join(tmp, f"set{i % 4}")], check=True)
        per = (time.perf_counter() - t0) / a.runs * 1000
        t0 = time.perf_counter()
        for _ in range(a.runs):
            subprocess.run(["/bin/true"], check=True)
        base = (time.perf_counter() - t0) / a.runs * 1000
        print(f"  render a full set (6 files): {per:.2f} ms per run, process start baseline "
              f"(/bin/true) {base:.2f} ms, ratio {per / base:.1f}x")

if __name__ == "__main__":
    main()
