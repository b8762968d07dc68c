#include "render.h"

#include "io.h"
#include "sdver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const RENDER_TEMPLATES[] = {"service.unit",    "restart.path",
                                        "restart.service", "runtime-environment.service",
                                        "socket.unit",     "epmd.socket",
                                        "epmd.service",    "sysusers.conf",
                                        "tmpfiles.conf",   NULL};

static const char *const SECTION_NAMES[SEC_COUNT] = {"unit", "service", "path", "socket",
                                                     "install"};

/* The directives of one section of unit file `f` (of socket unit `part` for UF_SOCKET). */
static void render_section(const struct unit_model *m, enum unit_file f, unsigned part,
                           enum unit_section s, struct buf *out)
{
    for (size_t i = 0; i < m->n; i++) {
        const struct directive *d = &m->d[i];
        if (d->file == f && d->section == s && d->status != DS_DROPPED &&
            (f != UF_SOCKET || d->part == part))
            buf_printf(out, "%s=%s\n", d->key, d->value);
    }
}

/* Appends the text of placeholder `name`; -ENOENT when there is no such placeholder. */
static int placeholder(const struct unit_model *m, enum unit_file f, unsigned part,
                       const char *name, struct buf *out)
{
    for (int s = 0; s < SEC_COUNT; s++) {
        if (f != UF_COUNT && strcmp(name, SECTION_NAMES[s]) == 0) {
            render_section(m, f, part, (enum unit_section)s, out);
            return 0;
        }
    }
    if (f == UF_SOCKET && part < m->n_sockets && strcmp(name, "socket_unit") == 0) {
        buf_add(out, m->sockets[part].unit);
        return 0;
    }
    if (strcmp(name, "release") == 0) {
        buf_printf(out, "%s%s%s", m->app_name, m->version[0] ? " " : "", m->version);
        return 0;
    }
    const char *values[][2] = {{"service_name", m->service},
                               {"app_name", m->app_name},
                               {"version", m->version},
                               {"hardening", m->hardening},
                               {"sysusers", buf_str(&m->sysusers)},
                               {"tmpfiles", buf_str(&m->tmpfiles)}};
    for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
        if (strcmp(name, values[i][0]) == 0) {
            buf_add(out, values[i][1]);
            return 0;
        }
    }
    return -ENOENT;
}

int render_template(const struct unit_model *m, enum unit_file f, unsigned part, const char *text,
                    struct buf *out, struct buf *err)
{
    buf_add(out, "");
    for (const char *p = text; *p;) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open, "}}") : NULL;
        if (close == NULL) {
            buf_add(out, p);
            break;
        }
        buf_addn(out, p, (size_t)(open - p));
        char *name = xstrndup(open + 2, (size_t)(close - open - 2));
        /* A section block ends with its own newline; swallow the template's one after it. */
        int r = placeholder(m, f, part, name, out);
        if (r < 0)
            buf_printf(err, "templates: unknown placeholder {{%.63s}}", name);
        free(name);
        if (r < 0)
            return -EINVAL;
        p = close + 2;
        if (*p == '\n' && out->len > 0 && out->data[out->len - 1] == '\n')
            p++;
    }
    return 0;
}

static int render_one(const struct unit_model *m, const char *tmpl_dir, const char *tmpl,
                      enum unit_file f, unsigned part, struct buf *out, struct buf *err)
{
    struct buf path = {0};
    struct buf text = {0};
    buf_printf(&path, "%s/%s", tmpl_dir, tmpl);
    int r = read_file(buf_str(&path), &text);
    if (r < 0)
        buf_printf(err, "templates: cannot read %s: %s", buf_str(&path), strerror(-r));
    else
        r = render_template(m, f, part, buf_str(&text), out, err);
    buf_free(&path);
    buf_free(&text);
    return r;
}

static void push_file(struct rendered *out, const char *name, struct buf *content)
{
    strlist_push(&out->names, name);
    strlist_push(&out->contents, buf_str(content));
    buf_free(content);
}

/* Renders one template into the file `name` of the set; takes ownership of name. */
static int render_file(const struct unit_model *m, const char *tmpl_dir, const char *tmpl,
                       enum unit_file f, unsigned part, struct buf *name, struct rendered *out,
                       struct buf *err)
{
    struct buf content = {0};
    int r = render_one(m, tmpl_dir, tmpl, f, part, &content, err);
    if (r == 0)
        push_file(out, buf_str(name), &content);
    buf_free(name);
    buf_free(&content);
    return r;
}

/* Where the units (and the manifest next to them) and the companions' directories go. */
static const char *unit_dir(const struct unit_model *m)
{
    return m->mix_layout ? "lib/systemd/system/" : "";
}

