/*
 * paceline_timer: one libuv timer per object, which can be moved later without waking the loop.
 *
 * Why: Node's setTimeout keeps one libuv timer for all of a thread's timeouts, armed for the
 * earliest. clearTimeout and a new, later setTimeout from an I/O callback (a heartbeat received)
 * leave it armed for the old, earlier time: the thread wakes then for nothing, and only that wake
 * arms it for the new time (Node re-arms it at the end of its timer callback only). An idle node
 * moves its timer later on every heartbeat it receives (a peer's warn time goes back by an
 * interval), so with setTimeout it woke up once more per heartbeat interval than needed: a third
 * of an idle node's wake-ups on this kind of machine, where each costs 100-300 us of cold caches.
 * uv_timer_start on an active handle takes it out of the loop's timer heap and puts it back at
 * the new time, and the loop's next poll waits for whatever is earliest then.
 *
 * create(callback) -> handle
 *   A stopped timer on the calling thread's loop. It does not keep the loop alive while stopped;
 *   while started it does (as a pending setTimeout does).
 * start(handle, ms)
 *   (Re)arms the timer to call callback() once, ms milliseconds from the loop's current time
 *   (updated first, so a delay computed from performance.now() is not shortened by the time the
 *   current callback has run). Moving it later or earlier costs no wake-up.
 * stop(handle)
 *   Disarms it; start() may arm it again.
 * close(handle)
 *   Disarms it for good and releases it; the handle must not be used again. Calling it twice
 *   does nothing.
 *
 * An exception thrown by callback goes to process 'uncaughtException', as from a setTimeout.
 * A timer still open when its thread's environment goes away (a worker terminated) is closed by
 * an async cleanup hook: Node aborts a worker whose loop still holds a handle at its end.
 * Built by packages/executor/scripts/build-native.mjs; the driver falls back to setTimeout when
 * the module is absent.
 */
#define NAPI_VERSION 8
#include <stdint.h>
#include <stdlib.h>

#include <node_api.h>
#include <uv.h>

typedef struct {
  uv_timer_t timer;
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  napi_async_cleanup_hook_handle cleanup; /* NULL once removed */
  int closed;
} paceline_timer_t;

#define CHECK(call)                                                                   \
  do {                                                                                \
    if ((call) != napi_ok) {                                                          \
      napi_throw_error(env, NULL, "paceline_timer: N-API call failed: " #call);       \
      return NULL;                                                                    \
    }                                                                                 \
  } while (0)

static void on_fire(uv_timer_t *handle) {
  paceline_timer_t *t = (paceline_timer_t *)handle->data;
  napi_env env = t->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, ignored;
  if (napi_get_reference_value(env, t->callback, &cb) == napi_ok && napi_get_global(env, &recv) == napi_ok) {
    if (napi_make_callback(env, t->context, recv, cb, 0, NULL, &ignored) == napi_pending_exception) {
      napi_value e;
      if (napi_get_and_clear_last_exception(env, &e) == napi_ok) napi_fatal_exception(env, e);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_closed(uv_handle_t *handle) {
  paceline_timer_t *t = (paceline_timer_t *)handle->data;
  if (t->cleanup != NULL) napi_remove_async_cleanup_hook(t->cleanup);
  free(t);
}

/* The environment is going away with the timer still open: close the handle, nothing else (no JS). */
static void on_env_cleanup(napi_async_cleanup_hook_handle handle, void *arg) {
  (void)handle;
  paceline_timer_t *t = (paceline_timer_t *)arg;
  /* Closed already: its close callback, still to come, removes this hook. */
  if (t->closed) return;
  t->closed = 1;
  uv_timer_stop(&t->timer);
  uv_close((uv_handle_t *)&t->timer, on_closed);
}

/* The timer behind a handle (an External), or NULL with a TypeError thrown. */
static paceline_timer_t *timer_arg(napi_env env, napi_callback_info info, size_t want, napi_value *args) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, args, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "paceline_timer: missing argument");
    return NULL;
  }
  void *data = NULL;
  if (napi_get_value_external(env, args[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "paceline_timer: not a timer handle");
    return NULL;
  }
  paceline_timer_t *t = (paceline_timer_t *)data;
  if (t->closed) {
    napi_throw_error(env, NULL, "paceline_timer: timer is closed");
    return NULL;
  }
  return t;
}

static napi_value js_create(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  napi_valuetype type;
  if (argc < 1 || napi_typeof(env, args[0], &type) != napi_ok || type != napi_function) {
    napi_throw_type_error(env, NULL, "paceline_timer: create(callback) needs a function");
    return NULL;
  }
  uv_loop_t *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  paceline_timer_t *t = calloc(1, sizeof *t);
  if (t == NULL) {
    napi_throw_error(env, NULL, "paceline_timer: out of memory");
    return NULL;
  }
  t->env = env;
  napi_value name;
  if (napi_create_string_utf8(env, "paceline:timer", NAPI_AUTO_LENGTH, &name) != napi_ok || napi_create_reference(env, args[0], 1, &t->callback) != napi_ok) {
    free(t);
    napi_throw_error(env, NULL, "paceline_timer: cannot keep the callback");
    return NULL;
  }
  if (napi_async_init(env, NULL, name, &t->context) != napi_ok) {
    napi_delete_reference(env, t->callback);
    free(t);
    napi_throw_error(env, NULL, "paceline_timer: cannot create an async context");
    return NULL;
  }
  uv_timer_init(loop, &t->timer);
  t->timer.data = t;
  if (napi_add_async_cleanup_hook(env, on_env_cleanup, t, &t->cleanup) != napi_ok) t->cleanup = NULL;
  napi_value handle;
  /* No finalizer: the memory belongs to the loop until close() (the handle may outlive the External). */
  CHECK(napi_create_external(env, t, NULL, NULL, &handle));
  return handle;
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  napi_value args[2];
  paceline_timer_t *t = timer_arg(env, info, 2, args);
  if (t == NULL) return NULL;
  double ms;
  if (napi_get_value_double(env, args[1], &ms) != napi_ok || !(ms >= 0)) {
    napi_throw_range_error(env, NULL, "paceline_timer: start(handle, ms) needs ms >= 0");
    return NULL;
  }
  if (ms > 86400000.0) ms = 86400000.0;
  uv_update_time(t->timer.loop);
  uv_timer_start(&t->timer, on_fire, (uint64_t)ms, 0);
  return NULL;
}

static napi_value js_stop(napi_env env, napi_callback_info info) {
  napi_value args[1];
  paceline_timer_t *t = timer_arg(env, info, 1, args);
  if (t == NULL) return NULL;
  uv_timer_stop(&t->timer);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  CHECK(napi_get_cb_info(env, info, &argc, args, NULL, NULL));
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, args[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, "paceline_timer: not a timer handle");
    return NULL;
  }
  paceline_timer_t *t = (paceline_timer_t *)data;
  if (t->closed) return NULL;
  t->closed = 1;
  uv_timer_stop(&t->timer);
  napi_delete_reference(env, t->callback);
  napi_async_destroy(env, t->context);
  uv_close((uv_handle_t *)&t->timer, on_closed);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"create", NULL, js_create, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
