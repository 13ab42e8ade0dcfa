#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "drivers/error.h"
#include "drivers/dnsmasq.h"
#include "drivers/files.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

#define fail nc_drv_fail

static void
path_of(char *out, size_t outsz, const char *dir, const char *bridge, const char *ext)
{
    snprintf(out, outsz, "%s/%s.%s", dir, bridge, ext);
}

/* The pid of the dnsmasq that pid file @pidfile names, when that process
 * is a dnsmasq started with this pid file (not a reused pid); else 0. */
static pid_t
running_pid(const char *pidfile)
{
    char buf[4096], want[600], proc[64];
    FILE *f = fopen(pidfile, "re");
    long pid = 0;
    ssize_t n;
    int fd;

    if (!f)
        return 0;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
        pid = 0;
    fclose(f);
    if (!pid)
        return 0;
    snprintf(proc, sizeof(proc), "/proc/%ld/cmdline", pid);
    if ((fd = open(proc, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    snprintf(want, sizeof(want), "--pid-file=%s", pidfile);
    if (strcmp(buf, DNSMASQ) != 0)
        return 0;
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
        if (strcmp(buf + i, want) == 0)
            return (pid_t)pid;
    return 0;
}

/* Writes @text to @path through a temporary file and a rename, unless
 * @path holds it already. 1 when written, 0 when unchanged. */
static int
write_if_changed(const char *path, const char *text)
{
    size_t len = strlen(text);
    char tmp[600], *old = malloc(len + 2);
    FILE *f = fopen(path, "re");
    size_t n = 0;

    if (f && old) {
        n = fread(old, 1, len + 1, f);
        if (n == len && memcmp(old, text, len) == 0) {
            fclose(f);
            free(old);
            return 0;
        }
    }
    if (f)
        fclose(f);
    free(old);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    if (!(f = fopen(tmp, "we")))
        return fail(-errno, "create %s: %s", tmp, strerror(errno));
    if (fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        unlink(tmp);
        return fail(-EIO, "write %s", tmp);
    }
    /* dnsmasq reads it after giving up root. */
    if (chmod(tmp, 0644) < 0 || rename(tmp, path) < 0) {
        int err = errno;

        unlink(tmp);
        return fail(-err, "install %s: %s", path, strerror(err));
    }
    return 1;
}

/*
 * Starts dnsmasq in the node's namespace. It daemonizes once it has bound
 * its sockets, so the process forked here exits with dnsmasq's verdict on
 * its start, and what it printed explains a failure.
 */
static int
start(const struct nc_dnsmasq *d, const char *pidfile, const char *hostsfile, const char *optsfile)
{
    char a_pid[600], a_hosts[600], a_opts[600], a_leases[600], a_log[600], a_iface[64],
        a_range[96], nspath[300], out[400] = "";
    char *argv[] = {
        DNSMASQ, a_pid, "--conf-file=/dev/null", "--port=0", "--bind-dynamic", a_iface,
        "--except-interface=lo", a_range, a_hosts, a_opts, a_leases, "--dhcp-authoritative",
        "--dhcp-option=option:dns-server", a_log, NULL,
    };
    int nsfd = -1, pipefd[2], status;
    pid_t pid;
    ssize_t n;

    snprintf(a_pid, sizeof(a_pid), "--pid-file=%s", pidfile);
    snprintf(a_hosts, sizeof(a_hosts), "--dhcp-hostsfile=%s", hostsfile);
    snprintf(a_opts, sizeof(a_opts), "--dhcp-optsfile=%s", optsfile);
    snprintf(a_leases, sizeof(a_leases), "--dhcp-leasefile=%s/%s.leases", d->dir, d->bridge);
    snprintf(a_log, sizeof(a_log), "--log-facility=%s/%s.log", d->dir, d->bridge);
    snprintf(a_iface, sizeof(a_iface), "--interface=%s", d->bridge);
    snprintf(a_range, sizeof(a_range), "--dhcp-range=%s,static,%s,1h", d->network, d->netmask);
    if (d->netns) {
        snprintf(nspath, sizeof(nspath), "/run/netns/%s", d->netns);
        if ((nsfd = open(nspath, O_RDONLY | O_CLOEXEC)) < 0)
            return fail(-errno, "open network namespace %s: %s", d->netns, strerror(errno));
    }
    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        int err = errno;

        if (nsfd >= 0)
            close(nsfd);
        return fail(-err, "pipe: %s", strerror(err));
    }
    pid = fork();
    if (pid == 0) {
        /* Only async-signal-safe calls from here: other threads hold locks. */
        dup2(pipefd[1], STDERR_FILENO);
        dup2(pipefd[1], STDOUT_FILENO);
        if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) < 0)
            _exit(126);
        execv(DNSMASQ, argv);
        _exit(127);
    }
    close(pipefd[1]);
    if (nsfd >= 0)
        close(nsfd);
    if (pid < 0) {
        int err = errno;

        close(pipefd[0]);
        return fail(-err, "fork: %s", strerror(err));
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    /* The daemon closed its copy of the pipe; what is there was said at start. */
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    n = read(pipefd[0], out, sizeof(out) - 1);
    close(pipefd[0]);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fail(-EIO, "dnsmasq on %s did not start (status %d): %s", d->bridge,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                    out[0] ? out : WIFEXITED(status) && WEXITSTATUS(status) == 126
                                   ? "cannot enter the network namespace"
                                   : "no message");
    return 0;
}

static int
ensure(struct nc_dhcp *dhcp, const struct nc_dnsmasq *d, bool *ret_changed)
{
    char pidfile[512], hostsfile[512], optsfile[512], *text;
    size_t len = 0;
    pid_t pid;
    int r;

    (void)dhcp;
    *ret_changed = false;
    if ((r = nc_mkdir_p(d->dir)) < 0)
        return r;
    if (!(text = malloc(d->n_hosts * 40 + 1)))
        return fail(-ENOMEM, "out of memory");
    text[0] = '\0';
    for (size_t i = 0; i < d->n_hosts; i++)
        len += (size_t)sprintf(text + len, "%s,%s\n", d->hosts[i].mac, d->hosts[i].ip);
    path_of(pidfile, sizeof(pidfile), d->dir, d->bridge, "pid");
    path_of(hostsfile, sizeof(hostsfile), d->dir, d->bridge, "hosts");
    path_of(optsfile, sizeof(optsfile), d->dir, d->bridge, "opts");
    r = write_if_changed(hostsfile, text);
    free(text);
    if (r < 0)
        return r;
    *ret_changed = r > 0;
    /* No gateway unless the Network has one: an empty router option
     * (dnsmasq offers its own address by default). SIGHUP re-reads it. */
    if ((r = write_if_changed(optsfile, d->router ? "" : "option:router\n")) < 0)
        return r;
    pid = running_pid(pidfile);
    if (!pid)
        return start(d, pidfile, hostsfile, optsfile);
    if ((r > 0 || *ret_changed) && kill(pid, SIGHUP) < 0)
        return fail(-errno, "signal dnsmasq %ld: %s", (long)pid, strerror(errno));
    return 0;
}

static int
stop(struct nc_dhcp *dhcp, const char *dir, const char *bridge)
{
    static const char *const exts[] = {"pid", "hosts", "opts", "leases", "log"};
    char path[512];
    pid_t pid;

    (void)dhcp;
    path_of(path, sizeof(path), dir, bridge, "pid");
    pid = running_pid(path);
    if (pid > 0) {
        struct timespec tick = {0, 10 * 1000 * 1000};

        if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
            return fail(-errno, "stop dnsmasq %ld: %s", (long)pid, strerror(errno));
        /* Not our child (it daemonized): watch it go by its pid file's check. */
        for (int i = 0; i < 500 && running_pid(path) == pid; i++)
            nanosleep(&tick, NULL);
        if (running_pid(path) == pid)
            return fail(-EBUSY, "dnsmasq %ld did not stop", (long)pid);
    }
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
        path_of(path, sizeof(path), dir, bridge, exts[i]);
        if (unlink(path) < 0 && errno != ENOENT)
            return fail(-errno, "remove %s: %s", path, strerror(errno));
    }
    return 0;
}

static const struct nc_dhcp_ops dnsmasq_ops = {
    .ensure = ensure,
    .stop = stop,
};

struct nc_dhcp nc_dnsmasq = {.ops = &dnsmasq_ops};
