/*
 * Runs a ClickHouse server for the tests from the chDB library Vigil already installs.
 *
 *   clickhouse-launcher <path to libchdb.so> [clickhouse-local arguments...]
 *
 * chDB exports chdb_query_cmdline(argc, argv), which runs clickhouse-local with these
 * arguments; with --http_port, --tcp_port and a query that starts the listeners and
 * then blocks, that is a ClickHouse server (see test/support/clickhouse-server.ts).
 * It is called from this small program rather than through an FFI from Node, because
 * in Node's main thread the engine's stack checks fail (TOO_DEEP_RECURSION or a crash).
 */
#include <dlfcn.h>
#include <stdio.h>

typedef void *(*query_cmdline_fn)(int, char **);
typedef const char *(*result_error_fn)(void *);

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <libchdb.so> [clickhouse-local arguments...]\n", argv[0]);
    return 2;
  }
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
  if (lib == NULL) {
    fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
    return 2;
  }
  query_cmdline_fn query_cmdline = (query_cmdline_fn)dlsym(lib, "chdb_query_cmdline");
  result_error_fn result_error = (result_error_fn)dlsym(lib, "chdb_result_error");
  if (query_cmdline == NULL || result_error == NULL) {
    fprintf(stderr, "%s is not a chDB library (no chdb_query_cmdline)\n", argv[1]);
    return 2;
  }
  argv[1] = "clickhouse"; /* the program name clickhouse-local expects in argv[0] */
  void *result = query_cmdline(argc - 1, argv + 1);
  const char *error = result == NULL ? "chdb_query_cmdline returned nothing" : result_error(result);
  if (error != NULL && error[0] != '\0') {
    fprintf(stderr, "%s\n", error);
    return 1;
  }
  return 0;
}
