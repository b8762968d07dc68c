/* cmocka suite for the generator's escaping functions, option parsing and model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"
#include "model.h"
#include "opts.h"
#include "sdver.h"
#include "sockspec.h"
#include "unquote.h"

static char *quoted(const char *s, bool force)
{
    struct buf b = {0};
    quote_word(&b, s, force);
    return buf_steal(&b);
}

static void test_quote_roundtrip(void **state)
{
    (void)state;
    const char *values[] = {"plain", "a b",         "q\"uote",    "back\\slash\\", "",
                            ";",     "é ✓",         "'",          "tab\tin",       "nl\nx\r",
                            "\x01",  "\x1b[0m\x7f", "\\t literal"};
    for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
        char *q = quoted(values[i], false);
        const char *p = q;
        struct buf w = {0};
        buf_add(&w, "");
        assert_int_equal(unquote_word(&p, &w), 1);
        assert_string_equal(buf_str(&w), values[i]);
        assert_int_equal(*p, '\0');
        buf_free(&w);
        free(q);
    }
}

static void test_semicolon_is_quoted(void **state)
{
    (void)state;
    char *q = quoted(";", false);
    assert_string_equal(q, "\";\"");
    free(q);
}

static void test_spec_escape(void **state)
{
    (void)state;
    struct buf b = {0}, back = {0};
    spec_escape(&b, "100% $x", true);
    assert_string_equal(buf_str(&b), "100%% $$x");
    spec_unescape(&back, buf_str(&b), true);
    assert_string_equal(buf_str(&back), "100% $x");
    buf_free(&b);
    buf_free(&back);
}

static void test_text_problems(void **state)
{
    (void)state;
    assert_null(text_problem("héllo ✓"));
    assert_string_equal(text_problem("a\nb"), "contains a line break");
    assert_string_equal(text_problem("a\x01"), "contains a control character");
    assert_string_equal(text_problem("\xc3\x28"), "is not valid UTF-8");
    assert_string_equal(text_problem("\xed\xa0\x80"), "is not valid UTF-8");
    /* systemd ignores a unit file line holding a noncharacter. */
    assert_string_equal(text_problem("a\xef\xbf\xbf"), "is not valid UTF-8");
    assert_string_equal(text_problem("\xef\xb7\x90"), "is not valid UTF-8");
    /* Environment values: each control byte is allowed or not by the target's version. */
    assert_null(text_problem_allowing("a\tb", TEXT_TAB));
    assert_string_equal(text_problem_allowing("a\nb", TEXT_TAB), "contains a line break");
    assert_null(text_problem_allowing("a\nb", TEXT_TAB | TEXT_NEWLINE));
    assert_string_equal(text_problem_allowing("a\x1b", TEXT_TAB | TEXT_NEWLINE),
                        "contains a control character");
    assert_null(text_problem_allowing("\r\x1b\x7f", TEXT_CONTROL));
    assert_string_equal(text_problem_allowing("\x1b\xff", TEXT_CONTROL), "is not valid UTF-8");
    assert_non_null(raw_value_problem("ends\\"));
    assert_non_null(raw_value_problem(" lead"));
    assert_null(path_problem("/srv/a b"));
    assert_non_null(path_problem("relative"));
    assert_non_null(path_problem("/a/../b"));
    assert_non_null(path_problem("/a/"));
}

static void test_names(void **state)
{
    (void)state;
    assert_true(env_name_valid("RELEASE_TMP"));
    assert_false(env_name_valid("1X"));
    assert_true(user_name_valid("foo-bar"));
    assert_false(user_name_valid("Foo"));
    assert_true(unit_name_valid("epmd.socket"));
    assert_false(unit_name_valid("bad name.service"));
}

static void test_split_command(void **state)
{
    (void)state;
    struct strlist w = {0};
    const char *problem = NULL;
    assert_int_equal(split_command("/bin/x 'a b' \"c\\\"d\" e\\ f", &w, &problem), 0);
    assert_int_equal(w.n, 4);
    assert_string_equal(w.v[1], "a b");
    assert_string_equal(w.v[2], "c\"d");
    assert_string_equal(w.v[3], "e f");
    strlist_free(&w);
    assert_int_equal(split_command("/bin/x 'open", &w, &problem), -EINVAL);
    assert_string_equal(problem, "has an unbalanced quote");
    strlist_free(&w);
}

