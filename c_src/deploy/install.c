#include "install.h"

#include "deploy.h"
#include "fsops.h"
#include "io.h"
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string at `s` (after its opening quote) into `out`; returns the end or NULL. Only
 * the escapes vigil-unit writes (\" \\ \uXXXX below 0x20) are expected; others are refused. */
static const char *json_string(const char *s, struct buf *out)
{
    buf_add(out, "");
    for (; *s && *s != '"'; s++) {
        if (*s != '\\') {
            buf_addc(out, *s);
        } else if (s[1] == '"' || s[1] == '\\' || s[1] == '/') {
            buf_addc(out, *++s);
        } else if (s[1] == 'u' && strspn(s + 2, "0123456789abcdefABCDEF") >= 4) {
            char hex[5] = {s[2], s[3], s[4], s[5], 0};
            long c = strtol(hex, NULL, 16);
            if (c == 0 || c >= 0x80)
                return NULL;
            buf_addc(out, (char)c);
            s += 5;
        } else {
            return NULL;
        }
    }
    return *s == '"' ? s + 1 : NULL;
}

static const char *after_key(const char *json, const char *key)
{
    const char *s = strstr(json, key);
    if (s == NULL)
        return NULL;
    s += strlen(key);
    s += strspn(s, " \t\n");
    if (*s != ':')
        return NULL;
    s++;
    return s + strspn(s, " \t\n");
}

int manifest_parse(const char *json, struct manifest *ret)
{
    struct buf b = {0};
    const char *s = after_key(json, "\"service\"");
    if (s == NULL || *s != '"' || json_string(s + 1, &b) == NULL || b.len == 0) {
        buf_free(&b);
        return -EBADMSG;
    }
    ret->service = buf_steal(&b);
    s = after_key(json, "\"files\"");
    if (s == NULL || *s++ != '[')
        return -EBADMSG;
    for (s += strspn(s, " \t\n,"); *s == '"'; s += strspn(s, " \t\n,")) {
        s = json_string(s + 1, &b);
        if (s == NULL)
            break;
        strlist_push(&ret->files, buf_str(&b));
        buf_free(&b);
    }
    buf_free(&b);
    return s != NULL && *s == ']' ? 0 : -EBADMSG;
}

void manifest_free(struct manifest *m)
{
    free(m->service);
    strlist_free(&m->files);
    *m = (struct manifest){0};
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s);
    size_t t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

int install_destination(const char *root, const char *file, struct buf *ret)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dir = NULL;
    if (strstr(file, "sysusers.d/") != NULL)
        dir = "/etc/sysusers.d";
    else if (strstr(file, "tmpfiles.d/") != NULL)
        dir = "/etc/tmpfiles.d";
    else if (ends_with(base, ".service") || ends_with(base, ".socket") ||
             ends_with(base, ".path") || ends_with(base, ".timer"))
        dir = "/etc/systemd/system";
    if (dir == NULL || base[0] == '\0' || base[0] == '.')
        return 0;
    buf_printf(ret, "%s%s/%s", root, dir, base);
    return 1;
}

static int find_manifest(const char *dir, struct buf *ret)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    const struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (ends_with(e->d_name, ".manifest.json") && n++ == 0)
            buf_printf(ret, "%s/%s", dir, e->d_name);
    closedir(d);
    return n;
}

int manifest_load(const char *units, const char *service, struct manifest *ret, struct buf *err)
{
    struct buf path = {0};
    struct buf text = {0};
    const char *const sub[] = {"", "/lib/systemd/system"};
    int n = 0;
    for (size_t i = 0; i < 2 && n == 0; i++) {
        struct buf dir = {0};
        buf_printf(&dir, "%s%s", units, sub[i]);
        if (service != NULL) {
            buf_printf(&path, "%s/%s.manifest.json", buf_str(&dir), service);
            n = path_exists(buf_str(&path));
            if (n == 0)
                path.len = 0;
        } else {
            n = find_manifest(buf_str(&dir), &path);
        }
        buf_free(&dir);
    }
    int r = n == 1 ? read_file(buf_str(&path), &text) : (n == 0 ? -ENOENT : -ENOTUNIQ);
    if (r == 0 && (r = manifest_parse(buf_str(&text), ret)) < 0)
        buf_printf(err, "%s: not a vigil-unit manifest", buf_str(&path));
    else if (r < 0)
        buf_printf(err, "%s: %s vigil-unit manifest (give --service)", units,
                   n == 0 ? "no" : "more than one");
    buf_free(&path);
    buf_free(&text);
    return r;
}

int unit_deploy_dir(const char *service_file, struct buf *ret)
{
    struct buf text = {0};
    int r = read_file(service_file, &text);
    const char *s = r == 0 ? strstr(buf_str(&text), "\nWorkingDirectory=") : NULL;
    if (s != NULL) {
        s += strlen("\nWorkingDirectory=");
        s += *s == '-';
        size_t n = strcspn(s, "\n");
        if (n > strlen("/current") && strncmp(s + n - 8, "/current", 8) == 0) {
            buf_addn(ret, s, n - 8);
            buf_add(ret, "");
            r = 1;
        }
    }
    buf_free(&text);
    return r < 0 ? r : (r == 1);
}

/* Copies one generated file to its place; unchanged files are left alone. */
static int install_file(const char *src, const char *dst, struct buf *err)
{
    struct buf in = {0};
    struct buf old = {0};
    int r = read_file(src, &in);
    if (r == 0 && read_file(dst, &old) == 0 && old.len == in.len &&
        memcmp(old.data, in.data, in.len) == 0)
        r = 1;
    if (r == 0) {
        char *dir = xstrndup(dst, (size_t)(strrchr(dst, '/') - dst));
        r = mkdir_parents(dir);
        free(dir);
    }
    if (r == 0)
        r = write_file_atomic(dst, in.data, in.len, 0644, -1);
    if (r < 0)
        buf_printf(err, "cannot install %s as %s: %s", src, dst, strerror(-r));
    buf_free(&in);
    buf_free(&old);
    return r < 0 ? r : 0;
}

