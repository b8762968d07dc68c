/* cmocka suite for vigil-deploy's filesystem logic: the atomic switch under a reader, the
 * lock, unpacking that refuses escaping paths, rollback bookkeeping, prune, the cookie, and
 * what a deploy killed between steps leaves. systemd is replaced by a recording manager: these
 * tests say nothing about systemctl itself (test/e2e does). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive.h"
#include "deploy.h"
#include "install.h"
#include "io.h"
#include "run.h"

/* ---- a recording manager ---- */

struct fake {
    struct deploy *d;
    int restarts;
    const char *fail_vsn[2]; /* a restart fails while current is a release of these versions */
    char running[PATH_MAX];  /* the dir of the release the last good restart started */
};

static bool failing(const struct fake *f, const char *cur)
{
    for (int i = 0; i < 2; i++)
        if (f->fail_vsn[i] && strncmp(cur, f->fail_vsn[i], strlen(f->fail_vsn[i])) == 0 &&
            cur[strlen(f->fail_vsn[i])] == '-')
            return true;
    return false;
}

static int fake_restart(void *ctx, const char *unit, struct buf *err)
{
    struct fake *f = ctx;
    (void)unit;
    struct buf cur = {0};
    f->restarts++;
    assert_int_equal(deploy_current(&f->d->p, &cur), 1);
    bool bad = failing(f, buf_str(&cur));
    if (bad)
        buf_add(err, "Job failed");
    else
        assert_non_null(realpath(f->d->p.current, f->running));
    buf_free(&cur);
    return bad ? -EIO : 1;
}

static int fake_running_dir(void *ctx, const char *unit, struct buf *out)
{
    const struct fake *f = ctx;
    (void)unit;
    buf_add(out, f->running);
    return f->running[0] != '\0';
}

static void fake_journal(void *ctx, const char *unit, int64_t since, struct buf *out)
{
    (void)ctx;
    (void)unit;
    (void)since;
    buf_add(out, "journal line\n");
}

static void fake_describe(void *ctx, const char *unit, struct buf *out)
{
    (void)ctx;
    buf_printf(out, "ActiveState=active (%s)\n", unit);
}

static int64_t fake_now_us(void)
{
    static int64_t t = 1700000000000000LL;
    t += 1000000;
    return t;
}

/* ---- fixtures ---- */

struct env {
    char tmp[64];
    struct buf dir;
    struct fake fake;
    struct deploy_manager m;
    struct deploy d;
};

static int setup(void **state)
{
    struct env *e = xcalloc(1, sizeof(*e));
    strcpy(e->tmp, "/tmp/vigil-deploy-test.XXXXXX");
    assert_non_null(mkdtemp(e->tmp));
    buf_printf(&e->dir, "%s/srv", e->tmp);
    assert_int_equal(mkdir(buf_str(&e->dir), 0750), 0);
    e->m = (struct deploy_manager){&e->fake, fake_restart, fake_running_dir, fake_journal,
                                   fake_describe};
    deploy_init(&e->d, buf_str(&e->dir), "shop.service", &e->m);
    e->d.now_us = fake_now_us;
    e->fake.d = &e->d;
    assert_int_equal(deploy_begin(&e->d, false), 0);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    deploy_free(&e->d);
    assert_true(remove_tree(e->tmp) >= 0);
    buf_free(&e->dir);
    free(e);
    return 0;
}

static void write_text(const char *path, const char *text)
{
    assert_int_equal(write_file_atomic(path, text, strlen(text), 0644, -1), 1);
}

/* A release tree as mix release lays it out, at `tmp`/src-`vsn`. */
static void make_release(const struct env *e, const char *vsn, const char *cookie, struct buf *path)
{
    struct buf p = {0}, f = {0};
    buf_printf(path, "%s/src-%s", e->tmp, vsn);
    buf_printf(&p, "%s/releases", buf_str(path));
    assert_int_equal(mkdir_parents(buf_str(&p)), 0);
    buf_printf(&f, "%s/start_erl.data", buf_str(&p));
    struct buf text = {0};
    buf_printf(&text, "13.1.5 %s\n", vsn);
    write_text(buf_str(&f), buf_str(&text));
    f.len = 0;
    buf_printf(&f, "%s/COOKIE", buf_str(&p));
    write_text(buf_str(&f), cookie);
    buf_free(&p);
    buf_free(&f);
    buf_free(&text);
}