static int build(const char *config, struct unit_model *m, struct buf *err)
{
    struct gen_opts o;
    gen_opts_init(&o);
    int r = gen_opts_read_config(&o, config, "test", err);
    if (r == 0)
        r = unit_model_build(&o, m, err);
    gen_opts_free(&o);
    return r;
}

static const char *value_of(const struct unit_model *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->d[i].key, key) == 0 && m->d[i].status != DS_DROPPED)
            return m->d[i].value;
    return NULL;
}

static void test_model_defaults(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build("app_name = foo_bar\n", &m, &err), 0);
    assert_string_equal(m.service, "foo-bar");
    assert_string_equal(value_of(&m, "ExecStart"), "/srv/foo-bar/current/bin/foo_bar start");
    assert_string_equal(value_of(&m, "Type"), "notify");
    assert_string_equal(value_of(&m, "User"), "foo-bar");
    assert_int_equal(m.exposure_tenths, 11);
    unit_model_free(&m);
    buf_free(&err);
}

/* The manifest's figure is the one of the newest scored systemd not newer than the target;
 * every scored version's is kept beside it. */
static void test_exposure_scored_by_version(void **state)
{
    (void)state;
    static const struct {
        const char *config;
        unsigned scored_by;
    } CASES[] = {
        {"app_name = foo\nsystemd_version = 252\n", 252},
        {"app_name = foo\nsystemd_version = 256\n", 252},
        {"app_name = foo\nsystemd_version = 257\n", 257},
        {"app_name = foo\nsystemd_version = 260\n", 257},
        {"app_name = foo\nsystemd_version = 245\n", 252},
    };
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        struct unit_model m;
        struct buf err = {0};
        assert_int_equal(build(CASES[i].config, &m, &err), 0);
        assert_int_equal(m.exposure_scored_by, CASES[i].scored_by);
        assert_int_equal(m.exposure_versions[0], 252);
        assert_int_equal(m.exposure_versions[1], 257);
        size_t own = CASES[i].scored_by == 252 ? 0 : 1;
        assert_int_equal(m.exposure_by_version[own], m.exposure_tenths);
        unit_model_free(&m);
        buf_free(&err);
    }
}

/* systemd expands $VAR in a command's arguments only: the executable keeps a literal `$`. */
static void test_dollar_in_executable(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build("app_name = foo\ndeploy_dir = /srv/a$b\n", &m, &err), 0);
    assert_string_equal(value_of(&m, "ExecStart"), "/srv/a$b/current/bin/foo start");
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\ndeploy_dir = /srv/a$b\n"
                           "exec_start_wrap = /usr/bin/nice\n",
                           &m, &err),
                     0);
    assert_string_equal(value_of(&m, "ExecStart"), "/usr/bin/nice /srv/a$$b/current/bin/foo start");
    unit_model_free(&m);
    buf_free(&err);
}

/* Build features: Debian 12's by default, a feature string as systemctl --version prints it
 * over them; a directive needing a missing one is dropped, not enforced. */
static void test_build_features(void **state)
{
    (void)state;
    unsigned mask = 0;
    char *bad = NULL;
    assert_int_equal(parse_build_features("", &mask, &bad), 0);
    assert_int_equal(mask, 1U << SDB_SECCOMP);
    assert_int_equal(parse_build_features("+BPF_FRAMEWORK default-hierarchy=hybrid", &mask, &bad),
                     0);
    assert_int_equal(mask, (1U << SDB_SECCOMP) | (1U << SDB_BPF_FRAMEWORK));
    assert_int_equal(parse_build_features("+PAM BPF", &mask, &bad), -EINVAL);
    assert_string_equal(bad, "BPF");
    free(bad);
    assert_int_equal(directive_needs("SocketBindDeny"), SDB_BPF_FRAMEWORK);
    assert_int_equal(directive_needs("IPAddressDeny"), SDB_NONE);
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build("app_name = foo\ndistribution = epmdless\ncookie_file = /c\n", &m, &err),
                     0);
    assert_null(value_of(&m, "SocketBindDeny"));
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\ndistribution = epmdless\ncookie_file = /c\n"
                           "systemd_features = +BPF_FRAMEWORK\n",
                           &m, &err),
                     0);
    assert_string_equal(value_of(&m, "SocketBindDeny"), "1-65535");
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\nsystemd_features = -SECCOMP\n", &m, &err), 0);
    assert_null(value_of(&m, "SystemCallFilter"));
    assert_int_equal(m.exposure_tenths, -1);
    unit_model_free(&m);
    buf_free(&err);
}

