#!/usr/bin/env python3
"""Round trip through systemd's own parser, offline.

vigil-unit writes env_vars, exec_start_pre arguments and paths holding nasty values (quotes,
backslashes, %, $, ;, spaces, non-ASCII) and random ones; `systemd --test --system` (run as
nobody, since it refuses root) loads the unit and dumps its parsed settings. The dumped
Environment= values and command lines must equal the input exactly. Environment values also
carry control characters (tab, newline, CR, ESC, ...), which systemd unescapes from a quoted
Environment= word; the dump prints them raw. Socket names and AF_UNIX paths go through the
socket units the same way (FileDescriptorName=, ListenStream=). Values a context cannot carry (control characters
in command lines and plain settings, line breaks and control characters in environment values
for targets before systemd accepts them) must be refused with the key named."""
import argparse
import json
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile

FIXED = ["plain", "with space", 'double " quote', "single ' quote", "back\\slash",
         "trailing backslash \\", "100%", "%n%i%%", "$HOME", "$$", "${VAR}", ";", "\\;",
         "a;b", "-dash", "+plus", "@at", "!bang", "é ü ✓ 日本", "  edges  ",
         "{}[]()<>|&*?~#", "=equals=", "'\"'\"", "\\\"", "@{not_ref}", "@@{x}"]
# Environment values only: systemd 252 (the target of these checks) takes every control byte.
ENV_ONLY = ["tab\tinside", "\ttab edges\t", "line\nbreak", "two\n\nlines\n", "carriage\rreturn",
            "bell\x07", "del\x7f", "esc\x1b[1mbold\x1b[0m", "\x01\x02\x1f", "\\t not a tab",
            "quote\t\"\n\\"]
REFUSED = [("line\nbreak", "line break"), ("carriage\rreturn", "line break"),
           ("bell\x07", "control character"), ("del\x7f", "control character"),
           ("tab\tinside", "control character")]
# Environment values a target refuses, and the version systemd accepts them from.
ENV_REFUSED = [("line\nbreak", 238, "line break", 239), ("bell\x07", 247, "control character", 248),
               ("carriage\rreturn", 247, "line break", 248), ("del\x7f", 247, "control character", 248)]
ALPHABET = "aZ09 _-./\\\"'%$;:=@!+#&|*?~{}()[]<>,`^éü✓日"

def dump_block(unit_dir, unit):
    """The unit's part of the dump, as text: values are printed raw, control bytes included."""
    env = dict(os.environ, SYSTEMD_UNIT_PATH=unit_dir + ":")
    p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "/lib/systemd/systemd", "--test", "--system", "--unit=" + unit,
                        "--no-pager", "--log-target=null"],
                       capture_output=True, env=env)
    assert p.returncode == 0, f"systemd --test failed: {p.stderr[-500:]!r}"
    text = p.stdout.decode("utf-8")
    # Each unit's part starts with "-> Unit NAME:" (252), "→ Unit NAME:" in a UTF-8 locale (257).
    parts = re.split(r"\n\t(?:->|\u2192) Unit (\S+):\n", "\n" + text)
    blocks = dict(zip(parts[1::2], parts[2::2]))
    assert unit in blocks, f"{unit} not in the dump"
    return blocks[unit]

def dump(unit_dir, unit):
    # Split on newlines only: str.splitlines() would also split on CR and other separators.
    return [l.lstrip("\t") for l in dump_block(unit_dir, unit).split("\n")]

def dumped_env(block):
    """Environment entries of a dump block. A property line starts with two tabs, so a value
    runs up to the next newline followed by a tab (none of the test values holds one)."""
    return dict(re.findall(r"\t\tEnvironment: (\w+)=(.*?)(?=\n\t|\Z)", block, re.S))

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

