"""Checks of generated files with systemd's own tools, offline."""
import os
import re
import shlex
import subprocess

UNIT_SUFFIXES = (".service", ".path", ".socket", ".timer")

def first_word(value):
    """The executable of a command-line setting: prefixes stripped, systemd quoting removed."""
    value = value.lstrip("-+!@:")
    return shlex.split(value)[0].replace("%%", "%").replace("$$", "$")

def make_root(out, manifest, tmp):
    """A root tree for `verify --root`: the distro's units, ours, and stub executables."""
    root = os.path.join(tmp, "root")
    os.makedirs(os.path.join(root, "usr/lib/systemd"), exist_ok=True)
    os.makedirs(os.path.join(root, "etc/systemd/system"), exist_ok=True)
    link = os.path.join(root, "usr/lib/systemd/system")
    if not os.path.lexists(link):
        os.symlink("/lib/systemd/system", link)
    for name in os.listdir(out):
        if name.endswith(UNIT_SUFFIXES):
            with open(os.path.join(out, name), "rb") as src, \
                 open(os.path.join(root, "etc/systemd/system", name), "wb") as dst:
                dst.write(src.read())
    for d in manifest["directives"]:
        stub = os.path.join(root, "etc/systemd/system", d["value"])
        if d["key"] in ("After", "Wants", "Requires") and d["file"] == manifest["service"] + ".service" \
                and not os.path.exists("/lib/systemd/system/" + d["value"]) \
                and not os.path.exists(stub):
            # Units of other packages that the case names: an empty stand-in.
            with open(stub, "w") as f:
                f.write("[Unit]\nDescription=stand-in\n")
                if d["value"].endswith(".service"):
                    f.write("[Service]\nExecStart=/bin/true\n")
        if d["key"].startswith("Exec") and d["status"] != "dropped":
            exe = root + first_word(d["value"])
            os.makedirs(os.path.dirname(exe), exist_ok=True)
            with open(exe, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(exe, 0o755)
    return root

def verify_units(out, manifest, tmp):
    root = make_root(out, manifest, tmp)
    units = sorted(n for n in os.listdir(out) if n.endswith(UNIT_SUFFIXES))
    p = subprocess.run(["systemd-analyze", "verify", "--root=" + root] + units,
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", \
        f"systemd-analyze verify: rc={p.returncode} {p.stdout}{p.stderr}"

def security_score(path):
    p = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", path],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d)", p.stdout)
    assert m, f"no exposure level in: {p.stdout[-300:]} {p.stderr}"
    return m.group(1)

def check_companions(out, tmp):
    """sysusers.d then tmpfiles.d applied to a scratch root: both must succeed silently."""
    root = os.path.join(tmp, "companion-root")
    os.makedirs(os.path.join(root, "etc"), exist_ok=True)
    # The host's accounts (root, nobody) stand for users that exist before installation.
    for name in ("passwd", "group"):
        with open("/etc/" + name, "rb") as src, open(os.path.join(root, "etc", name), "wb") as dst:
            dst.write(src.read())
    for tool, sub in (("systemd-sysusers", "sysusers.d"), ("systemd-tmpfiles", "tmpfiles.d")):
        d = os.path.join(out, sub)
        if not os.path.isdir(d):
            continue
        for name in os.listdir(d):
            argv = [tool, "--root=" + root]
            argv += ["--create"] if tool == "systemd-tmpfiles" else []
            p = subprocess.run(argv + [os.path.join(d, name)], capture_output=True, text=True)
            # systemd-sysusers reports each user and group it creates; nothing else may appear.
            rest = [l for l in p.stderr.splitlines()
                    if not re.match(r"^Creating (user|group) '[a-z_][a-z0-9_-]*' ", l)]
            assert p.returncode == 0 and not rest, f"{tool} {name}: rc={p.returncode} {rest}"
            if tool == "systemd-sysusers":
                assert "Creating user" in p.stderr, "sysusers created no user"