static void test_model_refuses_daemon(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(
        build("app_name = foo\nrelease_tool = relx\nstart_command = start\n", &m, &err), -EINVAL);
    assert_non_null(strstr(buf_str(&err), "relx's deprecated daemon mode"));
    buf_free(&err);
    assert_int_equal(build("app_name = foo\nstart_command = daemon\n", &m, &err), -EINVAL);
    assert_non_null(strstr(buf_str(&err), "start_command"));
    assert_non_null(strstr(buf_str(&err), "daemon"));
    buf_free(&err);
}

static void test_model_gates_versions(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build("app_name = foo\nsystemd_version = 229\n", &m, &err), 0);
    assert_null(value_of(&m, "ProtectClock"));
    assert_null(value_of(&m, "StartLimitIntervalSec"));
    assert_string_equal(value_of(&m, "StartLimitInterval"), "60");
    assert_int_equal(m.exposure_tenths, -1);
    unit_model_free(&m);
    buf_free(&err);
}

static void test_unused_keys(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build("app_name = foo\nlisten_ports = 4000\n", &m, &err), 0);
    assert_int_equal(m.n_unused, 1);
    assert_string_equal(m.unused[0].key, "listen_ports");
    unit_model_free(&m);
    /* Below 1024 the port needs the bind capability; with distribution it may be bound. */
    assert_int_equal(build("app_name = foo\nlisten_ports = 80\n", &m, &err), 0);
    assert_int_equal(m.n_unused, 0);
    unit_model_free(&m);
    assert_int_equal(
        build("app_name = foo\ndistribution = epmdless\ncookie_file = /c\nlisten_ports = 4000\n",
              &m, &err),
        0);
    assert_int_equal(m.n_unused, 0);
    unit_model_free(&m);
    buf_free(&err);
}

/* Distribution: refused where it cannot give a named, reachable node with its cookie from a
 * credential; each refusal names the key and the problem. */
static void refused(const char *config, const char *key, const char *problem)
{
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build(config, &m, &err), -EINVAL);
    assert_non_null(strstr(buf_str(&err), key));
    if (strstr(buf_str(&err), problem) == NULL)
        fail_msg("\"%s\" lacks \"%s\"", buf_str(&err), problem);
    buf_free(&err);
}

