/*
 * paceline_spawn: starts agent processes with posix_spawn and learns how they end through a pidfd.
 *
 * Why: node:child_process forks the whole daemon (libuv uses fork). After a fork every writable
 * page of the parent is write-protected, and the parent's next write to each one faults: for a
 * 70 MB daemon that is about 2300 page faults and 20-30 ms of CPU per agent run, most of what a
 * recurring monitor costs the node. glibc's posix_spawn uses clone(CLONE_VM | CLONE_VFORK): no page
 * table is copied and nothing is write-protected.
 *
 * spawn(file, argv, envp, cwd) -> [pid, stdinFd, stdoutFd, stderrFd]
 *   The child is the leader of a new session (as node's `detached: true`), with every signal at
 *   its default disposition and none blocked (node ignores SIGPIPE, and an ignored disposition
 *   would survive exec), its cwd set, stdin/stdout/stderr on new pipes whose other ends are
 *   returned (close-on-exec, non-blocking). Throws an Error with `code` (ENOENT, EACCES, ...) when
 *   the program cannot be started.
 * watchAll(pid, outFd, errFd, chunkBytes, drainMs, onOutput, onEnd) -> undefined
 *   Watches the child through a pidfd and reads its stdout and stderr pipes (outFd, errFd, as
 *   spawn returned them), with uv_polls on the loop of the calling thread: no Node stream, whose
 *   machinery was a third of the daemon's CPU per agent run. Each stream is read into its own
 *   buffer; whenever chunkBytes are buffered they go to onOutput(1 | 2, text) (up to the last
 *   whole UTF-8 character; the rest stays for the next chunk), so the pipe is always drained and
 *   the child never blocks on it, and memory stays bounded. When the child has ended and both
 *   pipes are at end of file, or drainMs after the end when one is still open (a grandchild holds
 *   it), onEnd(exitCode, signalNumber, stdoutText, stderrText) is called once with what is left
 *   (one of exitCode and signalNumber is -1; both when the end could not be read), after the
 *   child was reaped; then the pidfd, outFd and errFd are closed. Texts are decoded as UTF-8 with
 *   invalid bytes replaced by U+FFFD, as Node's setEncoding('utf8') does. Throws (with `code`)
 *   when it cannot watch; outFd and errFd then remain the caller's and nothing is called.
 * supported() -> boolean
 *   Whether the kernel has pidfd_open (Linux 5.3 and later); without it the module is not used.
 *
 * Built by scripts/build-native.mjs with the system compiler; process.ts falls back to
 * node:child_process when the module is absent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <node_api.h>
#include <uv.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define CHECK(call)                                                                   \
  do {                                                                                \
    if ((call) != napi_ok) {                                                          \
      napi_throw_error(env, NULL, "paceline_spawn: N-API call failed: " #call);       \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

static napi_value throw_errno(napi_env env, int err, const char *what) {
  const char *name = "EUNKNOWN";
  switch (err) {
    case ENOENT: name = "ENOENT"; break;
    case EACCES: name = "EACCES"; break;
    case ENOEXEC: name = "ENOEXEC"; break;
    case ENOTDIR: name = "ENOTDIR"; break;
    case ENOMEM: name = "ENOMEM"; break;
    case EAGAIN: name = "EAGAIN"; break;
    case EMFILE: name = "EMFILE"; break;
    case E2BIG: name = "E2BIG"; break;
    case ELOOP: name = "ELOOP"; break;
    case ENAMETOOLONG: name = "ENAMETOOLONG"; break;
    case EPERM: name = "EPERM"; break;
    case ETXTBSY: name = "ETXTBSY"; break;
    default: break;
  }
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, name, msg);
  return NULL;
}

/* A JS string as a malloc'd C string; NULL (with an exception pending) on failure. */
static char *c_string(napi_env env, napi_value v) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "paceline_spawn: expected a string");
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) return NULL;
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) {
    free(s);
    napi_throw_type_error(env, NULL, "paceline_spawn: a string holds a NUL character");
    return NULL;
  }
  return s;
}