static int tool(const char *const *argv, struct buf *err)
{
    struct buf msg = {0};
    int r = run_cmd(argv, NULL, &msg);
    if (r != 0)
        buf_printf(err, "%s failed (%d): %s", argv[0], r, buf_str(&msg));
    buf_free(&msg);
    return r == 0 ? 0 : (r < 0 ? r : -EIO);
}

/* systemd-sysusers, systemd-tmpfiles; each is given the installed file as a path of this
 * system (systemd 252 does not resolve a path given on the command line under --root). */
static int create_users_and_dirs(const struct manifest *m, const char *root, struct buf *err)
{
    struct buf opt = {0};
    buf_printf(&opt, "--root=%s", root[0] ? root : "/");
    int r = 0;
    for (size_t i = 0; r == 0 && i < 2; i++) {
        static const char *const dirs[] = {"sysusers.d", "tmpfiles.d"};
        struct buf conf = {0};
        buf_printf(&conf, "/etc/%s/%s.conf", dirs[i], m->service);
        struct buf host = {0};
        buf_printf(&host, "%s%s", root, buf_str(&conf));
        const char *const users[] = {"systemd-sysusers", buf_str(&opt), buf_str(&host), NULL};
        const char *const tmp[] = {"systemd-tmpfiles", buf_str(&opt), "--create", buf_str(&host),
                                   NULL};
        if (path_exists(buf_str(&host)))
            r = tool(i == 0 ? users : tmp, err);
        buf_free(&conf);
        buf_free(&host);
    }
    buf_free(&opt);
    return r;
}

/* The service, its sockets and path units: systemctl enable (offline with --root). */
static int enable_units(const struct manifest *m, const char *root, struct buf *err)
{
    const char **argv = xcalloc(m->files.n + 5, sizeof(*argv));
    struct buf opt = {0};
    size_t n = 0;
    argv[n++] = "systemctl";
    if (root[0]) {
        buf_printf(&opt, "--root=%s", root);
        argv[n++] = buf_str(&opt);
    }
    argv[n++] = "enable";
    for (size_t i = 0; i < m->files.n; i++) {
        const char *base = strrchr(m->files.v[i], '/');
        base = base ? base + 1 : m->files.v[i];
        size_t len = strlen(m->service);
        bool main_unit = strncmp(base, m->service, len) == 0 && strcmp(base + len, ".service") == 0;
        if (main_unit || ends_with(base, ".socket") || ends_with(base, ".path"))
            argv[n++] = base;
    }
    int r = tool(argv, err);
    /* Path units watch a flag; started now, a deploy can use it before the next boot. Not
     * sockets: a connection before the first release would start a service with nothing to
     * run (the first restart starts them, through the service's Requires=). */
    n = 0;
    argv[n++] = "systemctl";
    argv[n++] = "start";
    for (size_t i = 0; i < m->files.n && !root[0]; i++) {
        const char *base = strrchr(m->files.v[i], '/');
        base = base ? base + 1 : m->files.v[i];
        if (ends_with(base, ".path"))
            argv[n++] = base;
    }
    argv[n] = NULL;
    if (r == 0 && n > 2)
        r = tool(argv, err);
    free(argv);
    buf_free(&opt);
    return r;
}

static int install_files(const char *units, const char *root, const struct manifest *m,
                         struct buf *err)
{
    int r = 0;
    for (size_t i = 0; r == 0 && i < m->files.n; i++) {
        struct buf src = {0};
        struct buf dst = {0};
        buf_printf(&src, "%s/%s", units, m->files.v[i]);
        if (install_destination(root, m->files.v[i], &dst) > 0)
            r = install_file(buf_str(&src), buf_str(&dst), err);
        buf_free(&src);
        buf_free(&dst);
    }
    return r;
}

static int create_cookie(const char *root, const char *service, const char *deploy_dir,
                         struct buf *err)
{
    struct buf dir = {0};
    struct buf unit = {0};
    int r = 1;
    if (deploy_dir != NULL) {
        buf_printf(&dir, "%s%s", root, deploy_dir);
    } else {
        buf_printf(&unit, "%s/etc/systemd/system/%s.service", root, service);
        buf_add(&dir, root);
        r = unit_deploy_dir(buf_str(&unit), &dir);
    }
    if (r > 0) {
        struct deploy_paths p;
        deploy_paths_init(&p, buf_str(&dir));
        r = path_exists(p.dir) ? deploy_cookie_create(&p) : 0;
        deploy_paths_free(&p);
        if (r < 0)
            buf_printf(err, "cannot create %s/COOKIE: %s", buf_str(&dir), strerror(-r));
    }
    buf_free(&dir);
    buf_free(&unit);
    return r < 0 ? r : 0;
}

int deploy_install(const char *units, const char *root, const char *service, const char *deploy_dir,
                   struct buf *err)
{
    struct manifest m = {0};
    int r = manifest_load(units, service, &m, err);
    if (r == 0)
        r = install_files(units, root, &m, err);
    if (r == 0)
        r = create_users_and_dirs(&m, root, err);
    if (r == 0)
        r = create_cookie(root, m.service, deploy_dir, err);
    const char *const reload[] = {"systemctl", "daemon-reload", NULL};
    if (r == 0 && root[0] == '\0')
        r = tool(reload, err);
    if (r == 0)
        r = enable_units(&m, root, err);
    manifest_free(&m);
    return r;
}