static void test_distribution_refusals(void **state)
{
    (void)state;
    refused("app_name = foo\ndistribution = fixed_ports\n", "distribution",
            "was replaced by epmdless");
    refused("app_name = foo\ndistribution = local\n", "distribution", "needs cookie_file");
    refused("app_name = foo\ndistribution = local\ncookie_file = /c\ndist_address = 10.0.0.1\n",
            "dist_address", "is not a loopback address");
    refused("app_name = foo\ndistribution = epmdless\ncookie_file = /c\ndist_address = 0.0.0.0\n",
            "dist_address", "is not one address");
    refused("app_name = foo\ndistribution = epmdless\ncookie_file = /c\ndist_address = host\n",
            "dist_address", "is not an IPv4 address");
    refused("app_name = foo\ndistribution = tls\ncookie_file = /c\ncredentials = dist.crt=/a\n"
            "credentials = dist-ca.crt=/b\n",
            "distribution", "needs credentials dist.key=PATH");
    refused("app_name = foo\ndistribution = epmdless\ncookie_file = /c\n"
            "override = Service.SocketBindDeny=any\n",
            "override", "name@nohost");
    refused("app_name = foo\ndistribution = local\ncookie_file = /c\n"
            "override = SocketBindDeny=ipv4:tcp:0-100\n",
            "override", "port 0");
    refused("app_name = foo\ndistribution = local\ncookie_file = /c\nnode_name = a@b\n",
            "node_name", "is not a node name");
    refused("app_name = foo\ndistribution = local\ncookie_file = /c\nprivate_network = yes\n",
            "private_network", "leaves no network");
    refused("app_name = foo\ndistribution = local\ncookie_file = /c\nsystemd_version = 246\n",
            "distribution", "needs systemd 247");
    refused("app_name = foo\ndistribution = epmdless\ncookie_file = /c\n"
            "env_vars = ERL_FLAGS=+S 2\n",
            "env_vars", "the cookie would no longer come from the credential");
    refused("app_name = foo\ndistribution = local\ncookie_file = /c\n"
            "credentials = .erlang.cookie=/x\n",
            "credentials", "repeats a credential name");
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build("app_name = foo\ndistribution = epmdless\ncookie_file = /c\n"
                           "override = Service.SocketBindDeny=1-65535\n",
                           &m, &err),
                     0);
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\ndistribution = epmd_socket\ncookie_file = /c\n"
                           "dist_address = 10.0.0.2\nnode_name = n1\n",
                           &m, &err),
                     0);
    assert_true(m.has_file[UF_EPMD_SOCKET] && m.has_file[UF_EPMD_SERVICE]);
    assert_string_equal(value_of(&m, "LoadCredential"), ".erlang.cookie:/c");
    assert_int_equal(m.unit_exposure[UF_EPMD_SERVICE], 2);
    unit_model_free(&m);
    buf_free(&err);
}

static void test_config_cli_precedence(void **state)
{
    (void)state;
    struct gen_opts o;
    struct buf err = {0};
    gen_opts_init(&o);
    assert_int_equal(gen_opts_read_config(&o, "env_vars = A=1\nenv_vars = B=2\n", "t", &err), 0);
    const struct opt_def *d = gen_opt_find("env-vars");
    assert_int_equal(gen_opt_set(&o, d, "C=3", ORIGIN_CLI, &err), 0);
    assert_int_equal(o.env_vars.n, 1);
    assert_string_equal(o.env_vars.v[0], "C=3");
    assert_int_equal(gen_opts_read_config(&o, "bogus = 1\n", "t", &err), -EINVAL);
    assert_non_null(strstr(buf_str(&err), "bogus"));
    assert_non_null(strstr(buf_str(&err), "bogus"));
    assert_string_equal(gen_opt_nearest("limit", NULL), "limit_nofile");
    assert_string_equal(gen_opt_nearest("hardenign", NULL), "hardening");
    assert_string_equal(gen_opt_nearest("cache-dir", NULL), "cache_directory_mode");
    assert_null(gen_opt_nearest("zzz", NULL));
    assert_true(gen_opt_given(&o, "env_vars"));
    assert_false(gen_opt_given(&o, "dirs"));
    gen_opts_free(&o);
    buf_free(&err);
}

static void test_typed_options(void **state)
{
    (void)state;
    struct gen_opts o;
    struct buf err = {0};
    gen_opts_init(&o);
    const struct opt_def *ports = gen_opt_find("listen_ports"), *dirs = gen_opt_find("dirs");
    assert_int_equal(gen_opt_set(&o, ports, "443", ORIGIN_CLI, &err), 0);
    assert_int_equal(gen_opt_set(&o, ports, "0", ORIGIN_CLI, &err), -EINVAL);
    assert_string_equal(buf_str(&err), "listen_ports: value \"0\" is not a TCP port 1..65535");
    buf_free(&err);
    for (unsigned i = 1; i < GEN_MAX_PORTS; i++) {
        char v[8];
        snprintf(v, sizeof(v), "%u", 1000 + i);
        assert_int_equal(gen_opt_set(&o, ports, v, ORIGIN_CLI, &err), 0);
    }
    assert_int_equal(gen_opt_set(&o, ports, "9", ORIGIN_CLI, &err), -EINVAL);
    assert_non_null(strstr(buf_str(&err), "beyond"));
    buf_free(&err);
    assert_int_equal(gen_opt_set(&o, dirs, "spool", ORIGIN_CLI, &err), -EINVAL);
    assert_non_null(strstr(buf_str(&err), "is not one of runtime, configuration"));
    gen_opts_free(&o);
    buf_free(&err);
}