def check(args, values, tmp, env_only=()):
    """`values` go into env_vars and ExecStartPre's arguments, `env_only` into env_vars."""
    out = os.path.join(tmp, "out")
    extra = []
    # `@{` starts a reference to another key; `@@{` is how a literal `@{` is written.
    enc = [v.replace("@{", "@@{") for v in values]
    env_values = list(values) + list(env_only)
    for i, v in enumerate(env_values):
        extra += ["--env-vars", f"V{i}={v.replace('@{', '@@{')}"]
    cmd = "/bin/echo " + " ".join(shlex.quote(v) for v in enc)
    extra += ["--exec-start-pre", cmd]
    generate(args, out, extra)
    block = dump_block(out, "rt.service")
    lines = dump(out, "rt.service")
    env = dumped_env(block)
    for i, v in enumerate(env_values):
        assert env.get(f"V{i}") == v, f"Environment V{i}: {env.get(f'V{i}')!r} != {v!r}"
    cmds = [l[len("Command Line: "):] for l in lines if l.startswith("Command Line: /bin/echo")]
    assert len(cmds) == 1, f"ExecStartPre not found in {lines}"
    got = [a.replace("$$", "$") for a in unquote_dump(cmds[0])[1:]]
    assert got == values, f"ExecStartPre args differ:\n{got!r}\n{values!r}"

def refused(args, tmp, extra, name, problem):
    argv = [args.bin, "--templates", args.templates, "--output", os.path.join(tmp, "refused"),
            "--app-name", "rt"] + extra
    p = subprocess.run(argv, capture_output=True, text=True)
    assert p.returncode != 0 and f"{name}: value" in p.stderr and problem in p.stderr, \
        f"{extra!r} not refused properly: {p.stderr!r}"
    assert not os.path.exists(os.path.join(tmp, "refused")), "wrote files on error"

def check_env_versions(args, tmp):
    """Control bytes in environment values: refused for targets whose manager drops them,
    accepted from the version that takes them."""
    for value, old, problem, since in ENV_REFUSED:
        refused(args, tmp, ["--systemd-version", str(old), "--env-vars", f"X={value}"],
                "env_vars", f"{problem}, which environment values carry from systemd {since}")
        generate(args, os.path.join(tmp, f"v{since}"),
                 ["--systemd-version", str(since), "--env-vars", f"X={value}"])

def check_refused(args, tmp):
    """Command lines and plain settings carry no control characters at all."""
    for value, problem in REFUSED:
        refused(args, tmp, ["--exec-start-pre", "/bin/echo " + shlex.quote(value)],
                "exec_start_pre", problem)
        refused(args, tmp, ["--description", value], "description", problem)

def check_paths(args, tmp):
    out = os.path.join(tmp, "paths")
    wd = "/srv/odd dir/it's 100% $x \"q\" é"
    generate(args, out, ["--working-dir", wd, "--read-write-paths", wd + "/rw"])
    lines = dump(out, "rt.service")
    assert f"WorkingDirectory: {wd}" in lines, f"WorkingDirectory not read back: {lines}"
    assert any(l.startswith("ReadWritePaths: ") and wd + "/rw" in l for l in lines), \
        "ReadWritePaths not read back"
    # @{key} references in path keys expand before the path is checked; `-` stays in front.
    # (systemd takes no quotes in an executable's path, which here holds the deploy dir)
    wd = "/srv/odd dir/100% é"
    out = os.path.join(tmp, "refs")
    generate(args, out, ["--deploy-dir", wd, "--read-write-paths", "@{deploy_dir}/rw",
                         "--read-only-paths", "-@{current_dir}/ro",
                         "--inaccessible-paths", "@{deploy_dir}/secret",
                         "--env-files", "-@{configuration_dir}/environment",
                         "--env-files", "@{deploy_dir}/etc/environment",
                         "--runtime-environment-service-script", "@{deploy_dir}/bin/rt env"])
    lines = dump(out, "rt.service")
    for want in ("EnvironmentFile: -/etc/rt/environment",
                 f"EnvironmentFile: {wd}/etc/environment", f"ReadWritePaths: {wd}/rw",
                 f"ReadOnlyPaths: -{wd}/current/ro", f"InaccessiblePaths: {wd}/secret"):
        assert want in lines, f"{want!r} not read back: {[l for l in lines if 'Path' in l or 'Env' in l]}"
    env_cmd = [l for l in dump(out, "rt-runtime-environment.service")
               if l.startswith("Command Line: ")]
    assert len(env_cmd) == 1 and unquote_dump(env_cmd[0][len("Command Line: "):])[0] \
        .replace("$$", "$") == f"{wd}/bin/rt env", f"runtime environment script: {env_cmd}"
    refused(args, tmp, ["--env-files", "-@{app_name}/environment"], "env_files",
            "is not an absolute path")
    refused(args, tmp, ["--read-write-paths", "@{state_dir}/x"], "read_write_paths",
            "refers to a dir not listed in dirs")

