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
 * watch(pid, callback) -> undefined
 *   Calls callback(exitCode, signalNumber) once the child has ended (one of them is -1), and reaps
 *   it. Uses pidfd_open and a uv_poll on the loop of the calling thread. Throws (with `code`) when
 *   it cannot watch.
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

typedef struct {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  pid_t pid;
  int pidfd;
} watch_t;

static void on_closed(uv_handle_t *h) {
  watch_t *w = (watch_t *)h->data;
  close(w->pidfd);
  free(w);
}

static void on_pidfd(uv_poll_t *p, int status, int events) {
  (void)events;
  watch_t *w = (watch_t *)p->data;
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int r = waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG);
  if (status == 0 && r == 0 && si.si_pid == 0) return; /* woken early: not ended yet */
  int code = -1, sig = -1;
  if (r == 0 && si.si_pid == w->pid) {
    if (si.si_code == CLD_EXITED) code = si.si_status;
    else sig = si.si_status;
  }
  uv_poll_stop(&w->poll);
  napi_env env = w->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, argv[2], ignored;
  napi_get_reference_value(env, w->callback, &cb);
  napi_get_global(env, &recv);
  napi_create_int32(env, code, &argv[0]);
  napi_create_int32(env, sig, &argv[1]);
  if (napi_make_callback(env, w->context, recv, cb, 2, argv, &ignored) == napi_pending_exception) {
    napi_value e;
    if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_fatal_exception(env, e);
  }
  napi_delete_reference(env, w->callback);
  napi_async_destroy(env, w->context);
  napi_close_handle_scope(env, scope);
  uv_close((uv_handle_t *)&w->poll, on_closed);
}

static napi_value js_watch(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  int32_t pid = 0;
  if (argc != 2 || napi_get_value_int32(env, args[0], &pid) != napi_ok || pid <= 0) {
    napi_throw_type_error(env, NULL, "paceline_spawn: watch(pid, callback)");
    return NULL;
  }
  struct uv_loop_s *loop = NULL;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
  if (fd < 0) return throw_errno(env, errno, "pidfd_open");
  watch_t *w = calloc(1, sizeof *w);
  if (w == NULL) {
    close(fd);
    return throw_errno(env, ENOMEM, "watch");
  }
  w->env = env;
  w->pid = pid;
  w->pidfd = fd;
  w->poll.data = w;
  napi_value name;
  napi_create_string_utf8(env, "paceline_spawn.watch", NAPI_AUTO_LENGTH, &name);
  if (napi_create_reference(env, args[1], 1, &w->callback) != napi_ok || napi_async_init(env, NULL, name, &w->context) != napi_ok) {
    close(fd);
    free(w);
    napi_throw_error(env, NULL, "paceline_spawn: watch set-up failed");
    return NULL;
  }
  int err = uv_poll_init(loop, &w->poll, fd);
  int started = err == 0;
  if (err == 0) err = uv_poll_start(&w->poll, UV_READABLE, on_pidfd);
  if (err != 0) {
    napi_delete_reference(env, w->callback);
    napi_async_destroy(env, w->context);
    if (started) {
      uv_close((uv_handle_t *)&w->poll, on_closed);
    } else {
      close(fd);
      free(w);
    }
    napi_throw_error(env, NULL, uv_strerror(err));
    return NULL;
  }
  return NULL;
}

/* Whether this kernel has pidfd_open (Linux 5.3 and later): without it `watch` cannot work. */
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
      {"watch", NULL, js_watch, NULL, NULL, NULL, napi_default, NULL},
      {"supported", NULL, js_supported, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, 3, props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