static void test_overrides(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    /* Directives systemd-analyze security does not assess keep the expected exposure. */
    assert_int_equal(build("app_name = foo\noverride = Service.LimitNOFILE=1048576\n"
                           "override = Service.Nice=5\ndrop = Unit.StartLimitBurst\n",
                           &m, &err),
                     0);
    assert_int_equal(m.exposure_tenths, 11);
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\ndrop = ProtectClock\n", &m, &err), 0);
    assert_int_equal(m.exposure_tenths, -1);
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\ndrop = Service.Nope\n", &m, &err), -EINVAL);
    assert_string_equal(buf_str(&err),
                        "drop: value \"Service.Nope\" matches no directive of the service");
    buf_free(&err);
    assert_int_equal(build("app_name = foo\noverride = LimitNOFILE=1\n", &m, &err), -EINVAL);
    assert_non_null(strstr(buf_str(&err), "Unit., Service. or Install."));
    buf_free(&err);
}

static struct sock_spec sock(const char *s)
{
    struct sock_spec spec;
    const char *problem = NULL;
    assert_int_equal(sock_spec_parse(s, &spec, &problem), 0);
    assert_null(problem);
    return spec;
}

/* NAME=LISTEN as ListenStream= reads LISTEN; addresses written back canonical. */
static void test_sock_specs(void **state)
{
    (void)state;
    struct sock_spec a = sock("http=080");
    assert_int_equal(a.kind, SK_PORT);
    assert_int_equal(a.port, 80);
    assert_string_equal(a.listen, "80");
    assert_true(sock_spec_dual(&a));
    a = sock("v6=[0:0::0001]:443");
    assert_int_equal(a.kind, SK_IPV6);
    assert_string_equal(a.listen, "[::1]:443");
    assert_false(a.wildcard);
    a = sock("any v6=[::]:443");
    assert_string_equal(a.name, "any v6");
    assert_true(sock_spec_dual(&a));
    a = sock("v4=0.0.0.0:443");
    assert_true(a.wildcard);
    assert_false(sock_spec_dual(&a));
    a = sock("unix=/run/a b%.sock");
    assert_int_equal(a.kind, SK_PATH);
    assert_int_equal(a.port, 0);
    struct sock_spec b;
    const char *problem = NULL;
    const char *bad[] = {"x=65536", "x=1.2.3.4.5:80", "x=[::1]80", "x=./a",       "x=",
                         "=1",      "x\tz=80",        "x=/run//a", "x=@abstract", "x=-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(sock_spec_parse(bad[i], &b, &problem), -EINVAL);
        assert_non_null(problem);
    }
}

/* Two sockets clash when one would keep the other from binding. */
static void test_sock_clash(void **state)
{
    (void)state;
    const char *ok[][2] = {{"a=80", "b=81"},
                           {"a=127.0.0.1:80", "b=[::1]:80"},
                           {"a=0.0.0.0:80", "b=[::1]:80"},
                           {"a=127.0.0.1:80", "b=127.0.0.2:80"},
                           {"a=/run/a.sock", "b=/run/b.sock"},
                           {"a=/run/a.sock", "b=80"}};
    const char *clash[][2] = {{"a=80", "a=81"},
                              {"a=80", "b=127.0.0.1:80"},
                              {"a=[::]:80", "b=10.0.0.1:80"},
                              {"a=0.0.0.0:80", "b=127.0.0.1:80"},
                              {"a=[::1]:80", "b=[0::1]:80"},
                              {"a=/run/a.sock", "b=/run/a.sock"}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
        struct sock_spec a = sock(ok[i][0]), b = sock(ok[i][1]);
        assert_null(sock_spec_clash(&a, &b));
        assert_null(sock_spec_clash(&b, &a));
    }
    for (size_t i = 0; i < sizeof(clash) / sizeof(*clash); i++) {
        struct sock_spec a = sock(clash[i][0]), b = sock(clash[i][1]);
        assert_non_null(sock_spec_clash(&a, &b));
        assert_non_null(sock_spec_clash(&b, &a));
    }
}

