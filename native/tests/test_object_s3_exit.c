/*
 * test_object_s3_exit.c - a process may exit while threads still sign S3 requests: a JVM calls
 * exit() with a volume open (FileContext never closes its AbstractFileSystem; Hive on Tez did,
 * tests/engines/hive.sh), and its workers keep uploading and deleting blocks meanwhile. OpenSSL
 * frees its global state in an atexit handler unless told not to (s3.c asks it not to when the
 * library loads); a signature made after that handler ran crashed in libcrypto (SIGSEGV in
 * pthread_rwlock_rdlock). Here two threads sign in a loop while the main thread exits, and an
 * atexit handler registered before OpenSSL is first used (so it runs after OpenSSL's would)
 * lets them go on for 300 ms: every signature must succeed, and the process must end with 0.
 * No server needed (the AWS example request of test_object_s3.c).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws_sigv4_example.h"
#include "testutil.h"

static atomic_long signed_after_exit;
static atomic_int failed;
static atomic_int exiting;

static int sign_once(void)
{
	char auth[512];
	if (sl_s3_sign(&aws_example_request, auth, sizeof(auth)))
		return -1;
	return strcmp(auth, AWS_EXAMPLE_AUTHORIZATION) ? -1 : 0;
}

static void *signer(void *arg)
{
	(void)arg;
	for (;;) {
		if (sign_once())
			atomic_store(&failed, 1);
		else if (atomic_load(&exiting))
			atomic_fetch_add(&signed_after_exit, 1);
	}
	return NULL;
}

/* Registered first, so it runs last among the handlers: after OpenSSL's, had it registered one. */
static void linger(void)
{
	atomic_store(&exiting, 1);
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	long n = atomic_load(&signed_after_exit);
	if (atomic_load(&failed) || n == 0) {
		fprintf(stderr, "signing while the process exits: %s, %ld signatures after exit()\n",
			atomic_load(&failed) ? "failed" : "ok", n);
		_exit(1);
	}
	fprintf(stderr, "%ld signatures while the process exited\n", n);
}

int main(void)
{
	REQUIRE(atexit(linger) == 0);
	REQUIRE(sign_once() == 0); /* OpenSSL's first use */
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		REQUIRE(pthread_create(&t[i], NULL, signer, NULL) == 0);
	struct timespec ts = {0, 50 * 1000 * 1000};
	nanosleep(&ts, NULL);
	CHECK(!atomic_load(&failed));
	exit(tu_failures ? 1 : 0);
}
