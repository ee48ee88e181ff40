/* A scriptable realm plugin for tests: its arguments say what to answer.
 *   answer=found|notfound|refused|unavailable   (default found)
 *   answer=invalid   returns a status outside the enum (fail-closed tests)
 *   leak             also set user and roles when not answering "found"
 *                    (a buggy module: the core must drop them)
 *   user=NAME  roles=a,b,c                       (used when found)
 *   role=TEXT      one more role, verbatim (commas and all); repeatable
 *   role-hex=HEX   one more role given as hex bytes (control bytes, ...)
 *   if-cn=CN       answer as told only for this subject CN, else notfound
 *   roles-file=F   read roles (one line, comma-separated) from F at open;
 *                  F is registered with watch_file, so touching it makes
 *                  certrole_reload_if_changed rebuild
 *   trace=F tag=T  append "T\n" to F on every lookup (call order checks)
 *   fail-open      open() fails, naming this argument
 * Built with the tests only; never installed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "certrole_realm.h"

struct st {
    certrole_realm_status answer;
    int leak;
    char *user, *roles, *if_cn, *trace, *tag;
    char *raw[8];           /* role= / role-hex= */
    size_t n_raw;
};

static void st_free(struct st *s)
{
    if (!s)
        return;
    free(s->user);
    free(s->roles);
    free(s->if_cn);
    free(s->trace);
    free(s->tag);
    for (size_t i = 0; i < s->n_raw; i++)
        free(s->raw[i]);
    free(s);
}

static char *read_line(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char buf[512] = "";
    if (!fgets(buf, sizeof buf, f))
        buf[0] = '\0';
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return strdup(buf);
}

static char *from_hex(const char *h)
{
    size_t n = strlen(h) / 2;
    char *out = calloc(1, n + 1);
    for (size_t i = 0; out && i < n; i++) {
        unsigned v = 0;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            v = '?';
        out[i] = (char)v;
    }
    return out;
}

static int t_open(void **state, int argc, const char *const *argv,
                  const certrole_realm_env *env, char *err, size_t errlen)
{
    struct st *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->answer = CERTROLE_REALM_FOUND;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        const char *v = eq ? eq + 1 : "";
        size_t kl = eq ? (size_t)(eq - a) : strlen(a);
#define KEY(k) (kl == strlen(k) && strncmp(a, k, kl) == 0)
        if (KEY("answer")) {
            if (strcmp(v, "found") == 0) s->answer = CERTROLE_REALM_FOUND;
            else if (strcmp(v, "notfound") == 0) s->answer = CERTROLE_REALM_NOT_FOUND;
            else if (strcmp(v, "refused") == 0) s->answer = CERTROLE_REALM_REFUSED;
            else if (strcmp(v, "unavailable") == 0) s->answer = CERTROLE_REALM_UNAVAILABLE;
            else if (strcmp(v, "invalid") == 0) s->answer = (certrole_realm_status)42;
            else {
                snprintf(err, errlen, "answer=%s: expected found, notfound, refused or unavailable", v);
                goto fail;
            }
        } else if (KEY("user")) {
            free(s->user);
            s->user = strdup(v);
        } else if (KEY("roles")) {
            free(s->roles);
            s->roles = strdup(v);
        } else if ((KEY("role") || KEY("role-hex")) && s->n_raw < 8) {
            s->raw[s->n_raw++] = KEY("role") ? strdup(v) : from_hex(v);
        } else if (KEY("if-cn")) {
            free(s->if_cn);
            s->if_cn = strdup(v);
        } else if (KEY("trace")) {
            free(s->trace);
            s->trace = strdup(v);
        } else if (KEY("tag")) {
            free(s->tag);
            s->tag = strdup(v);
        } else if (KEY("roles-file")) {
            char path[4096];
            /* Relative to the policy's directory, as the SPI asks. */
            snprintf(path, sizeof path, "%s%s%s", v[0] == '/' ? "" : env->base_dir,
                     v[0] == '/' ? "" : "/", v);
            free(s->roles);
            s->roles = read_line(path);
            if (!s->roles) {
                snprintf(err, errlen, "roles-file=%s: cannot read", v);
                goto fail;
            }
            env->watch_file(env->watch_ctx, path);
        } else if (KEY("leak")) {
            s->leak = 1;
        } else if (KEY("fail-open")) {
            snprintf(err, errlen, "fail-open: asked to fail");
            goto fail;
        } else {
            snprintf(err, errlen, "unknown argument '%s'", a);
            goto fail;
        }
#undef KEY
    }
    if (env->log)
        env->log(env->log_ctx, CERTROLE_LOG_DEBUG, "realm_test: opened");
    *state = s;
    return 0;
fail:
    st_free(s);
    return -1;
}

static certrole_realm_status t_lookup(void *state, const certrole_identity *id,
                                      certrole_answer *ans)
{
    struct st *s = state;
    if (s->trace) {
        int fd = open(s->trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0) {
            char line[128];
            int n = snprintf(line, sizeof line, "%s\n", s->tag ? s->tag : "?");
            if (write(fd, line, (size_t)n) < 0)
                n = 0;
            close(fd);
        }
    }
    if (s->if_cn) {
        const char *cn = certrole_identity_get(id, CERTROLE_ID_CN);
        if (!cn || strcmp(cn, s->if_cn) != 0)
            return CERTROLE_REALM_NOT_FOUND;
    }
    if (s->answer != CERTROLE_REALM_FOUND && !s->leak) {
        certrole_answer_set_message(ans, "test realm %s answers as told", s->tag ? s->tag : "");
        return s->answer;
    }
    if (s->user && certrole_answer_set_user(ans, s->user) < 0)
        return CERTROLE_REALM_UNAVAILABLE;
    if (s->roles && *s->roles) {
        char *copy = strdup(s->roles), *save = NULL;
        if (!copy)
            return CERTROLE_REALM_UNAVAILABLE;
        for (char *r = strtok_r(copy, ",", &save); r; r = strtok_r(NULL, ",", &save))
            if (certrole_answer_add_role(ans, r) < 0) {
                free(copy);
                return CERTROLE_REALM_UNAVAILABLE;
            }
        free(copy);
    }
    for (size_t i = 0; i < s->n_raw; i++)
        if (s->raw[i] && certrole_answer_add_role(ans, s->raw[i]) < 0)
            return CERTROLE_REALM_UNAVAILABLE;
    if (s->answer != CERTROLE_REALM_FOUND)
        certrole_answer_set_message(ans, "test realm %s answers as told", s->tag ? s->tag : "");
    return s->answer;
}

static void t_close(void *state)
{
    st_free(state);
}

CERTROLE_REALM_EXPORT const certrole_realm_ops certrole_realm_v1 = {
    .abi_version = CERTROLE_REALM_ABI_VERSION,
    .name = "test",
    .open = t_open,
    .lookup = t_lookup,
    .close = t_close,
};