static void free_vector(char **v) {
  if (v == NULL) return;
  for (char **p = v; *p != NULL; p++) free(*p);
  free(v);
}

/* A JS array of strings as a NULL-terminated vector; NULL (exception pending) on failure. */
static char **c_vector(napi_env env, napi_value arr) {
  uint32_t n = 0;
  if (napi_get_array_length(env, arr, &n) != napi_ok) {
    napi_throw_type_error(env, NULL, "paceline_spawn: expected an array of strings");
    return NULL;
  }
  char **v = calloc((size_t)n + 1, sizeof(char *));
  if (v == NULL) return NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value item;
    if (napi_get_element(env, arr, i, &item) != napi_ok || (v[i] = c_string(env, item)) == NULL) {
      free_vector(v);
      return NULL;
    }
  }
  return v;
}

static void close_pair(int p[2]) {
  if (p[0] >= 0) close(p[0]);
  if (p[1] >= 0) close(p[1]);
}

static napi_value js_spawn(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  if (argc != 4) {
    napi_throw_type_error(env, NULL, "paceline_spawn: spawn(file, argv, envp, cwd)");
    return NULL;
  }
  char *file = NULL, *cwd = NULL;
  char **argv = NULL, **envp = NULL;
  napi_value result = NULL;
  int pipes[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  int have_actions = 0, have_attr = 0;

  if ((file = c_string(env, args[0])) == NULL) goto out;
  if ((argv = c_vector(env, args[1])) == NULL) goto out;
  if ((envp = c_vector(env, args[2])) == NULL) goto out;
  if ((cwd = c_string(env, args[3])) == NULL) goto out;

  for (int i = 0; i < 3; i++) {
    if (pipe2(pipes[i], O_CLOEXEC) != 0) {
      throw_errno(env, errno, "pipe2");
      goto out;
    }
  }
  /* The child's ends: stdin reads pipes[0][0]; stdout and stderr write pipes[1][1], pipes[2][1]. */
  int err = posix_spawn_file_actions_init(&actions);
  if (err == 0) have_actions = 1;
  if (err == 0) err = posix_spawn_file_actions_adddup2(&actions, pipes[0][0], 0);
  if (err == 0) err = posix_spawn_file_actions_adddup2(&actions, pipes[1][1], 1);
  if (err == 0) err = posix_spawn_file_actions_adddup2(&actions, pipes[2][1], 2);
  if (err == 0) err = posix_spawn_file_actions_addchdir_np(&actions, cwd);
  if (err == 0) err = posix_spawnattr_init(&attr);
  if (err == 0) have_attr = 1;
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  if (err == 0) err = posix_spawnattr_setsigdefault(&attr, &all);
  if (err == 0) err = posix_spawnattr_setsigmask(&attr, &none);
  if (err == 0) err = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  if (err != 0) {
    throw_errno(env, err, "posix_spawn set-up");
    goto out;
  }
  pid_t pid;
  err = posix_spawn(&pid, file, &actions, &attr, argv, envp);
  if (err != 0) {
    throw_errno(env, err, file);
    goto out;
  }
  /* Ours: stdin's write end, stdout's and stderr's read ends, non-blocking for libuv. */
  int ours[3] = {pipes[0][1], pipes[1][0], pipes[2][0]};
  close(pipes[0][0]);
  close(pipes[1][1]);
  close(pipes[2][1]);
  for (int i = 0; i < 3; i++) {
    int fl = fcntl(ours[i], F_GETFL);
    if (fl >= 0) fcntl(ours[i], F_SETFL, fl | O_NONBLOCK);
    pipes[i][0] = pipes[i][1] = -1;
  }
  if (napi_create_array_with_length(env, 4, &result) == napi_ok) {
    napi_value v;
    napi_create_int32(env, pid, &v);
    napi_set_element(env, result, 0, v);
    for (int i = 0; i < 3; i++) {
      napi_create_int32(env, ours[i], &v);
      napi_set_element(env, result, (uint32_t)i + 1, v);
    }
  }
out:
  for (int i = 0; i < 3; i++) close_pair(pipes[i]);
  if (have_actions) posix_spawn_file_actions_destroy(&actions);
  if (have_attr) posix_spawnattr_destroy(&attr);
  free(file);
  free(cwd);
  free_vector(argv);
  free_vector(envp);
  return result;
}

enum { PIPE_COUNT = 2 };

typedef struct watch_all_s watch_all_t;

typedef struct {
  uv_poll_t poll;
  watch_all_t *owner;
  int fd;
  int open; /* 1 until end of file (or a read error) */
  char *buf;
  size_t len, cap;
} pipe_in_t;

struct watch_all_s {
  uv_poll_t pidfd_poll;
  uv_timer_t drain;
  pipe_in_t pipes[PIPE_COUNT];
  napi_env env;
  napi_ref on_output, on_end;
  napi_async_context context;
  pid_t pid;
  int pidfd;
  int own_fds;     /* whether closing everything also closes the pipes (not after a failed set-up) */
  size_t chunk;    /* bytes buffered per stream before they are handed to onOutput */
  uint64_t drain_ms;
  int exited, finished, code, sig;
  int handles;     /* handles still to be closed before the struct is freed */
};

/* Close callback of every handle; each handle's data is the watch_all_t by then (see wa_close). */
static void wa_release(uv_handle_t *h) {
  watch_all_t *w = (watch_all_t *)h->data;
  if (--w->handles > 0) return;
  close(w->pidfd);
  for (int i = 0; i < PIPE_COUNT; i++) {
    if (w->own_fds) close(w->pipes[i].fd);
    free(w->pipes[i].buf);
  }
  free(w);
}

static void wa_close(watch_all_t *w, uv_handle_t *h) {
  h->data = w;
  uv_close(h, wa_release);
}

static void wa_close_all(watch_all_t *w) {
  w->handles = 2 + PIPE_COUNT;
  wa_close(w, (uv_handle_t *)&w->pidfd_poll);
  wa_close(w, (uv_handle_t *)&w->drain);
  for (int i = 0; i < PIPE_COUNT; i++) wa_close(w, (uv_handle_t *)&w->pipes[i].poll);
}

/* Length of buf[0..len) without an incomplete UTF-8 sequence at its end (kept for the next chunk). */
static size_t utf8_complete(const char *buf, size_t len) {
  size_t i = len, back = 0;
  while (i > 0 && back < 4) {
    unsigned char c = (unsigned char)buf[i - 1];
    back++;
    i--;
    if ((c & 0xC0) != 0x80) {
      size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
      return need > back ? i : len;
    }
  }
  return len;
}

/* Calls a JS callback from the loop; an exception it throws goes to process 'uncaughtException'. */
static void wa_call(watch_all_t *w, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = w->env;
  napi_value cb, recv, ignored;
  napi_get_reference_value(env, ref, &cb);
  napi_get_global(env, &recv);
  if (napi_make_callback(env, w->context, recv, cb, argc, argv, &ignored) == napi_pending_exception) {
    napi_value e;
    if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_fatal_exception(env, e);
  }
}

/* Hands buf[0..n) of pipe i to onOutput(i + 1, text) and keeps the rest. */
static void wa_flush(watch_all_t *w, int i, size_t n) {
  pipe_in_t *p = &w->pipes[i];
  if (n == 0) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[2];
  napi_create_int32(env, i + 1, &argv[0]);
  napi_create_string_utf8(env, p->buf, n, &argv[1]);
  memmove(p->buf, p->buf + n, p->len - n);
  p->len -= n;
  wa_call(w, w->on_output, 2, argv);
  napi_close_handle_scope(env, scope);
}

static void wa_finish(watch_all_t *w) {
  if (w->finished) return;
  w->finished = 1;
  napi_env env = w->env;
  uv_timer_stop(&w->drain);
  uv_poll_stop(&w->pidfd_poll);
  for (int i = 0; i < PIPE_COUNT; i++) uv_poll_stop(&w->pipes[i].poll);
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[4];
  napi_create_int32(env, w->code, &argv[0]);
  napi_create_int32(env, w->sig, &argv[1]);
  for (int i = 0; i < PIPE_COUNT; i++) napi_create_string_utf8(env, w->pipes[i].buf ? w->pipes[i].buf : "", w->pipes[i].len, &argv[2 + i]);
  wa_call(w, w->on_end, 4, argv);
  napi_delete_reference(env, w->on_output);
  napi_delete_reference(env, w->on_end);
  napi_async_destroy(env, w->context);
  napi_close_handle_scope(env, scope);
  wa_close_all(w);
}

static void wa_maybe_finish(watch_all_t *w) {
  if (!w->exited) return;
  int open = 0;
  for (int i = 0; i < PIPE_COUNT; i++) open += w->pipes[i].open;
  if (open == 0) wa_finish(w);
}

static void wa_on_drain(uv_timer_t *t) {
  wa_finish((watch_all_t *)t->data);
}

static void wa_on_pipe(uv_poll_t *poll, int status, int events) {
  (void)events;
  pipe_in_t *p = (pipe_in_t *)poll->data;
  watch_all_t *w = p->owner;
  int i = (int)(p - w->pipes);
  if (w->finished || !p->open) return;
  int eof = status < 0;
  while (!eof) {
    if (p->cap - p->len < 4096 && p->cap < w->chunk + 4) {
      size_t cap = p->cap == 0 ? 4096 : p->cap * 2;
      if (cap > w->chunk + 4) cap = w->chunk + 4;
      char *b = realloc(p->buf, cap);
      if (b != NULL) {
        p->buf = b;
        p->cap = cap;
      } else if (p->len == p->cap) {
        return; /* no memory at all: retried on the next wake-up */
      } /* else: no more memory, read into what there is */
    }
    ssize_t n = read(p->fd, p->buf + p->len, p->cap - p->len);
    if (n > 0) {
      p->len += (size_t)n;
      /* Also when memory ran short below a chunk: a full buffer is handed on as it is. */
      if (p->len >= w->chunk || p->len == p->cap) {
        size_t whole = utf8_complete(p->buf, p->len);
        wa_flush(w, i, whole > 0 ? whole : p->len);
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    eof = 1; /* 0: end of file; another error: nothing more can be read either */
  }
  if (!eof) return;
  p->open = 0;
  uv_poll_stop(&p->poll);
  wa_maybe_finish(w);
}

static void wa_on_pidfd(uv_poll_t *poll, int status, int events) {
  (void)events;
  watch_all_t *w = (watch_all_t *)poll->data;
  if (w->exited) return;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG);
  if (status == 0 && r == 0 && si.si_pid == 0) return; /* woken early: not ended yet */
  if (r == 0 && si.si_pid == w->pid) {
    if (si.si_code == CLD_EXITED) w->code = si.si_status;
    else w->sig = si.si_status;
  }
  w->exited = 1;
  uv_poll_stop(&w->pidfd_poll);
  wa_maybe_finish(w);
  if (!w->finished) uv_timer_start(&w->drain, wa_on_drain, w->drain_ms, 0);
}

static napi_value js_watch_all(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value args[7];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  int32_t pid = 0, out_fd = -1, err_fd = -1, chunk = 0, drain_ms = -1;
  napi_valuetype t5 = napi_undefined, t6 = napi_undefined;
  if (argc == 7) {
    napi_typeof(env, args[5], &t5);
    napi_typeof(env, args[6], &t6);
  }
  if (argc != 7 || napi_get_value_int32(env, args[0], &pid) != napi_ok || pid <= 0 || napi_get_value_int32(env, args[1], &out_fd) != napi_ok || out_fd < 0 ||
      napi_get_value_int32(env, args[2], &err_fd) != napi_ok || err_fd < 0 || napi_get_value_int32(env, args[3], &chunk) != napi_ok || chunk < 4 ||
      napi_get_value_int32(env, args[4], &drain_ms) != napi_ok || drain_ms < 0 || t5 != napi_function || t6 != napi_function) {
    napi_throw_type_error(env, NULL, "paceline_spawn: watchAll(pid, outFd, errFd, chunkBytes >= 4, drainMs >= 0, onOutput, onEnd)");
    return NULL;
  }
  struct uv_loop_s *loop = NULL;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open");
  watch_all_t *w = calloc(1, sizeof *w);
  if (w == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "watchAll");
  }
  w->env = env;
  w->pid = pid;
  w->pidfd = fd;
  w->chunk = (size_t)chunk;
  w->drain_ms = (uint64_t)drain_ms;
  w->code = w->sig = -1;
  w->pipes[0].fd = out_fd;
  w->pipes[1].fd = err_fd;
  napi_value name;
  napi_create_string_utf8(env, "paceline_spawn.watchAll", NAPI_AUTO_LENGTH, &name);
  int refs = 0;
  if (napi_create_reference(env, args[5], 1, &w->on_output) == napi_ok) refs++;
  if (refs == 1 && napi_create_reference(env, args[6], 1, &w->on_end) == napi_ok) refs++;
  if (refs < 2 || napi_async_init(env, NULL, name, &w->context) != napi_ok) {
    if (refs > 0) napi_delete_reference(env, w->on_output);
    if (refs > 1) napi_delete_reference(env, w->on_end);
    close(fd);
    free(w);
    napi_throw_error(env, NULL, "paceline_spawn: watchAll set-up failed");
    return NULL;
  }
  /* Every handle is initialised before any is started, so a failure closes them all alike. */
  uv_timer_init(loop, &w->drain);
  w->drain.data = w;
  int err = uv_poll_init(loop, &w->pidfd_poll, fd);
  w->pidfd_poll.data = w;
  int inited = err == 0 ? 1 : 0;
  for (int i = 0; i < PIPE_COUNT && err == 0; i++) {
    w->pipes[i].owner = w;
    w->pipes[i].open = 1;
    err = uv_poll_init(loop, &w->pipes[i].poll, w->pipes[i].fd);
    w->pipes[i].poll.data = &w->pipes[i];
    if (err == 0) inited++;
  }
  if (err == 0) err = uv_poll_start(&w->pidfd_poll, UV_READABLE, wa_on_pidfd);
  for (int i = 0; i < PIPE_COUNT && err == 0; i++) err = uv_poll_start(&w->pipes[i].poll, UV_READABLE, wa_on_pipe);
  if (err != 0) {
    /* Nothing is reported; the caller still owns outFd and errFd (and kills the child). */
    napi_delete_reference(env, w->on_output);
    napi_delete_reference(env, w->on_end);
    napi_async_destroy(env, w->context);
    w->finished = 1;
    w->own_fds = 0;
    w->handles = 1 + inited;
    wa_close(w, (uv_handle_t *)&w->drain);
    if (inited > 0) wa_close(w, (uv_handle_t *)&w->pidfd_poll);
    for (int i = 0; i + 1 < inited; i++) wa_close(w, (uv_handle_t *)&w->pipes[i].poll);
    return throw_errno(env, -err, "watchAll");
  }
  w->own_fds = 1;
  return NULL;
}

/* Whether this kernel has pidfd_open (Linux 5.3 and later): without it `watchAll` cannot work. */
static napi_value js_supported(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (fd >= 0) close(fd);
  napi_value v;
  napi_get_boolean(env, fd >= 0, &v);
  return v;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"spawn", NULL, js_spawn, NULL, NULL, NULL, napi_default, NULL},
      {"watchAll", NULL, js_watch_all, NULL, NULL, NULL, napi_default, NULL},
      {"supported", NULL, js_supported, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
