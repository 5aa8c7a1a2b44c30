// The native baseline of bench/attach-scale.ts: a minimal Node-API addon that calls shmat(2) and shmdt(2)
// directly, with nothing else around them (no size lookup, no madvise, no bookkeeping). Built with node-gyp at
// bench time into .cache/attach-scale/ (see binding.gyp); not part of the library.
//
//   attach(shmid)                -> address (a Number: user-space addresses fit in 53 bits)
//   detach(address)              -> undefined
//   attachBuffer(shmid, length)  -> an external ArrayBuffer of `length` bytes over the new mapping
//   detachBuffer(arrayBuffer)    -> detaches the ArrayBuffer (its views become empty), then shmdt
//
// attach/detach is the plain cycle, what a C program does. attachBuffer/detachBuffer is the same cycle with the
// one thing JavaScript needs to touch the memory: an ArrayBuffer over it, made with
// napi_create_external_arraybuffer (what koffi.view does too), and detached before the unmap so that no view
// can reach the unmapped range afterwards.
#define NAPI_VERSION 8
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/shm.h>
#include <node_api.h>

static napi_value fail(napi_env env, const char *call, int error) {
  char message[160];
  snprintf(message, sizeof message, "%s failed: %s", call, strerror(error));
  napi_throw_error(env, error == EINVAL ? "EINVAL" : NULL, message);
  return NULL;
}

static int args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return 0;
  }
  return 1;
}

static napi_value attach(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int32_t shmid;
  if (!args(env, info, 1, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &shmid) != napi_ok) return fail(env, "attach(shmid)", EINVAL);
  void *address = shmat(shmid, NULL, 0);
  if (address == (void *)-1) return fail(env, "shmat", errno);
  napi_value result;
  napi_create_double(env, (double)(uintptr_t)address, &result);
  return result;
}

static napi_value detach(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  double address;
  if (!args(env, info, 1, argv)) return NULL;
  if (napi_get_value_double(env, argv[0], &address) != napi_ok) return fail(env, "detach(address)", EINVAL);
  if (shmdt((void *)(uintptr_t)address) != 0) return fail(env, "shmdt", errno);
  return NULL;
}

static napi_value attach_buffer(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t shmid;
  int64_t length;
  if (!args(env, info, 2, argv)) return NULL;
  if (napi_get_value_int32(env, argv[0], &shmid) != napi_ok || napi_get_value_int64(env, argv[1], &length) != napi_ok || length <= 0) {
    return fail(env, "attachBuffer(shmid, length)", EINVAL);
  }
  void *address = shmat(shmid, NULL, 0);
  if (address == (void *)-1) return fail(env, "shmat", errno);
  napi_value buffer;
  if (napi_create_external_arraybuffer(env, address, (size_t)length, NULL, NULL, &buffer) != napi_ok) {
    shmdt(address);
    return fail(env, "napi_create_external_arraybuffer", ENOTSUP);
  }
  return buffer;
}

static napi_value detach_buffer(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  void *address = NULL;
  size_t length = 0;
  if (!args(env, info, 1, argv)) return NULL;
  if (napi_get_arraybuffer_info(env, argv[0], &address, &length) != napi_ok || address == NULL) {
    return fail(env, "detachBuffer(arrayBuffer)", EINVAL);
  }
  if (napi_detach_arraybuffer(env, argv[0]) != napi_ok) return fail(env, "napi_detach_arraybuffer", EINVAL);
  if (shmdt(address) != 0) return fail(env, "shmdt", errno);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"attach", NULL, attach, NULL, NULL, NULL, napi_default, NULL},
      {"detach", NULL, detach, NULL, NULL, NULL, napi_default, NULL},
      {"attachBuffer", NULL, attach_buffer, NULL, NULL, NULL, napi_default, NULL},
      {"detachBuffer", NULL, detach_buffer, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
