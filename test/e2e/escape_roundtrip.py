#!/usr/bin/env python3
"""Escaping round trip through a running systemd (release_test.sh).

`gen BIN DIR` writes, with vigil-unit, a unit `rt.service` whose env_vars and exec_start_pre
arguments hold nasty values (quotes, backslashes, %, $, spaces, UTF-8; and in env_vars only,
control bytes), and DIR/expected.json.

`check DIR SHOW BUS DUMP` compares what systemd reports with the input and prints one line per
view, `ok ...` or `FAIL ...`:
  SHOW  `systemctl show -p Environment -p ExecStartPre rt` (the Environment= list is quoted as
        systemd's shell_maybe_quote() does: words separated by spaces, a word that needs it in
        double quotes with \\ " ` $ and C escapes backslash-escaped; ExecStartPre's argv[] is
        the arguments joined by single spaces, unquoted, so it is compared as such);
  BUS   `busctl --json=short get-property ... ExecStartPre` (the exact argv, before systemd's
        exec-time $ expansion, in which $$ stands for $);
  DUMP  the journal of the unit's ExecStartPre (argv-dump): the argv and environment the
        process really received, hex-encoded."""
import json
import os
import subprocess
import sys

VALUES = ["with space", 'double " quote', "single ' quote", "back\\slash", "trailing \\",
          "100%", "%n%i%%", "$HOME", "$$", "${VAR}", "a;b", ";", "é ü ✓ 日本", "  edges  ",
          "=equals=", "'\"'\"", "\\\"", "@{not_a_key}", "{}[]()<>|&*?~#`", "-dash", "!bang",
          "tab-less\\t", "\\x41", "end$"]
# Control bytes, which environment values carry (as C escapes) and command lines refuse.
ENV_ONLY = ["tab\tinside", "two\nlines", "cr\rlf", "bell\x07 esc\x1b del\x7f"]
DUMPER = "/usr/local/bin/argv-dump"


def encode(value):
    """vigil-unit's input syntax: @{ starts a key reference, @@{ is a literal @{."""
    return value.replace("@{", "@@{")


def shell_word(value):
    """One word of a command line in the syntax exec_start_pre is given in (POSIX shell)."""
    return "'" + value.replace("'", "'\\''") + "'"


def gen(binary, out):
    argv = [binary, "--output", out, "--app-name", "rt", "--service-type", "exec",
            "--restart", "no", "--dynamic-user", "--watchdog-sec", "0"]
    for i, v in enumerate(VALUES + ENV_ONLY):
        argv += ["--env-vars", f"V{i}={encode(v)}"]
    argv += ["--exec-start-pre", " ".join([DUMPER] + [shell_word(encode(v)) for v in VALUES])]
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"values": VALUES, "env_only": ENV_ONLY}, f)


def unquote_words(text):
    """Splits systemctl's quoted list back into its words."""
    words, cur, quoted, i = [], None, False, 0
    cesc = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
    while i < len(text):
        c = text[i]
        if c == " " and not quoted:
            if cur is not None:
                words.append(cur)
            cur = None
        elif c == '"':
            quoted, cur = not quoted, cur or ""
        elif c == "\\" and quoted:
            i += 1
            n = text[i]
            if n == "x":
                cur += bytes([int(text[i + 1:i + 3], 16)]).decode("latin-1")
                i += 2
            elif n in "01234567":  # cescape() writes other control bytes as \NNN
                cur += chr(int(text[i:i + 3], 8))
                i += 2
            else:
                cur += cesc.get(n, n)
        else:
            cur = (cur or "") + c
        i += 1
    if quoted:
        raise ValueError(f"unbalanced quotes in {text!r}")
    return words + ([cur] if cur is not None else [])


def env_of(words):
    return dict(w.split("=", 1) for w in words if "=" in w)


def report(name, expected, got):
    if expected == got:
        print(f"ok   {name}")
        return
    print(f"FAIL {name}")
    if isinstance(expected, list) and isinstance(got, list):
        for i, (e, g) in enumerate(zip(expected, got)):
            if e != g:
                print(f"     [{i}] expected {e!r}, got {g!r}")
        if len(expected) != len(got):
            print(f"     expected {len(expected)} values, got {len(got)}")
    else:
        print(f"     expected {expected!r}\n     got      {got!r}")


def check(out, show, bus, dump):
    with open(os.path.join(out, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    values, env_values = expected["values"], expected["values"] + expected["env_only"]
    names = [f"V{i}" for i in range(len(env_values))]
    dollars = [v.replace("$", "$$") for v in values]
    props = {}
    with open(show, encoding="utf-8") as f:
        for line in f.read().splitlines():
            key, _, val = line.partition("=")
            props[key] = val
    env = env_of(unquote_words(props.get("Environment", "")))
    report(f"systemctl show Environment: {len(env_values)} nasty values read back exactly",
           env_values, [env.get(n) for n in names])
    pre = props.get("ExecStartPre", "")
    argv = pre.partition(" ; argv[]=")[2].rpartition(" ; ignore_errors=")[0]
    report("systemctl show ExecStartPre: argv[] as systemd joins it",
           " ".join([DUMPER] + dollars), argv)
    with open(bus, encoding="utf-8") as f:
        data = json.load(f)["data"]
    report("D-Bus ExecStartPre: the exact argv ($$ for $)", [DUMPER] + dollars,
           data[0][1] if data else None)
    lines = {}
    with open(dump, encoding="utf-8") as f:
        for line in f.read().splitlines():
            tag, _, hexed = line.partition(" ")
            lines[tag] = bytes.fromhex(hexed).decode("utf-8") if hexed else ""
    if "rt-argv" not in lines or "rt-environ" not in lines:
        print(f"FAIL ExecStartPre ran: no argv-dump output in the journal ({sorted(lines)})")
        return
    report("the ExecStartPre process got exactly the input arguments",
           values, lines["rt-argv"].split("\0")[:-1])
    got_env = env_of(lines["rt-environ"].split("\0")[:-1])
    report("the ExecStartPre process got exactly the input environment values, control bytes too",
           env_values, [got_env.get(n) for n in names])


def main():
    if sys.argv[1:2] == ["gen"] and len(sys.argv) == 4:
        gen(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["check"] and len(sys.argv) == 6:
        check(*sys.argv[2:])
    else:
        sys.exit("usage: escape_roundtrip.py gen VIGIL_UNIT DIR | check DIR SHOW BUS DUMP")


if __name__ == "__main__":
    main()
