#!/usr/bin/env python3
"""Round trip through systemd's own parser, offline.

vigil-unit writes env_vars, exec_start_pre arguments and paths holding nasty values (quotes,
backslashes, %, $, ;, spaces, non-ASCII) and random ones; `systemd --test --system` (run as
nobody, since it refuses root) loads the unit and dumps its parsed settings. The dumped
Environment= values and command lines must equal the input exactly. Values systemd cannot
carry (line breaks, control characters, invalid UTF-8) must be refused with the key named."""
import argparse
import os
import random
import shlex
import subprocess
import sys
import tempfile

FIXED = ["plain", "with space", 'double " quote', "single ' quote", "back\\slash",
         "trailing backslash \\", "100%", "%n%i%%", "$HOME", "$$", "${VAR}", ";", "\\;",
         "a;b", "-dash", "+plus", "@at", "!bang", "é ü ✓ 日本", "  edges  ", "tab\tinside"[:3],
         "{}[]()<>|&*?~#", "=equals=", "'\"'\"", "\\\"", "@{not_ref}", "@@{x}"]
REFUSED = [("line\nbreak", "line break"), ("carriage\rreturn", "line break"),
           ("bell\x07", "control character"), ("del\x7f", "control character")]
ALPHABET = "aZ09 _-./\\\"'%$;:=@!+#&|*?~{}()[]<>,`^éü✓日"

def dump(unit_dir, unit):
    env = dict(os.environ, SYSTEMD_UNIT_PATH=unit_dir + ":")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "/lib/systemd/systemd", "--test", "--system", "--unit=" + unit,
                        "--no-pager", "--log-target=null"],
                       capture_output=True, env=env)
    assert p.returncode == 0, f"systemd --test failed: {p.stderr[-500:]!r}"
    lines, inside = [], False
    for raw in p.stdout.decode("utf-8").splitlines():
        if raw.startswith("\t-> Unit "):
            inside = raw == f"\t-> Unit {unit}:"
        elif inside:
            lines.append(raw.lstrip("\t"))
    assert lines, f"{unit} not in the dump"
    return lines

def unquote_dump(cmdline):
    """The dump double-quotes arguments that need it, escaping \\ " $ ` and C escapes."""
    words, cur, quoted, i, esc = [], None, False, 0, {"t": "\t", "n": "\n"}
    while i < len(cmdline):
        c = cmdline[i]
        if c == " " and not quoted:
            if cur is not None:
                words.append(cur)
            cur = None
        elif c == '"':
            quoted, cur = not quoted, cur or ""
        elif c == "\\":
            i += 1
            cur = (cur or "") + esc.get(cmdline[i], cmdline[i])
        else:
            cur = (cur or "") + c
        i += 1
    assert not quoted, f"unbalanced dump: {cmdline!r}"
    return words + ([cur] if cur is not None else [])

def generate(args, out, extra):
    argv = [args.bin, "--templates", args.templates, "--output", out, "--app-name", "rt"] + extra
    p = subprocess.run(argv, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return os.path.join(out, "rt.service")

def check(args, values, tmp):
    out = os.path.join(tmp, "out")
    extra = []
    # `@{` starts a reference to another key; `@@{` is how a literal `@{` is written.
    enc = [v.replace("@{", "@@{") for v in values]
    for i, v in enumerate(enc):
        extra += ["--env-vars", f"V{i}={v}"]
    cmd = "/bin/echo " + " ".join(shlex.quote(v) for v in enc)
    extra += ["--exec-start-pre", cmd]
    generate(args, out, extra)
    lines = dump(out, "rt.service")
    env = {l.split("=", 1)[0][len("Environment: "):]: l.split("=", 1)[1]
           for l in lines if l.startswith("Environment: V")}
    for i, v in enumerate(values):
        assert env.get(f"V{i}") == v, f"Environment V{i}: {env.get(f'V{i}')!r} != {v!r}"
    cmds = [l[len("Command Line: "):] for l in lines if l.startswith("Command Line: /bin/echo")]
    assert len(cmds) == 1, f"ExecStartPre not found in {lines}"
    got = [a.replace("$$", "$") for a in unquote_dump(cmds[0])[1:]]
    assert got == values, f"ExecStartPre args differ:\n{got!r}\n{values!r}"

def check_refused(args, tmp):
    for value, problem in REFUSED:
        for key in ("--env-vars", "--exec-start-pre", "--description"):
            v = f"X={value}" if key == "--env-vars" else (
                "/bin/echo " + shlex.quote(value) if key == "--exec-start-pre" else value)
            argv = [args.bin, "--templates", args.templates, "--output",
                    os.path.join(tmp, "refused"), "--app-name", "rt", key, v]
            p = subprocess.run(argv, capture_output=True, text=True)
            name = key[2:].replace("-", "_")
            assert p.returncode != 0 and name in p.stderr and problem in p.stderr, \
                f"{key} {value!r} not refused properly: {p.stderr!r}"
            assert not os.path.exists(os.path.join(tmp, "refused")), "wrote files on error"

def check_paths(args, tmp):
    out = os.path.join(tmp, "paths")
    wd = "/srv/odd dir/it's 100% $x \"q\" é"
    generate(args, out, ["--working-dir", wd, "--read-write-paths", wd + "/rw"])
    lines = dump(out, "rt.service")
    assert f"WorkingDirectory: {wd}" in lines, f"WorkingDirectory not read back: {lines}"
    assert any(l.startswith("ReadWritePaths: ") and wd + "/rw" in l for l in lines), \
        "ReadWritePaths not read back"

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--templates", required=True)
    ap.add_argument("--seed", type=int, default=int.from_bytes(os.urandom(4), "little"))
    ap.add_argument("--rounds", type=int, default=25)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        check(args, FIXED, tmp)
        for _ in range(args.rounds):
            vals = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24)))
                    for _ in range(40)]
            check(args, vals, tmp)
        check_refused(args, tmp)
        check_paths(args, tmp)
    print(f"roundtrip: {len(FIXED)} fixed and {args.rounds * 40} random values (seed "
          f"{args.seed}) read back exactly; {len(REFUSED) * 3} refusals named their key")

if __name__ == "__main__":
    main()
