/* How 'certrole realm' writes: 50 concurrent adds all land, a writer
 * killed after creating its temporary file leaves the old realm intact
 * and does not block the next one, mode and owner are kept, a symbolic
 * link is written through, and a realm that does not load is not made
 * worse. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cli_realm_util.h"

#define ORIG "# Acme users\n\n   # indented comment\n" \
             "\"CN=Someone,O=X\" reader user=someone   # trailing\n"

/* The policy opens, so the realm loads as a server would load it. */
static void realm_loads(void)
{
    certrole_ctx *ctx = NULL;
    char *err = NULL;
    ck_assert_msg(certrole_open(&ctx, policy_path, &err) == CERTROLE_OK, "open: %s", err);
    certrole_close(ctx);
}

/* Temporary files of a writer left in cr_dir. */
static int leftovers(void)
{
    DIR *d = opendir(cr_dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;)
        n += strncmp(de->d_name, ".users.realm.new.", 17) == 0;
    closedir(d);
    return n;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

START_TEST(fifty_concurrent_adds)
{
    char *out = NULL, *cmd = tu_strf(
        "cd '%s' && for i in $(seq 1 50); do '%s' req -x509 -newkey ec -pkeyopt"
        " ec_paramgen_curve:P-256 -nodes -keyout /dev/null -subj /CN=user$i -days 2"
        " -out c$i.pem 2>/dev/null || echo FAIL $i; done",
        cr_dir, tu_env("OPENSSL", "openssl"));
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_str_eq(out, "");
    free(out);
    free(cmd);
    /* 50 processes at once, each its own certificate. */
    cmd = tu_strf("cd '%s' && for i in $(seq 1 50); do ( '%s' realm add --realm users.realm"
                  " --user user$i --roles r$i c$i.pem >/dev/null 2>&1 || echo FAIL $i ) & done;"
                  " wait", cr_dir, tu_build("certrole"));
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_msg(strcmp(out, "") == 0, "failed adds: %s", out);
    free(out);
    free(cmd);
    char *text = tu_read_file(realm_path, NULL);
    ck_assert_ptr_nonnull(text);
    ck_assert_msg(strncmp(text, ORIG, strlen(ORIG)) == 0, "head changed:\n%s", text);
    ck_assert_uint_eq(count(text, "\nsha256:"), 50);
    for (int i = 1; i <= 50; i++) {
        char *u = tu_strf(" r%d user=user%d\n", i, i);
        ck_assert_msg(count(text, u) == 1, "user%d: %zu entries", i, count(text, u));
        free(u);
    }
    ck_assert_int_eq(leftovers(), 0);
    realm_loads();
    free(text);
}
END_TEST

static pid_t spawn_add(const char *user, const char *cert)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int dn = open("/dev/null", O_WRONLY);
        dup2(dn, 1);
        dup2(dn, 2);
        execl(tu_build("certrole"), "certrole", "realm", "add", "--realm", realm_path, "--user",
              user, "--roles", "r", cert, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Starts an add and stops it (SIGSTOP) as soon as its temporary file
 * appears, before the rename. 1 when caught in time (the realm is still
 * 'big' and the temporary file exists), with *pid the stopped writer. */
static int stop_after_tmpfile(const char *big, size_t biglen, const char *cert, pid_t *pid)
{
    tu_write_file(realm_path, big);
    int in = inotify_init1(IN_CLOEXEC);
    ck_assert_int_ge(in, 0);
    ck_assert_int_ge(inotify_add_watch(in, cr_dir, IN_CREATE), 0);
    *pid = spawn_add("victim", cert);
    int stopped = 0;
    char buf[4096] __attribute__((aligned(8)));
    struct pollfd p = { in, POLLIN, 0 };
    while (!stopped && poll(&p, 1, 20000) == 1) {
        ssize_t n = read(in, buf, sizeof buf);
        for (char *q = buf; n > 0 && q < buf + n;) {
            struct inotify_event *ev = (struct inotify_event *)q;
            if (ev->len && strncmp(ev->name, ".users.realm.new.", 17) == 0 && !stopped) {
                kill(*pid, SIGSTOP);
                stopped = 1;
            }
            q += sizeof *ev + ev->len;
        }
    }
    close(in);
    ck_assert_msg(stopped, "the writer never created its temporary file");
    int st;
    ck_assert_int_eq(waitpid(*pid, &st, WUNTRACED), *pid);
    size_t len = 0;
    char *now = tu_read_file(realm_path, &len);
    int caught = WIFSTOPPED(st) && leftovers() == 1 && len == biglen && !memcmp(now, big, len);
    free(now);
    if (!caught) {
        kill(*pid, SIGKILL);
        waitpid(*pid, &st, 0);
    }
    return caught;
}

START_TEST(killed_writer_leaves_old_file)
{
    /* A realm big enough that writing it takes a few milliseconds. */
    size_t n = 150000, cap = strlen(ORIG) + n * 90 + 1, len = strlen(ORIG);
    char *big = malloc(cap);
    memcpy(big, ORIG, len + 1);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(big + len, "sha256:%064zx r user=u%zu\n", i + 1, i);
    char *c1 = make_cert("victim.pem", "/CN=Victim", NULL, "1");
    char *c2 = make_cert("next.pem", "/CN=Next", NULL, "2");
    pid_t victim = 0;
    int caught = 0;
    for (int attempt = 0; attempt < 20 && !caught; attempt++)
        caught = stop_after_tmpfile(big, len, c1, &victim);
    ck_assert_msg(caught, "could not stop the writer between its temporary file and the rename");
    /* Stopped, it holds the lock: the next writer waits. */
    pid_t next = spawn_add("next", c2);
    struct timespec ts = { 2, 0 };   /* far longer than an add of this realm takes */
    nanosleep(&ts, NULL);
    int st;
    ck_assert_int_eq(waitpid(next, &st, WNOHANG), 0);
    realm_is(big);
    /* Killed, it leaves the old realm; its lock dies with it. */
    kill(victim, SIGKILL);
    ck_assert_int_eq(waitpid(victim, &st, 0), victim);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    ck_assert_int_eq(waitpid(next, &st, 0), next);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "next add: status %d", st);
    char *fp = fingerprint(c2);
    char *want = tu_strf("%ssha256:%s r user=next\n", big, fp);
    realm_is(want);
    ck_assert_int_eq(leftovers(), 0);   /* the dead writer's file is gone */
    realm_loads();
    free(fp);
    free(want);
    free(c1);
    free(c2);
    free(big);
}
END_TEST

START_TEST(mode_and_owner_kept)
{
    ck_assert_int_eq(chmod(realm_path, 0604), 0);
    int root = geteuid() == 0;
    if (root)
        ck_assert_int_eq(chown(realm_path, 4242, 4343), 0);
    struct stat before, after;
    ck_assert_int_eq(stat(realm_path, &before), 0);
    char *out = NULL;
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r '%s'", realm_path,
                          tu_pki("client.pem")), 0);
    free(out);
    ck_assert_int_eq(stat(realm_path, &after), 0);
    ck_assert_uint_ne(after.st_ino, before.st_ino);   /* replaced, not rewritten */
    ck_assert_uint_eq(after.st_mode & 07777, 0604);
    ck_assert_uint_eq(after.st_uid, before.st_uid);
    ck_assert_uint_eq(after.st_gid, before.st_gid);
    if (root)
        ck_assert_uint_eq(after.st_uid, 4242);
    /* A new realm: the caller's, 0666 less the umask. */
    char *fresh = tu_strf("%s/fresh.realm", cr_dir);
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r '%s'", fresh,
                          tu_pki("client.pem")), 0);
    free(out);
    char *cmd = tu_strf("umask 027; '%s' realm add --realm '%s/fresh2.realm' --user crm"
                        " --roles r '%s' 2>&1", tu_build("certrole"), cr_dir, tu_pki("client.pem"));
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    free(out);
    free(cmd);
    char *fresh2 = tu_strf("%s/fresh2.realm", cr_dir);
    ck_assert_int_eq(stat(fresh2, &after), 0);
    ck_assert_uint_eq(after.st_mode & 07777, 0640);
    ck_assert_uint_eq(after.st_uid, geteuid());
    free(fresh);
    free(fresh2);
}
END_TEST

