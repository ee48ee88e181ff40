/* Request-path canonicalisation: the one place a request target becomes
 * the path the rules judge.
 *
 * The target is decoded exactly once (or not at all when the server
 * already did), then split on '/', "." and ".." resolved and empty
 * segments merged, as nginx does with merge_slashes on. Whatever a
 * backend could read two ways is refused rather than guessed at: an
 * encoded '/', '\', '%', '?', '#' or ';', a raw '\', NUL and control
 * characters, bytes that are not well-formed UTF-8 (overlongs and
 * surrogates included), ".." above the root, and path parameters
 * (';' in a segment) unless the policy says the backend strips them.
 * Thread-safe; no state. */
#ifndef CR_PATH_H
#define CR_PATH_H

enum cr_path_form {
    CR_PATH_RAW = 0,       /* as received: percent-decoded here, once */
    CR_PATH_DECODED = 1    /* already decoded once: never decoded again */
};

enum cr_path_params {
    CR_PATH_PARAMS_REFUSE = 0,   /* ';' in a segment: refused (default) */
    CR_PATH_PARAMS_STRIP = 1     /* ";..." cut from each raw segment */
};

struct cr_path_mode {
    enum cr_path_params params;
    int fold_case;               /* option path-case=insensitive */
};

/* Canonical path of a request target (malloc'd into *out), or -1 when
 * it must be refused (*out NULL, *why a static one-line reason; "out of
 * memory" is the only reason that is not about the target). A RAW
 * target may carry a query and fragment, which are cut off first. */
int cr_path_canon(const char *target, enum cr_path_form form,
                  const struct cr_path_mode *mode, char **out, const char **why);

/* cr_path_canon of a RAW target with the default mode. */
int cr_path_normalize(const char *path, char **out, const char **why);
#endif
