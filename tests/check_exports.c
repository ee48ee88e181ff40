/* The shared library's ABI surface, read from the built objects with
 * nm: libcertrole.so exports certrole_* names only (all in the version
 * node of module/libcertrole.map), every function the public headers
 * declare with CERTROLE_API is exported, and each realm plugin exports
 * exactly its ops table certrole_realm_v1. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "build-config.h"
#include "testutil.h"

/* Defined dynamic symbols of a built shared object, one "TYPE NAME" per
 * line (version suffix kept), as nm prints them. */
static char *dyn_symbols(const char *so)
{
    char *out = NULL;
    char *cmd = tu_strf("'%s' -D --defined-only '%s'", tu_env("NM", "nm"), tu_build(so));
    int st = tu_run(cmd, &out);
    ck_assert_msg(st == 0, "%s failed (%d): %s", cmd, st, out ? out : "");
    free(cmd);
    ck_assert_ptr_nonnull(out);
    return out;
}

/* Calls fn(type, name) for every symbol line; the name without @VERSION. */
static size_t each_symbol(char *out, void (*fn)(char type, const char *name, const char *ver,
                                                void *ud), void *ud)
{
    size_t n = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        char addr[64], type[8], name[512];
        if (sscanf(line, "%63s %7s %511s", addr, type, name) != 3)
            continue;
        char *at = strchr(name, '@');
        const char *ver = "";
        if (at) {
            *at = '\0';
            ver = at + 1 + (at[1] == '@');
        }
        fn(type[0], name, ver, ud);
        n++;
    }
    return n;
}

struct lib_seen { char names[16384]; int n_api; };

static void lib_symbol(char type, const char *name, const char *ver, void *ud)
{
    struct lib_seen *s = ud;
    if (type == 'A') {   /* the version node itself */
        ck_assert_msg(strncmp(name, "CERTROLE_", 9) == 0, "unexpected absolute symbol %s", name);
        return;
    }
    ck_assert_msg(strncmp(name, "certrole_", 9) == 0, "libcertrole.so exports '%s'", name);
    ck_assert_msg(strncmp(ver, "CERTROLE_", 9) == 0, "%s has no CERTROLE_ version (%s)", name,
                  ver);
    ck_assert_uint_lt(strlen(s->names) + strlen(name) + 3, sizeof s->names);
    strcat(s->names, " ");
    strcat(s->names, name);
    strcat(s->names, " ");
    s->n_api++;
}

/* Every name declared "CERTROLE_API ... certrole_NAME(" in header hdr
 * must be among the exported names. Returns how many were declared. */
static int check_header(const char *hdr, const char *exported)
{
    char *text = tu_read_file(tu_src(hdr), NULL);
    ck_assert_msg(text != NULL, "cannot read %s", hdr);
    int n = 0;
    for (char *p = strstr(text, "CERTROLE_API"); p; p = strstr(p + 1, "CERTROLE_API")) {
        if (p > text && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        const char *bol = p;
        while (bol > text && bol[-1] != '\n')
            bol--;
        while (*bol == ' ' || *bol == '\t')
            bol++;
        if (*bol == '#')
            continue;   /* the macro's own definition */
        char *semi = strchr(p, ';');
        char *paren = strchr(p, '(');
        if (!semi || !paren || paren > semi)
            continue;
        char *e = paren;
        while (e > p && isspace((unsigned char)e[-1]))
            e--;
        char *b = e;
        while (b > p && (isalnum((unsigned char)b[-1]) || b[-1] == '_'))
            b--;
        char *want = tu_strf(" %.*s ", (int)(e - b), b);
        ck_assert_msg(strncmp(want + 1, "certrole_", 9) == 0, "%s declares %s", hdr, want);
        ck_assert_msg(strstr(exported, want) != NULL, "%s declares%snot exported", hdr, want);
        free(want);
        n++;
    }
    free(text);
    return n;
}

START_TEST(library_exports_certrole_names_only)
{
    char *out = dyn_symbols(".libs/libcertrole.so");
    struct lib_seen s = { "", 0 };
    ck_assert_uint_gt(each_symbol(out, lib_symbol, &s), 0);
    free(out);
    /* Internal cross-file helpers (cr_*) and static functions stay hidden. */
    ck_assert_ptr_null(strstr(s.names, " cr_"));
    int api = check_header("include/certrole.h", s.names);
    api += check_header("include/certrole_realm.h", s.names);
    ck_assert_int_ge(api, 40);
    /* Nothing exported that no public header declares. */
    ck_assert_msg(s.n_api == api, "%d exported, %d declared:%s", s.n_api, api, s.names);
}
END_TEST

/* The export map names every exported function (no wildcard in a global
 * list), and names exactly what libcertrole.so exports. */
START_TEST(export_map_lists_names)
{
    char *out = dyn_symbols(".libs/libcertrole.so");
    struct lib_seen s = { "", 0 };
    each_symbol(out, lib_symbol, &s);
    free(out);
    char *map = tu_read_file(tu_src("module/libcertrole.map"), NULL);
    ck_assert_ptr_nonnull(map);
    for (char *c = strstr(map, "/*"); c; c = strstr(c, "/*")) {
        char *e = strstr(c + 2, "*/");
        ck_assert_ptr_nonnull(e);
        memset(c, ' ', (size_t)(e + 2 - c));
    }
    int global = 0, listed = 0;
    for (char *name = strtok(map, " \t\n;"); name; name = strtok(NULL, " \t\n;")) {
        if (strcmp(name, "global:") == 0 || strcmp(name, "local:") == 0 || name[0] == '}') {
            global = strcmp(name, "global:") == 0;
            continue;
        }
        if (!global)
            continue;
        ck_assert_msg(strpbrk(name, "*?[") == NULL, "wildcard '%s' in a global list", name);
        char *want = tu_strf(" %s ", name);
        ck_assert_msg(strstr(s.names, want) != NULL, "map lists %s, not exported", name);
        free(want);
        listed++;
    }
    free(map);
    ck_assert_int_eq(listed, s.n_api);
}
END_TEST

struct plugin_seen { int n; int table; };

static void plugin_symbol(char type, const char *name, const char *ver, void *ud)
{
    (void)ver;
    struct plugin_seen *s = ud;
    s->n++;
    ck_assert_msg(strcmp(name, "certrole_realm_v1") == 0, "plugin exports '%s'", name);
    ck_assert_msg(type == 'D' || type == 'R' || type == 'B', "certrole_realm_v1 is type %c", type);
    s->table++;
}

START_TEST(plugins_export_their_ops_table_only)
{
    static const char *const plugins[] = { ".libs/realm_file.so", ".libs/realm_ldap.so",
#ifdef HAVE_SSS_CERTMAP
                                           ".libs/realm_certmap.so",
#endif
    };
    for (size_t i = 0; i < sizeof plugins / sizeof plugins[0]; i++) {
        char *out = dyn_symbols(plugins[i]);
        struct plugin_seen s = { 0, 0 };
        each_symbol(out, plugin_symbol, &s);
        free(out);
        ck_assert_msg(s.n == 1 && s.table == 1, "%s: %d symbols", plugins[i], s.n);
    }
}
END_TEST

static Suite *exports_suite(void)
{
    Suite *s = suite_create("exports");
    TCase *tc = tcase_create("nm");
    tcase_add_test(tc, library_exports_certrole_names_only);
    tcase_add_test(tc, export_map_lists_names);
    tcase_add_test(tc, plugins_export_their_ops_table_only);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(exports_suite());
}