# File descriptor names: printable ASCII but `:`, as systemd passes them in LISTEN_FDNAMES.
SOCKET_NAMES = ["plain", "with space", 'double " quote', "single ' quote", "back\\slash", "100%",
                "%n%i%%", "$HOME", ";", "@at", "{}[]()<>|&*?~#", "a-b.c_d", "\\x41", "-dash"]
SOCKET_PATH = "/run/rt odd 100%/a $b é.sock"

def c_unescape(text):
    """A socket address as the dump prints it: non-ASCII bytes as octal C escapes."""
    raw = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), text)
    return raw.encode("latin-1").decode("utf-8")

def check_sockets(args, tmp):
    """Each socket unit's name and address, as the manager reads them, are the ones given;
    the service is triggered by every one."""
    out = os.path.join(tmp, "sockets")
    extra = []
    for i, name in enumerate(SOCKET_NAMES):
        extra += ["--sockets", f"{name}={9000 + i}"]
    extra += ["--sockets", f"unix={SOCKET_PATH}"]
    generate(args, out, extra)
    manifest = json.load(open(os.path.join(out, "rt.manifest.json"), encoding="utf-8"))
    want = {n: f"[::]:{9000 + i}" for i, n in enumerate(SOCKET_NAMES)}
    want["unix"] = SOCKET_PATH
    assert [s["name"] for s in manifest["sockets"]] == list(want), manifest["sockets"]
    for s in manifest["sockets"]:
        lines = dump(out, s["unit"])
        listen = [c_unescape(l) for l in lines if l.startswith("ListenStream: ")]
        assert f"FileDescriptorName: {s['name']}" in lines, \
            f"{s['unit']}: name not read back: {[l for l in lines if 'FileDesc' in l]}"
        assert listen == [f"ListenStream: {want[s['name']]}"], \
            f"{s['unit']}: address not read back: {listen}"
    triggered = [l for l in dump(out, "rt.service") if l.startswith("TriggeredBy: ")]
    units = sorted(s["unit"] for s in manifest["sockets"])
    assert sorted(l.split()[1] for l in triggered) == units, f"TriggeredBy: {triggered}"
    for name, problem in (("a:b", "not printable ASCII"), ("tab\tx", "not printable ASCII"),
                          ("é", "not printable ASCII"), (" edge", "starts or ends with a space")):
        refused(args, tmp, ["--sockets", f"{name}=80"], "sockets", problem)
    return len(want)

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
        check(args, FIXED, tmp, ENV_ONLY)
        for _ in range(args.rounds):
            vals = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 24)))
                    for _ in range(40)]
            check(args, vals, tmp)
        check_refused(args, tmp)
        check_env_versions(args, tmp)
        check_paths(args, tmp)
        sockets = check_sockets(args, tmp)
    print(f"roundtrip: {len(FIXED)} fixed, {len(ENV_ONLY)} environment-only (control "
          f"characters) and {args.rounds * 40} random values (seed {args.seed}) read back "
          f"exactly, {sockets} socket units' names and addresses too; "
          f"{len(REFUSED) * 2 + len(ENV_REFUSED) + 4} refusals named their key")

if __name__ == "__main__":
    main()