static const char *lib_dir(const struct unit_model *m)
{
    return m->mix_layout ? "lib/" : "";
}

static int render_sockets(const struct unit_model *m, const char *tmpl_dir, struct rendered *out,
                          struct buf *err)
{
    for (size_t i = 0; i < m->n_sockets; i++) {
        struct buf name = {0};
        buf_printf(&name, "%s%s", unit_dir(m), m->sockets[i].unit);
        int r = render_file(m, tmpl_dir, RENDER_TEMPLATES[UF_SOCKET], UF_SOCKET, (unsigned)i, &name,
                            out, err);
        if (r < 0)
            return r;
    }
    return 0;
}

static int render_units(const struct unit_model *m, const char *tmpl_dir, struct rendered *out,
                        struct buf *err)
{
    for (int f = 0; f < UF_COUNT; f++) {
        if (!m->has_file[f] || f == UF_SOCKET)
            continue;
        struct buf name = {0};
        buf_add(&name, unit_dir(m));
        unit_file_name(&name, (enum unit_file)f, m->service);
        int r =
            render_file(m, tmpl_dir, RENDER_TEMPLATES[f], (enum unit_file)f, 0, &name, out, err);
        if (r < 0)
            return r;
    }
    return render_sockets(m, tmpl_dir, out, err);
}

static int render_companions(const struct unit_model *m, const char *tmpl_dir, struct rendered *out,
                             struct buf *err)
{
    const struct {
        const char *tmpl, *dir;
        const struct buf *body;
    } comp[] = {{"sysusers.conf", "sysusers.d", &m->sysusers},
                {"tmpfiles.conf", "tmpfiles.d", &m->tmpfiles}};
    for (size_t i = 0; i < 2; i++) {
        if (comp[i].body->len == 0)
            continue;
        struct buf name = {0};
        buf_printf(&name, "%s%s/%s.conf", lib_dir(m), comp[i].dir, m->service);
        int r = render_file(m, tmpl_dir, comp[i].tmpl, UF_COUNT, 0, &name, out, err);
        if (r < 0)
            return r;
    }
    return 0;
}

int render_all(const struct unit_model *m, const char *tmpl_dir, struct rendered *out,
               struct buf *err)
{
    int r = render_units(m, tmpl_dir, out, err);
    if (r == 0)
        r = render_companions(m, tmpl_dir, out, err);
    if (r < 0)
        return r;
    struct buf name = {0};
    struct buf manifest = {0};
    buf_printf(&name, "%s%s.manifest.json", unit_dir(m), m->service);
    render_manifest(m, &out->names, &manifest);
    push_file(out, buf_str(&name), &manifest);
    buf_free(&name);
    return 0;
}

/* Values are validated UTF-8 and hold control bytes only as unit file escapes; a raw one
 * would still come out as valid JSON. */
static void json_str(struct buf *out, const char *s)
{
    buf_addc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20)
            buf_printf(out, "\\u%04x", *p);
        else if (*p == '"' || *p == '\\')
            buf_printf(out, "\\%c", *p);
        else
            buf_addc(out, (char)*p);
    }
    buf_addc(out, '"');
}

static void manifest_directive(const struct unit_model *m, const struct directive *d,
                               struct buf *out)
{
    static const char *const status[] = {"emitted", "gated", "dropped"};
    struct buf file = {0};
    directive_file_name(m, d, &file);
    buf_add(out, "    {\"file\": ");
    json_str(out, buf_str(&file));
    buf_printf(out, ", \"section\": \"%s\", \"key\": ", SECTION_NAMES[d->section]);
    json_str(out, d->key);
    buf_add(out, ", \"value\": ");
    json_str(out, d->value);
    buf_printf(out, ", \"status\": \"%s\", \"since\": %u, \"reason\": ", status[d->status],
               d->since);
    json_str(out, d->reason);
    buf_add(out, "}");
    buf_free(&file);
}

/* A score in tenths as the manifest writes it: "1.1", or null when unknown. */
static void json_tenths(struct buf *out, int tenths)
{
    if (tenths < 0)
        buf_add(out, "null");
    else
        buf_printf(out, "\"%d.%d\"", tenths / 10, tenths % 10);
}

/* Every service unit's expected exposure, companions included; null where unknown. */
static void manifest_exposure(const struct unit_model *m, struct buf *out)
{
    bool first = true;
    buf_add(out, "  \"unit_exposure\": {");
    for (int f = 0; f < UF_COUNT; f++) {
        if (!m->has_file[f] || !unit_file_is_service((enum unit_file)f))
            continue;
        struct buf name = {0};
        unit_file_name(&name, (enum unit_file)f, m->service);
        buf_add(out, first ? "" : ", ");
        json_str(out, buf_str(&name));
        buf_add(out, ": ");
        json_tenths(out, m->unit_exposure[f]);
        buf_free(&name);
        first = false;
    }
    buf_add(out, "},\n");
}