/* A port that a socket unit binds needs no capability in the service; with private_network
 * the service denies every address to itself, which its sockets do not feel. */
static void test_sockets_model(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build("app_name = foo\nlisten_ports = 80\nsockets = http=80\n"
                           "sockets = admin=/run/foo-admin.sock\n",
                           &m, &err),
                     0);
    assert_null(value_of(&m, "AmbientCapabilities"));
    assert_string_equal(value_of(&m, "CapabilityBoundingSet"), "");
    assert_string_equal(value_of(&m, "PrivateUsers"), "yes");
    assert_int_equal(m.exposure_tenths, 11);
    assert_int_equal(m.n_sockets, 2);
    assert_string_equal(m.sockets[0].unit, "foo.socket");
    assert_string_equal(m.sockets[1].unit, "foo-admin.socket");
    assert_string_equal(value_of(&m, "Sockets"), "foo.socket");
    assert_string_equal(value_of(&m, "Requires"), "foo.socket");
    assert_string_equal(value_of(&m, "SocketMode"), "0660");
    assert_null(value_of(&m, "IPAddressDeny"));
    assert_null(value_of(&m, "Backlog"));
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\nprivate_network = yes\nsockets = http=80\n"
                           "socket_backlog = 512\n",
                           &m, &err),
                     0);
    assert_string_equal(value_of(&m, "IPAddressDeny"), "any");
    assert_string_equal(value_of(&m, "Backlog"), "512");
    assert_int_equal(m.socket_backlog, 512);
    assert_int_equal(m.exposure_tenths, 5);
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\nsockets = http=80\nsystemd_version = 226\n", &m, &err),
                     -EINVAL);
    assert_string_equal(buf_str(&err), "sockets: value \"http=80\" needs systemd 227 for a named "
                                       "socket (FileDescriptorName=, LISTEN_FDNAMES)");
    buf_free(&err);
    assert_int_equal(build("app_name = foo\nsocket_backlog = 9\n", &m, &err), 0);
    assert_int_equal(m.n_unused, 1);
    assert_string_equal(m.unused[0].key, "socket_backlog");
    unit_model_free(&m);
    buf_free(&err);
}

/* The fd store and journald's rate limit, written only where given. */
static void test_fd_store_and_log_limits(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    assert_int_equal(build("app_name = foo\n", &m, &err), 0);
    assert_null(value_of(&m, "FileDescriptorStoreMax"));
    assert_null(value_of(&m, "LogRateLimitIntervalSec"));
    assert_null(value_of(&m, "LogRateLimitBurst"));
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\nfd_store_max = 4\nlog_rate_limit_burst = 1000000\n"
                           "log_rate_limit_interval_sec = 30\n",
                           &m, &err),
                     0);
    assert_string_equal(value_of(&m, "FileDescriptorStoreMax"), "4");
    assert_null(value_of(&m, "FileDescriptorStorePreserve"));
    assert_string_equal(value_of(&m, "LogRateLimitBurst"), "1000000");
    assert_string_equal(value_of(&m, "LogRateLimitIntervalSec"), "30");
    assert_int_equal(m.fd_store_max, 4);
    unit_model_free(&m);
    /* A unit's 0 would not turn the limit off. */
    assert_int_not_equal(build("app_name = foo\nlog_rate_limit_burst = 0\n", &m, &err), 0);
    buf_free(&err);
    assert_int_equal(build("app_name = foo\nfd_store_max = 4\nsystemd_version = 254\n", &m, &err),
                     0);
    assert_string_equal(value_of(&m, "FileDescriptorStorePreserve"), "yes");
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\nfd_store_max = 4\nservice_type = exec\n", &m, &err), 0);
    assert_null(value_of(&m, "FileDescriptorStoreMax"));
    assert_int_equal(m.n_unused, 1);
    assert_string_equal(m.unused[0].key, "fd_store_max");
    unit_model_free(&m);
    buf_free(&err);
}