START_TEST(symlink_written_through)
{
    char *sub = tu_strf("%s/real", cr_dir), *target = tu_strf("%s/real/users.realm", cr_dir);
    char *link = tu_strf("%s/link.realm", cr_dir);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    tu_write_file(target, ORIG);
    ck_assert_int_eq(symlink("real/users.realm", link), 0);
    char *out = NULL;
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r '%s'", link,
                          tu_pki("client.pem")), 0);
    free(out);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISLNK(st.st_mode));
    char *text = tu_read_file(target, NULL);
    ck_assert_ptr_nonnull(strstr(text, " r user=crm\n"));
    free(text);
    free(sub);
    free(target);
    free(link);
}
END_TEST

START_TEST(unloadable_realm_not_touched)
{
    /* A realm the server already refuses: add does not write (it could
     * not produce a file that loads), and says why. */
    const char *bad = ORIG "sha256:1234 r user=x\n";
    tu_write_file(realm_path, bad);
    char *out = NULL;
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r '%s'", realm_path,
                          tu_pki("client.pem")), 2);
    HAS(out, "users.realm:5:");
    HAS(out, "nothing was written");
    free(out);
    realm_is(bad);
    /* A last line without its newline gets one before the new entry. */
    tu_write_file(realm_path, "# no newline at the end");
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r '%s'", realm_path,
                          tu_pki("client.pem")), 0);
    free(out);
    char *fp = fingerprint(tu_pki("client.pem"));
    char *want = tu_strf("# no newline at the end\nsha256:%s r user=crm\n", fp);
    realm_is(want);
    free(want);
    /* CR LF line ends stay CR LF. */
    tu_write_file(realm_path, "# windows\r\n");
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r '%s'", realm_path,
                          tu_pki("client.pem")), 0);
    free(out);
    want = tu_strf("# windows\r\nsha256:%s r user=crm\r\n", fp);
    realm_is(want);
    free(want);
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --user crm", realm_path), 0);
    free(out);
    realm_is("# windows\r\n");
    /* A byte order mark opening the file stays, also when the first
     * entry goes. */
    char *bom = tu_strf("\xef\xbb\xbfsha256:%s r user=crm\n# after\n", fp);
    tu_write_file(realm_path, bom);
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s' --user crm", realm_path), 0);
    free(out);
    realm_is("\xef\xbb\xbf# after\n");
    free(bom);
    free(fp);
    /* A realm path that is a directory or missing (remove) is an error. */
    ck_assert_int_eq(crun(&out, "realm add --realm '%s' --user crm --roles r '%s'", cr_dir,
                          tu_pki("client.pem")), 2);
    free(out);
    ck_assert_int_eq(crun(&out, "realm remove --realm '%s/missing.realm' --user crm", cr_dir), 2);
    free(out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("cli_realm_write");
    TCase *t = tcase_create("write");
    tcase_add_checked_fixture(t, realm_setup, realm_teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, fifty_concurrent_adds);
    tcase_add_test(t, killed_writer_leaves_old_file);
    tcase_add_test(t, mode_and_owner_kept);
    tcase_add_test(t, symlink_written_through);
    tcase_add_test(t, unloadable_realm_not_touched);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    return tu_run_suite(suite());
}