static enum deploy_outcome release_vsn(struct env *e, const char *vsn)
{
    struct buf src = {0};
    make_release(e, vsn, "SRCCOOKIE", &src);
    enum deploy_outcome o = deploy_release(&e->d, buf_str(&src));
    buf_free(&src);
    return o;
}

/* The version of the release `current` points at ("" when none); valid until the next call. */
static const char *current_vsn(const struct env *e)
{
    static char vsn[128];
    struct buf cur = {0};
    vsn[0] = '\0';
    if (deploy_current(&e->d.p, &cur) > 0)
        snprintf(vsn, sizeof(vsn), "%.*s", (int)(cur.len - RELEASE_KEY_LEN - 1), cur.data);
    buf_free(&cur);
    return vsn;
}

/* ---- the atomic switch ---- */

struct reader {
    const char *link;
    atomic_bool stop;
    atomic_long reads;
    long missing;
};

static void *read_loop(void *arg)
{
    struct reader *r = arg;
    char target[PATH_MAX];
    while (!atomic_load(&r->stop)) {
        atomic_fetch_add(&r->reads, 1);
        if (readlink(r->link, target, sizeof(target)) < 0)
            r->missing++;
        /* Under valgrind, which runs one thread at a time, a loop that never yields keeps
         * the switching thread from running at all. */
        sched_yield();
    }
    return NULL;
}

static void test_switch_never_leaves_current_missing(void **state)
{
    struct env *e = *state;
    assert_int_equal(release_vsn(e, "1.0.0"), DEPLOY_DONE);
    assert_int_equal(release_vsn(e, "2.0.0"), DEPLOY_DONE);
    struct strlist kept = {0};
    assert_int_equal(deploy_list(&e->d.p, &kept), 2);
    struct reader rd = {.link = e->d.p.current};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, read_loop, &rd), 0);
    /* On a loaded machine the reader may not run at all during the 100 switches. */
    while (atomic_load(&rd.reads) == 0)
        sched_yield();
    for (int i = 0; i < 100; i++)
        assert_int_equal(deploy_switch(&e->d.p, kept.v[i % 2]), 1);
    atomic_store(&rd.stop, true);
    pthread_join(t, NULL);
    assert_true(rd.reads > 0);
    assert_int_equal(rd.missing, 0);
    /* The last of the 100 (i = 99) was to the second release. */
    assert_string_equal(current_vsn(e), "2.0.0");
    strlist_free(&kept);
}