/* The dropped directive of an older target, or NULL. */
static const struct directive *dropped(const struct unit_model *m, const char *key)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->d[i].key, key) == 0 && m->d[i].status == DS_DROPPED)
            return &m->d[i];
    return NULL;
}

static void test_memory_pressure(void **state)
{
    (void)state;
    struct unit_model m;
    struct buf err = {0};
    /* skip, the default, writes nothing: systemd's own default applies. */
    assert_int_equal(build("app_name = foo\nsystemd_version = 257\n", &m, &err), 0);
    assert_null(value_of(&m, "MemoryPressureWatch"));
    assert_null(value_of(&m, "MemoryPressureThresholdSec"));
    unit_model_free(&m);
    assert_int_equal(build("app_name = foo\nsystemd_version = 254\nmemory_pressure_watch = on\n"
                           "memory_pressure_threshold_ms = 50\n",
                           &m, &err),
                     0);
    assert_string_equal(value_of(&m, "MemoryPressureWatch"), "on");
    assert_string_equal(value_of(&m, "MemoryPressureThresholdSec"), "50ms");
    unit_model_free(&m);
    /* 253 and older: dropped, with the version that has them. */
    assert_int_equal(build("app_name = foo\nsystemd_version = 253\nmemory_pressure_watch = on\n"
                           "memory_pressure_threshold_ms = 50\n",
                           &m, &err),
                     0);
    assert_null(value_of(&m, "MemoryPressureWatch"));
    const struct directive *d = dropped(&m, "MemoryPressureWatch");
    assert_non_null(d);
    assert_true(d->too_new);
    assert_non_null(strstr(d->reason, "needs systemd 254, target is 253"));
    assert_non_null(dropped(&m, "MemoryPressureThresholdSec"));
    unit_model_free(&m);
    /* off: the threshold has nothing to set. */
    assert_int_equal(build("app_name = foo\nsystemd_version = 257\nmemory_pressure_watch = off\n"
                           "memory_pressure_threshold_ms = 50\n",
                           &m, &err),
                     0);
    assert_string_equal(value_of(&m, "MemoryPressureWatch"), "off");
    assert_null(value_of(&m, "MemoryPressureThresholdSec"));
    assert_int_equal(m.n_unused, 1);
    assert_string_equal(m.unused[0].key, "memory_pressure_threshold_ms");
    unit_model_free(&m);
    buf_free(&err);
}

static void test_memory_pressure_refusals(void **state)
{
    (void)state;
    refused("app_name = foo\nmemory_pressure_threshold_ms = 0\n", "memory_pressure_threshold_ms",
            "is not between 1 and 1999");
    refused("app_name = foo\nmemory_pressure_threshold_ms = 2000\n", "memory_pressure_threshold_ms",
            "2 s window");
    refused("app_name = foo\nmemory_pressure_watch = yes\n", "memory_pressure_watch",
            "is not one of skip, auto, on, off");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quote_roundtrip),
        cmocka_unit_test(test_semicolon_is_quoted),
        cmocka_unit_test(test_spec_escape),
        cmocka_unit_test(test_text_problems),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_split_command),
        cmocka_unit_test(test_model_defaults),
        cmocka_unit_test(test_exposure_scored_by_version),
        cmocka_unit_test(test_dollar_in_executable),
        cmocka_unit_test(test_build_features),
        cmocka_unit_test(test_model_refuses_daemon),
        cmocka_unit_test(test_model_gates_versions),
        cmocka_unit_test(test_unused_keys),
        cmocka_unit_test(test_distribution_refusals),
        cmocka_unit_test(test_config_cli_precedence),
        cmocka_unit_test(test_typed_options),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_sock_specs),
        cmocka_unit_test(test_sock_clash),
        cmocka_unit_test(test_sockets_model),
        cmocka_unit_test(test_fd_store_and_log_limits),
        cmocka_unit_test(test_memory_pressure),
        cmocka_unit_test(test_memory_pressure_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
