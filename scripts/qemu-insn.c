/*
 * qemu-insn.c: a qemu TCG plugin (plugin API version 1, as in Debian 12's
 * qemu-user 7.2) that counts the guest instructions a program executes.
 * scripts/bench-insn.sh builds and loads it.
 *
 * Arguments: out=FILE appends "<CLOCK_MONOTONIC seconds> <instructions>"
 * to FILE every second and at exit (without out=, only at exit, to
 * stderr). Under qemu-user only the program's own instructions count, not
 * the host kernel's work for its system calls; under qemu-system every
 * guest instruction counts (an idle CPU executes none).
 *
 * The declarations below are the few the plugin uses, written from the
 * API's documentation (include/qemu/qemu-plugin.h), so that it builds
 * without qemu's sources.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct {
	const char *target_name;
	struct {
		int min, cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus, max_vcpus;
		} system;
	};
} qemu_info_t;
struct qemu_plugin_tb;

__attribute__((visibility("default"))) int qemu_plugin_version = 1;
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t, void (*)(qemu_plugin_id_t, struct qemu_plugin_tb *));
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *, void (*)(unsigned int, void *), int, void *);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t, void (*)(qemu_plugin_id_t, void *), void *);

static uint64_t count;
static const char *out;

/* A callback with an atomic add, not an inline add: the program's threads
 * run on host threads at once, and an inline add loses counts. */
static void executed(unsigned int vcpu, void *n)
{
	__atomic_fetch_add(&count, (uint64_t)(uintptr_t)n, __ATOMIC_RELAXED);
}

static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	qemu_plugin_register_vcpu_tb_exec_cb(tb, executed, 0, (void *)(uintptr_t)qemu_plugin_tb_n_insns(tb));
}

static void dump(void)
{
	struct timespec ts;
	FILE *f = out ? fopen(out, "a") : stderr;
	if (!f)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	fprintf(f, "%ld.%09ld %llu\n", (long)ts.tv_sec, ts.tv_nsec,
		(unsigned long long)__atomic_load_n(&count, __ATOMIC_RELAXED));
	if (out)
		fclose(f);
}

static void at_exit(qemu_plugin_id_t id, void *p) { dump(); }

static void *ticker(void *p)
{
	for (;;) {
		sleep(1);
		dump();
	}
	return NULL;
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	pthread_t t;
	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], "out=", 4) == 0)
			out = argv[i] + 4;
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	if (out && pthread_create(&t, NULL, ticker, NULL) == 0)
		pthread_detach(t);
	return 0;
}
