/* tomcat-users.xml reader (see tomcat.h). */
#define _GNU_SOURCE
#include "tomcat.h"
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/SAX2.h>

struct parse_state {
    int doctype;        /* a DOCTYPE was seen: parsing was stopped */
    long doctype_line;
    int error_line;     /* first error (the later ones are consequences) */
    char error[200];
};

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_libxml(void)
{
    xmlInitParser();
}

/* SAX hook, called at "<!DOCTYPE name ..." before the internal subset is
 * read: stop right there, so no entity is ever declared or expanded. */
static void on_internal_subset(void *ctx, const xmlChar *name, const xmlChar *eid,
                               const xmlChar *sid)
{
    (void)name, (void)eid, (void)sid;
    xmlParserCtxtPtr pc = ctx;
    struct parse_state *st = pc->_private;
    st->doctype = 1;
    st->doctype_line = xmlSAX2GetLineNumber(ctx);
    xmlStopParser(pc);
}

/* Keeps libxml2's first error of this parse (nothing goes to stderr). */
static void on_error(void *ctx, xmlErrorPtr e)
{
    xmlParserCtxtPtr pc = ctx;
    struct parse_state *st = pc->_private;
    if (st->error[0] || !e || e->level < XML_ERR_ERROR)
        return;
    snprintf(st->error, sizeof st->error, "%s", e->message ? e->message : "not well-formed XML");
    st->error[strcspn(st->error, "\r\n")] = '\0';
    st->error_line = e->line;
}

static int is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

struct group { xmlChar *name, *roles; };

static void free_groups(struct group *g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        xmlFree(g[i].name);
        xmlFree(g[i].roles);
    }
    free(g);
}

/* Appends ",s" (or "s") to the malloc'd *buf. */
static int cat_roles(char **buf, size_t *len, const char *s)
{
    size_t sl = strlen(s);
    char *b = realloc(*buf, *len + sl + 2);
    if (!b)
        return -1;
    if (*len)
        b[(*len)++] = ',';
    memcpy(b + *len, s, sl + 1);
    *len += sl;
    *buf = b;
    return 0;
}

/* The roles of one <user>: its own plus those of each of its groups. */
static char *user_roles(const xmlNode *u, const struct group *g, size_t ng, const char *path,
                        char *err, size_t errlen)
{
    char *buf = calloc(1, 1);
    size_t len = 0;
    xmlChar *own = xmlGetProp(u, (const xmlChar *)"roles");
    xmlChar *groups = xmlGetProp(u, (const xmlChar *)"groups");
    int ok = buf != NULL;
    if (ok && own)
        ok = cat_roles(&buf, &len, (const char *)own) == 0;
    static const char sep[] = ", \t\r\n";
    char *save = NULL;
    for (char *tok = groups ? strtok_r((char *)groups, sep, &save) : NULL; ok && tok;
         tok = strtok_r(NULL, sep, &save)) {
        size_t i;
        for (i = 0; i < ng && strcmp((const char *)g[i].name, tok) != 0; i++)
            ;
        if (i == ng) {
            snprintf(err, errlen, "%s:%ld: user in unknown group '%s'", path, xmlGetLineNo(u), tok);
            free(buf);
            buf = NULL;
            break;
        }
        if (g[i].roles)
            ok = cat_roles(&buf, &len, (const char *)g[i].roles) == 0;
    }
    if (!ok) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(buf);
        buf = NULL;
    }
    xmlFree(own);
    xmlFree(groups);
    return buf;
}

static int walk(const xmlNode *root, const char *path, cr_tomcat_user_fn fn, void *ctx,
                char *err, size_t errlen)
{
    struct group *g = NULL;
    size_t ng = 0;
    int rc = 0;
    for (const xmlNode *n = root->children; n && rc == 0; n = n->next) {
        if (!is_elem(n, "group"))
            continue;
        xmlChar *name = xmlGetProp(n, (const xmlChar *)"groupname");
        if (!name) {
            snprintf(err, errlen, "%s:%ld: <group> without groupname", path, xmlGetLineNo(n));
            rc = -1;
            break;
        }
        struct group *ng2 = realloc(g, (ng + 1) * sizeof *g);
        if (!ng2) {
            xmlFree(name);
            snprintf(err, errlen, "%s: out of memory", path);
            rc = -1;
            break;
        }
        g = ng2;
        g[ng].name = name;
        g[ng].roles = xmlGetProp(n, (const xmlChar *)"roles");
        ng++;
    }
    for (const xmlNode *n = root->children; n && rc == 0; n = n->next) {
        if (!is_elem(n, "user"))
            continue;
        xmlChar *name = xmlGetProp(n, (const xmlChar *)"username");
        if (!name)
            name = xmlGetProp(n, (const xmlChar *)"name");
        if (!name) {
            snprintf(err, errlen, "%s:%ld: <user> without username", path, xmlGetLineNo(n));
            rc = -1;
            break;
        }
        char *roles = user_roles(n, g, ng, path, err, errlen);
        if (!roles)
            rc = -1;
        else
            rc = fn(ctx, (const char *)name, roles, xmlGetLineNo(n), err, errlen);
        free(roles);
        xmlFree(name);
    }
    free_groups(g, ng);
    return rc;
}

int cr_tomcat_parse(const char *data, size_t len, const char *path, cr_tomcat_user_fn fn,
                    void *ctx, char *err, size_t errlen)
{
    if (len > INT_MAX) {
        snprintf(err, errlen, "%s: file too large", path);
        return -1;
    }
    pthread_once(&init_once, init_libxml);
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    if (!pc) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    struct parse_state st = { 0, 0, 0, "" };
    pc->_private = &st;
    pc->sax->internalSubset = on_internal_subset;
    pc->sax->serror = on_error;
    /* No NOENT, no DTDLOAD/DTDATTR/DTDVALID, no XINCLUDE: entities stay
     * unexpanded and nothing external is read; NONET on top. */
    xmlDocPtr doc = xmlCtxtReadMemory(pc, data, (int)len, path, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR |
                                          XML_PARSE_NOWARNING);
    int rc = -1;
    if (st.doctype || (doc && (doc->intSubset || doc->extSubset))) {
        snprintf(err, errlen, "%s:%ld: DOCTYPE not allowed in tomcat-users.xml (no DTD or"
                 " entities are read)", path, st.doctype ? st.doctype_line : 1L);
    } else if (!doc || !pc->wellFormed) {
        snprintf(err, errlen, "%s:%d: %s", path, st.error_line,
                 st.error[0] ? st.error : "not well-formed XML");
    } else {
        const xmlNode *root = xmlDocGetRootElement(doc);
        if (!root || !is_elem(root, "tomcat-users"))
            snprintf(err, errlen, "%s:%ld: root element is <%s>, expected <tomcat-users>", path,
                     root ? xmlGetLineNo(root) : 1L, root ? (const char *)root->name : "");
        else
            rc = walk(root, path, fn, ctx, err, errlen);
    }
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(pc);
    return rc;
}