static void test_current_is_relative(void **state)
{
    struct env *e = *state;
    assert_int_equal(release_vsn(e, "1.0.0"), DEPLOY_DONE);
    char target[PATH_MAX];
    ssize_t n = readlink(e->d.p.current, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_int_equal(strncmp(target, "releases/1.0.0-", 15), 0);
}

/* ---- the lock ---- */

static void test_lock_is_exclusive(void **state)
{
    struct env *e = *state;
    /* setup holds it already. */
    assert_int_equal(deploy_lock(&e->d.p, false), -EWOULDBLOCK);
    close(e->d.lock_fd);
    e->d.lock_fd = -1;
    int fd = deploy_lock(&e->d.p, false);
    assert_true(fd > 0);
    assert_int_equal(deploy_lock(&e->d.p, false), -EWOULDBLOCK);
    close(fd);
}

/* ---- unpacking ---- */

static void test_names_refused(void **state)
{
    (void)state;
    struct buf err = {0};
    assert_int_equal(archive_check_names("a/b\nbin/shop\n./x\n", &err), 0);
    const char *bad[] = {"/etc/passwd\n", "a/../../x\n", "..\n", "ok\nx/..\n", "../x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        err.len = 0;
        assert_int_equal(archive_check_names(bad[i], &err), -EPERM);
        assert_non_null(strstr(buf_str(&err), "outside the release"));
    }
    buf_free(&err);
}

static int sh(const char *cmd)
{
    const char *const argv[] = {"sh", "-c", cmd, NULL};
    return run_cmd(argv, NULL, NULL);
}

static void assert_refused_tarball(struct env *e, const char *make_cmd, const char *victim)
{
    struct buf cmd = {0}, tarball = {0};
    buf_printf(&tarball, "%s/evil.tar", e->tmp);
    buf_printf(&cmd, "cd %s && %s", e->tmp, make_cmd);
    assert_int_equal(sh(buf_str(&cmd)), 0);
    struct strlist before = {0};
    deploy_list(&e->d.p, &before);
    assert_int_equal(deploy_release(&e->d, buf_str(&tarball)), DEPLOY_REFUSED);
    assert_non_null(strstr(buf_str(&e->d.err), "refused"));
    assert_false(path_exists(victim));
    struct strlist after = {0};
    assert_int_equal(deploy_list(&e->d.p, &after), (int)before.n);
    strlist_free(&before);
    strlist_free(&after);
    buf_free(&cmd);
    buf_free(&tarball);
}

static void test_tarball_escaping_paths_refused(void **state)
{
    struct env *e = *state;
    struct buf victim = {0}, cmd = {0};
    buf_printf(&victim, "%s/escaped", e->tmp);
    /* A member named rel/../../escaped (-P keeps it as written). */
    buf_printf(&cmd, "mkdir -p rel/releases sub && echo '1 1.0.0' >rel/releases/start_erl.data && "
                     "echo x >escaped.src && cp escaped.src sub/escaped && "
                     "tar -P -cf evil.tar rel sub/../sub/escaped");
    assert_refused_tarball(e, buf_str(&cmd), buf_str(&victim));
    /* An absolute member. */
    cmd.len = 0;
    buf_printf(&cmd, "tar -P -cf evil.tar rel %s/escaped.src", e->tmp);
    assert_refused_tarball(e, buf_str(&cmd), buf_str(&victim));
    /* A symlink out of the tree, then a file through it. */
    cmd.len = 0;
    buf_printf(&cmd,
               "rm -rf rel2 && mkdir -p rel2/releases && cp rel/releases/start_erl.data "
               "rel2/releases/ && ln -s %s rel2/out && tar -cf evil.tar rel2",
               e->tmp);
    assert_refused_tarball(e, buf_str(&cmd), buf_str(&victim));
    buf_free(&victim);
    buf_free(&cmd);
}

static void test_tarball_release_unpacks(void **state)
{
    struct env *e = *state;
    struct buf src = {0}, cmd = {0}, tarball = {0};
    make_release(e, "3.1.4", "C", &src);
    buf_printf(&cmd,
               "cd %s && mkdir -p rel && mv src-3.1.4 rel/shop && ln -s ../releases "
               "rel/shop/bin && tar -czf shop.tar.gz rel",
               e->tmp);
    assert_int_equal(sh(buf_str(&cmd)), 0);
    buf_printf(&tarball, "%s/shop.tar.gz", e->tmp);
    assert_int_equal(deploy_release(&e->d, buf_str(&tarball)), DEPLOY_DONE);
    assert_string_equal(current_vsn(e), "3.1.4");
    cmd.len = 0;
    buf_printf(&cmd, "%s/current/releases/start_erl.data", e->d.p.dir);
    assert_true(path_exists(buf_str(&cmd)));
    buf_free(&src);
    buf_free(&cmd);
    buf_free(&tarball);
}

/* ---- rollback bookkeeping ---- */

static void test_rollback_two_back_and_forward(void **state)
{
    struct env *e = *state;
    assert_int_equal(release_vsn(e, "1.0.0"), DEPLOY_DONE);
    assert_int_equal(release_vsn(e, "2.0.0"), DEPLOY_DONE);
    assert_int_equal(release_vsn(e, "3.0.0"), DEPLOY_DONE);
    assert_int_equal(e->fake.restarts, 3);
    assert_int_equal(deploy_rollback(&e->d, NULL), DEPLOY_DONE);
    assert_string_equal(current_vsn(e), "2.0.0");
    assert_int_equal(deploy_rollback(&e->d, NULL), DEPLOY_DONE);
    assert_string_equal(current_vsn(e), "1.0.0");
    assert_int_equal(e->fake.restarts, 5);
    assert_int_equal(deploy_rollback(&e->d, NULL), DEPLOY_REFUSED);
    assert_string_equal(current_vsn(e), "1.0.0");
    assert_int_equal(e->fake.restarts, 5);
    assert_int_equal(deploy_rollback(&e->d, "3.0.0"), DEPLOY_DONE);
    assert_string_equal(current_vsn(e), "3.0.0");
    assert_int_equal(deploy_rollback(&e->d, "3.0.0"), DEPLOY_REFUSED);
    assert_int_equal(deploy_rollback(&e->d, "9.9.9"), DEPLOY_REFUSED);
    assert_int_equal(e->fake.restarts, 6);
    assert_false(path_exists(e->d.p.intent));
}

static void test_one_release_rollback_refused(void **state)
{
    struct env *e = *state;
    assert_int_equal(release_vsn(e, "1.0.0"), DEPLOY_DONE);
    char before[PATH_MAX], after[PATH_MAX];
    ssize_t n = readlink(e->d.p.current, before, sizeof(before) - 1);
    before[n > 0 ? n : 0] = '\0';
    assert_int_equal(deploy_rollback(&e->d, NULL), DEPLOY_REFUSED);
    assert_non_null(strstr(buf_str(&e->d.err), "nothing to roll back to"));
    n = readlink(e->d.p.current, after, sizeof(after) - 1);
    after[n > 0 ? n : 0] = '\0';
    assert_string_equal(before, after);
    assert_int_equal(e->fake.restarts, 1);
}

static void test_rollback_with_no_release(void **state)
{
    struct env *e = *state;
    assert_int_equal(deploy_rollback(&e->d, NULL), DEPLOY_REFUSED);
    assert_false(path_exists(e->d.p.current));
}

static void test_failed_start_rolls_back(void **state)
{
    struct env *e = *state;
    assert_int_equal(release_vsn(e, "1.0.0"), DEPLOY_DONE);
    e->fake.fail_vsn[0] = "2.0.0";
    assert_int_equal(release_vsn(e, "2.0.0"), DEPLOY_ROLLED_BACK);
    assert_string_equal(current_vsn(e), "1.0.0");
    assert_int_equal(e->fake.restarts, 3);
    assert_non_null(strstr(e->fake.running, "/releases/1.0.0-"));
    assert_false(path_exists(e->d.p.intent));
    /* Both fail: down, and current back on the previous release all the same. */
    e->fake.fail_vsn[1] = "1.0.0";
    assert_int_equal(release_vsn(e, "2.0.0"), DEPLOY_DOWN);
    assert_string_equal(current_vsn(e), "1.0.0");
    /* The first release failing has nothing to go back to. */
    assert_false(path_exists(e->d.p.intent));
}

/* ---- prune ---- */

static void test_prune_keeps_newest_current_and_running(void **state)
{
    struct env *e = *state;
    const char *v[] = {"1.0.0", "2.0.0", "3.0.0", "4.0.0"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(release_vsn(e, v[i]), DEPLOY_DONE);
    assert_int_equal(deploy_rollback(&e->d, "2.0.0"), DEPLOY_DONE);
    /* The unit runs 1.0.0 as far as the manager knows (say, a manual start). */
    struct strlist kept = {0};
    deploy_list(&e->d.p, &kept);
    snprintf(e->fake.running, sizeof(e->fake.running), "%s", e->d.p.releases);
    assert_non_null(realpath(e->d.p.releases, e->fake.running));
    strcat(e->fake.running, "/");
    strcat(e->fake.running, kept.v[0]);
    assert_int_equal(deploy_prune(&e->d, 1), DEPLOY_DONE);
    struct strlist left = {0};
    assert_int_equal(deploy_list(&e->d.p, &left), 3);
    assert_string_equal(left.v[0], kept.v[0]);
    assert_string_equal(left.v[1], kept.v[1]);
    assert_string_equal(left.v[2], kept.v[3]);
    assert_string_equal(current_vsn(e), "2.0.0");
    strlist_free(&kept);
    strlist_free(&left);
}

static void test_prune_select(void **state)
{
    (void)state;
    struct strlist kept = {0}, gone = {0};
    const char *n[] = {"a-20240101T000000.000", "b-20240102T000000.000", "c-20240103T000000.000"};
    for (int i = 0; i < 3; i++)
        strlist_push(&kept, n[i]);
    prune_select(&kept, n[2], NULL, 5, &gone);
    assert_int_equal(gone.n, 0);
    prune_select(&kept, n[2], NULL, 1, &gone);
    assert_int_equal(gone.n, 2);
    strlist_free(&gone);
    prune_select(&kept, n[0], n[1], 1, &gone);
    assert_int_equal(gone.n, 0);
    strlist_free(&kept);
}

static void test_release_names_sort_by_time(void **state)
{
    (void)state;
    struct buf a = {0}, b = {0};
    release_name("10.0.0", 1700000000123LL, &a);
    release_name("9.0.0", 1700000001000LL, &b);
    assert_string_equal(buf_str(&a), "10.0.0-20231114T221320.123");
    assert_true(release_name_valid(buf_str(&a)));
    assert_false(release_name_valid(".staging-1"));
    assert_false(release_name_valid("20231114T221320.123"));
    struct strlist kept = {0};
    strlist_push(&kept, buf_str(&a));
    strlist_push(&kept, buf_str(&b));
    struct buf to = {0};
    assert_int_equal(rollback_target(&kept, buf_str(&b), NULL, &to), 1);
    assert_string_equal(buf_str(&to), buf_str(&a));
    buf_free(&a);
    buf_free(&b);
    buf_free(&to);
    strlist_free(&kept);
}

/* ---- the cookie ---- */

static void test_cookie_kept_across_releases(void **state)
{
    struct env *e = *state;
    struct buf src = {0}, text = {0};
    make_release(e, "1.0.0", "FIRST", &src);
    assert_int_equal(deploy_release(&e->d, buf_str(&src)), DEPLOY_DONE);
    buf_free(&src);
    make_release(e, "2.0.0", "SECOND", &src);
    assert_int_equal(deploy_release(&e->d, buf_str(&src)), DEPLOY_DONE);
    buf_printf(&src, "%s", "");
    struct buf path = {0};
    buf_printf(&path, "%s/current/releases/COOKIE", e->d.p.dir);
    assert_int_equal(read_file(buf_str(&path), &text), 0);
    assert_string_equal(buf_str(&text), "FIRST");
    struct stat st;
    assert_int_equal(stat(e->d.p.cookie, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    buf_free(&src);
    buf_free(&text);
    buf_free(&path);
}

static void test_cookie_created(void **state)
{
    struct env *e = *state;
    struct buf text = {0};
    assert_int_equal(deploy_cookie_create(&e->d.p), 1);
    assert_int_equal(deploy_cookie_create(&e->d.p), 0);
    assert_int_equal(read_file(e->d.p.cookie, &text), 0);
    assert_int_equal(text.len, 52);
    assert_int_equal(strspn(buf_str(&text), "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 52);
    buf_free(&text);
}

/* ---- a deploy killed between steps ---- */

static void stage_vsn(struct env *e, const char *vsn, struct buf *name)
{
    struct buf src = {0};
    make_release(e, vsn, "C", &src);
    assert_int_equal(deploy_stage(&e->d, buf_str(&src), name), 1);
    buf_free(&src);
}

static void test_killed_after_switch_is_undone(void **state)
{
    struct env *e = *state;
    struct buf b = {0}, cur = {0};
    assert_int_equal(release_vsn(e, "1.0.0"), DEPLOY_DONE);
    assert_int_equal(deploy_current(&e->d.p, &cur), 1);
    stage_vsn(e, "2.0.0", &b);
    assert_int_equal(deploy_intent_write(&e->d.p, buf_str(&cur), buf_str(&b)), 1);
    assert_int_equal(deploy_switch(&e->d.p, buf_str(&b)), 1);
    /* killed here, or during the restart: the manager may already run 2.0.0. */
    assert_int_equal(fake_restart(&e->fake, "shop.service", &cur), 1);
    int restarts = e->fake.restarts;
    assert_int_equal(deploy_recover(&e->d), 1);
    assert_string_equal(current_vsn(e), "1.0.0");
    assert_int_equal(e->fake.restarts, restarts + 1);
    assert_non_null(strstr(e->fake.running, "/releases/1.0.0-"));
    assert_false(path_exists(e->d.p.intent));
    /* Recovering again finds nothing to do. */
    assert_int_equal(deploy_recover(&e->d), 0);
    assert_int_equal(e->fake.restarts, restarts + 1);
    buf_free(&b);
    buf_free(&cur);
}

static void test_killed_before_switch_is_undone_without_restart(void **state)
{
    struct env *e = *state;
    struct buf b = {0}, cur = {0};
    assert_int_equal(release_vsn(e, "1.0.0"), DEPLOY_DONE);
    assert_int_equal(deploy_current(&e->d.p, &cur), 1);
    stage_vsn(e, "2.0.0", &b);
    assert_int_equal(deploy_intent_write(&e->d.p, buf_str(&cur), buf_str(&b)), 1);
    /* killed before the switch: 1.0.0 still runs, so nothing is restarted. */
    assert_int_equal(deploy_recover(&e->d), 1);
    assert_string_equal(current_vsn(e), "1.0.0");
    assert_int_equal(e->fake.restarts, 1);
    buf_free(&b);
    buf_free(&cur);
}

static void test_killed_while_unpacking_leaves_no_staging(void **state)
{
    struct env *e = *state;
    assert_int_equal(release_vsn(e, "1.0.0"), DEPLOY_DONE);
    struct buf staging = {0}, junk = {0};
    buf_printf(&staging, "%s/.staging-99999/rel", e->d.p.releases);
    assert_int_equal(mkdir_parents(buf_str(&staging)), 0);
    buf_printf(&junk, "%s/half", buf_str(&staging));
    write_text(buf_str(&junk), "x");
    assert_int_equal(deploy_recover(&e->d), 1);
    assert_false(path_exists(buf_str(&staging)));
    struct strlist kept = {0};
    assert_int_equal(deploy_list(&e->d.p, &kept), 1);
    assert_string_equal(current_vsn(e), "1.0.0");
    strlist_free(&kept);
    buf_free(&staging);
    buf_free(&junk);
}

static void test_killed_first_deploy_is_finished(void **state)
{
    struct env *e = *state;
    struct buf a = {0};
    stage_vsn(e, "1.0.0", &a);
    assert_int_equal(deploy_intent_write(&e->d.p, "", buf_str(&a)), 1);
    assert_int_equal(deploy_recover(&e->d), 1);
    assert_string_equal(current_vsn(e), "1.0.0");
    assert_int_equal(e->fake.restarts, 0);
    buf_free(&a);
}

static void test_bad_intent_is_an_error(void **state)
{
    struct env *e = *state;
    write_text(e->d.p.intent, "from=../../etc\nto=x\n");
    assert_int_equal(deploy_recover(&e->d), -EBADMSG);
    (void)unlink(e->d.p.intent);
}

/* ---- install's pieces ---- */

static void test_manifest_parse(void **state)
{
    (void)state;
    struct manifest m = {0};
    assert_int_equal(manifest_parse("{\n  \"service\": \"shop\",\n  \"app_name\": \"shop\",\n"
                                    "  \"files\": [\"shop.service\", \"sysusers.d/shop.conf\", "
                                    "\"a\\\"b\\u0009.socket\"],\n}",
                                    &m),
                     0);
    assert_string_equal(m.service, "shop");
    assert_int_equal(m.files.n, 3);
    assert_string_equal(m.files.v[2], "a\"b\t.socket");
    manifest_free(&m);
    assert_int_equal(manifest_parse("{\"files\": []}", &m), -EBADMSG);
    manifest_free(&m);
}

static void test_install_destination(void **state)
{
    (void)state;
    struct buf b = {0};
    assert_int_equal(install_destination("/img", "lib/sysusers.d/shop.conf", &b), 1);
    assert_string_equal(buf_str(&b), "/img/etc/sysusers.d/shop.conf");
    b.len = 0;
    assert_int_equal(install_destination("", "lib/systemd/system/shop.socket", &b), 1);
    assert_string_equal(buf_str(&b), "/etc/systemd/system/shop.socket");
    b.len = 0;
    assert_int_equal(install_destination("", "shop.manifest.json", &b), 0);
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_switch_never_leaves_current_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_current_is_relative, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_is_exclusive, setup, teardown),
        cmocka_unit_test(test_names_refused),
        cmocka_unit_test_setup_teardown(test_tarball_escaping_paths_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tarball_release_unpacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_two_back_and_forward, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_release_rollback_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_with_no_release, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_start_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prune_keeps_newest_current_and_running, setup,
                                        teardown),
        cmocka_unit_test(test_prune_select),
        cmocka_unit_test(test_release_names_sort_by_time),
        cmocka_unit_test_setup_teardown(test_cookie_kept_across_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_after_switch_is_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_before_switch_is_undone_without_restart, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_killed_while_unpacking_leaves_no_staging, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_killed_first_deploy_is_finished, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_intent_is_an_error, setup, teardown),
        cmocka_unit_test(test_manifest_parse),
        cmocka_unit_test(test_install_destination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
