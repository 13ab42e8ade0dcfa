/* One line per event: time, level, key, message. */
#ifndef NC_LOG_H
#define NC_LOG_H

enum nc_log_level {
    NC_LOG_DEBUG,
    NC_LOG_INFO,
    NC_LOG_WARN,
    NC_LOG_ERROR,
    NC_LOG_INVALID,
};

/* Parses "debug", "info", "warn" or "error"; NC_LOG_INVALID otherwise. */
enum nc_log_level nc_log_level_parse(const char *s);
void nc_log_set_level(enum nc_log_level level);

/*
 * Logs one line. @key names the object the line is about (may be NULL).
 * Every byte that is not printable ASCII, in the key and in the formatted
 * message, is written as \xNN, so text that came from an etcd document can
 * neither forge a second line nor smuggle terminal escapes.
 */
void nc_log(enum nc_log_level level, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define nc_debug(key, ...) nc_log(NC_LOG_DEBUG, key, __VA_ARGS__)
#define nc_info(key, ...) nc_log(NC_LOG_INFO, key, __VA_ARGS__)
#define nc_warn(key, ...) nc_log(NC_LOG_WARN, key, __VA_ARGS__)
#define nc_error(key, ...) nc_log(NC_LOG_ERROR, key, __VA_ARGS__)

/*
 * Copies @in to @out (size @outsz, always NUL-terminated), escaping every
 * byte outside printable ASCII as \xNN and backslash as \\. Returns @out.
 */
char *nc_log_escape(const char *in, char *out, size_t outsz);

#endif