/* The socket units and what the service finds in them; the fd store's size. A null backlog
 * is systemd's default: the kernel's net.core.somaxconn. */
static void manifest_sockets(const struct unit_model *m, struct buf *out)
{
    buf_add(out, m->n_sockets ? "  \"sockets\": [\n" : "  \"sockets\": [");
    for (size_t i = 0; i < m->n_sockets; i++) {
        buf_add(out, "    {\"unit\": ");
        json_str(out, m->sockets[i].unit);
        buf_add(out, ", \"name\": ");
        json_str(out, m->sockets[i].name);
        buf_add(out, ", \"listen\": ");
        json_str(out, m->sockets[i].listen);
        if (m->socket_backlog > 0)
            buf_printf(out, ", \"backlog\": %lu", m->socket_backlog);
        else
            buf_add(out, ", \"backlog\": null");
        buf_add(out, i + 1 < m->n_sockets ? "},\n" : "}\n  ");
    }
    buf_printf(out, "],\n  \"fd_store_max\": %lu,\n", m->fd_store_max);
}

/* Keys that were given but had no effect, each with the reason. */
static void manifest_unused(const struct unit_model *m, struct buf *out)
{
    buf_add(out, m->n_unused ? "  \"options\": [\n" : "  \"options\": [");
    for (size_t i = 0; i < m->n_unused; i++) {
        buf_add(out, "    {\"key\": ");
        json_str(out, m->unused[i].key);
        buf_add(out, ", \"effect\": \"none\", \"reason\": ");
        json_str(out, m->unused[i].reason);
        buf_add(out, i + 1 < m->n_unused ? "},\n" : "}\n  ");
    }
    buf_add(out, "],\n");
}

/* Facts about the result the directives alone do not tell. */
static void manifest_notes(const struct unit_model *m, struct buf *out)
{
    buf_add(out, m->n_notes ? "  \"notes\": [\n" : "  \"notes\": [");
    for (size_t i = 0; i < m->n_notes; i++) {
        buf_add(out, "    {\"key\": ");
        json_str(out, m->notes[i].key);
        buf_printf(out, ", \"level\": \"%s\", \"note\": ", m->notes[i].warn ? "warning" : "info");
        json_str(out, m->notes[i].text);
        buf_add(out, i + 1 < m->n_notes ? "},\n" : "}\n  ");
    }
    buf_add(out, "],\n");
}

void render_manifest(const struct unit_model *m, const struct strlist *files, struct buf *out)
{
    buf_add(out, "{\n  \"service\": ");
    json_str(out, m->service);
    buf_add(out, ",\n  \"app_name\": ");
    json_str(out, m->app_name);
    buf_add(out, ",\n  \"version\": ");
    json_str(out, m->version);
    buf_add(out, ",\n  \"vigil_version\": \"" VIGIL_VERSION "\"");
    buf_printf(out, ",\n  \"systemd_version\": %u,\n  \"systemd_features\": \"",
               m->systemd_version);
    for (unsigned f = 0; f < SDB_COUNT; f++)
        buf_printf(out, "%s%c%s", f ? " " : "", (m->features & (1U << f)) ? '+' : '-',
                   build_feature_name((enum sd_build_feature)f));
    buf_add(out, "\",\n  \"hardening\": ");
    json_str(out, m->hardening);
    buf_add(out, ",\n  \"expected_exposure\": ");
    json_tenths(out, m->exposure_tenths);
    buf_printf(out, ",\n  \"exposure_scored_by\": %u,\n  \"exposure_by_systemd\": {",
               m->exposure_scored_by);
    for (size_t i = 0; i < EXPOSURE_SCORED; i++) {
        buf_printf(out, "%s\"%u\": ", i ? ", " : "", m->exposure_versions[i]);
        json_tenths(out, m->exposure_by_version[i]);
    }
    buf_add(out, "},\n  \"files\": [");
    for (size_t i = 0; i < files->n; i++) {
        buf_add(out, i ? ", " : "");
        json_str(out, files->v[i]);
    }
    buf_add(out, "],\n");
    manifest_exposure(m, out);
    manifest_sockets(m, out);
    manifest_unused(m, out);
    manifest_notes(m, out);
    buf_add(out, "  \"directives\": [\n");
    for (size_t i = 0; i < m->n; i++) {
        manifest_directive(m, &m->d[i], out);
        buf_add(out, i + 1 < m->n ? ",\n" : "\n");
    }
    buf_add(out, "  ]\n}\n");
}

void rendered_free(struct rendered *r)
{
    strlist_free(&r->names);
    strlist_free(&r->contents);
}
