/*
 * test_kube_e2e.c - whole experiments on the kubernetes backend, through
 * the daemon API (katib.h), against the fake API server of tests/k8s/.
 *
 * Needs $KATIBFS_TEST_KUBECONFIG (tests/k8s/run.sh starts the server and
 * sets it); without it every test is skipped, so `make unit` passes
 * anywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "katib/katib.h"

#include "daemon_test_util.h"
#include "fixtures.h"

static const char head_fmt[] = FIXTURE_HEAD_FMT
	"  algorithm:\n"
	"    algorithmName: random\n"
	"  parallelTrialCount: %d\n"
	"  maxTrialCount: %d\n"
	"  maxFailedTrialCount: 1\n"
	"  parameters:\n"
	"    - name: lr\n"
	"      parameterType: double\n"
	"      feasibleSpace: {min: \"0.01\", max: \"0.05\"}\n"
	"  trialTemplate:\n"
	"    primaryContainerName: training-container\n"
	"    trialParameters:\n"
	"      - name: learningRate\n"
	"        description: Learning rate for the training model\n"
	"        reference: lr\n"
	"    trialSpec:\n";

/* As Katib's examples/v1beta1/hp-tuning/random.yaml, the image's
 * program replaced by a shell line. */
static const char job_fmt[] = FIXTURE_JOB
	"                image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"
	"                command:\n"
	"                  - sh\n"
	"                  - -c\n"
	"                  - \"echo start; %s echo loss=${trialParameters."
	"learningRate}\"\n"
	"                resources:\n"
	"                  limits:\n"
	"                    memory: 1Gi\n"
	"            restartPolicy: Never\n";

static const char pytorch_fmt[] =
	"      apiVersion: kubeflow.org/v1\n"
	"      kind: PyTorchJob\n"
	"      spec:\n"
	"        pytorchReplicaSpecs:\n"
	"          Master:\n"
	"            replicas: 1\n"
	"            restartPolicy: OnFailure\n"
	"            template:\n"
	"              spec:\n"
	"                containers:\n"
	"                  - name: training-container\n"
	"                    image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"
	"                    command:\n"
	"                      - sh\n"
	"                      - -c\n"
	"                      - \"echo start; %s echo loss=${trialParameters."
	"learningRate}\"\n"
	"          Worker:\n"
	"            replicas: 1\n"
	"            restartPolicy: OnFailure\n"
	"            template:\n"
	"              spec:\n"
	"                containers:\n"
	"                  - name: training-container\n"
	"                    image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"
	"                    command: [sh, -c, \"echo worker\"]\n";

/* Kubeflow Trainer's TrainJob (Katib's trainjob example, shortened): the
 * runtime makes the pods, node 0's container "node" is the primary. */
static const char trainjob_fmt[] =
	"      apiVersion: trainer.kubeflow.org/v1alpha1\n"
	"      kind: TrainJob\n"
	"      spec:\n"
	"        runtimeRef:\n"
	"          name: torch-distributed\n"
	"        trainer:\n"
	"          image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"
	"          numNodes: 1\n"
	"          command:\n"
	"            - sh\n"
	"            - -c\n"
	"            - \"echo start; %s echo loss=${trialParameters."
	"learningRate}\"\n";

/* TFJob with a Chief (the primary) and a Worker. */
static const char tfjob_fmt[] =
	"      apiVersion: kubeflow.org/v1\n"
	"      kind: TFJob\n"
	"      spec:\n"
	"        tfReplicaSpecs:\n"
	"          Chief:\n"
	"            replicas: 1\n"
	"            restartPolicy: OnFailure\n"
	"            template:\n"
	"              spec:\n"
	"                containers:\n"
	"                  - name: training-container\n"
	"                    image: docker.io/kubeflowkatib/tf-mnist\n"
	"                    command:\n"
	"                      - sh\n"
	"                      - -c\n"
	"                      - \"echo start; %s echo loss=${trialParameters."
	"learningRate}\"\n";

static int setup(void **state)
{
	struct katib_options opt = { .backend = "kubernetes" };

	opt.kubeconfig = getenv("KATIBFS_TEST_KUBECONFIG");
	*state = daemon_start("k8s", &opt);
	return 0;
}

static int teardown(void **state)
{
	daemon_stop(*state);
	return 0;
}

static int write_spec(struct katib *k, const char *name, const char *body,
		      const char *sleep, int parallel, int max)
{
	char buf[8192], tmpl[4096];
	struct kb_error err = { 0 };
	int n, rc;

	snprintf(tmpl, sizeof(tmpl), body, sleep);
	n = snprintf(buf, sizeof(buf), head_fmt, name, parallel, max);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", tmpl);
	rc = katib_write_spec(k, name, buf, (size_t)n, &err);
	if (rc) {
		char msg[600];

		kb_error_format(&err, msg, sizeof(msg));
		fail_msg("spec: %s", msg);
	}
	return rc;
}

static char *read_log(struct katib *k, const char *exp, int trial)
{
	char *buf = calloc(1, 65536);
	ssize_t n;

	assert_non_null(buf);
	n = katib_stream_read(k, exp, trial, KFILE_T_LOG, buf, 65535, 0);
	if (n < 0)
		buf[0] = '\0'; /* not started yet */
	return buf;
}

/* Wait until trial `trial` of exp has logged "start": 10 s at most, then
 * the test fails. */
static void wait_started(struct katib *k, const char *exp, int trial)
{
	char *s;
	int i, started;

	for (i = 0; i < 100; i++) {
		s = read_log(k, exp, trial);
		started = strstr(s, "start") != NULL;
		free(s);
		if (started)
			return;
		usleep(100000);
	}
	fail_msg("%s trial %d logged no \"start\" in 10 s", exp, trial);
}

static int count(const char *text, const char *needle)
{
	int n = 0;

	while ((text = strstr(text, needle))) {
		n++;
		text++;
	}
	return n;
}

static void check_done(struct katib *k, const char *exp, int ntrials)
{
	char *s, want[64], *events;
	int i;

	if (katib_wait_finished(k, exp, 90000)) {
		events = daemon_render(k, exp, 0, KFILE_STATUS);
		fail_msg("%s did not finish:\n%s", exp, events);
	}
	s = daemon_render(k, exp, 0, KFILE_STATUS);
	assert_has(s, "state=Succeeded\n");
	snprintf(want, sizeof(want), "succeeded=%d\n", ntrials);
	assert_has(s, want);
	snprintf(want, sizeof(want), "trials=%d\n", ntrials);
	assert_has(s, want);
	free(s);
	for (i = 1; i <= ntrials; i++) {
		s = daemon_render(k, exp, i, KFILE_T_STATUS);
		assert_has(s, "observations=1\n");
		free(s);
		s = read_log(k, exp, i);
		if (count(s, "start\n") != 1 || count(s, "loss=") != 1)
			fail_msg("trial %d log:\n%s", i, s);
		free(s);
		s = daemon_render(k, exp, i, KFILE_T_SPEC);
		free(s);
	}
}

static void test_job(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };

	assert_int_equal(katib_mkdir(f->k, "k8sjob", &err), 0);
	write_spec(f->k, "k8sjob", job_fmt, "", 2, 4);
	check_done(f->k, "k8sjob", 4);
}

static void test_pytorchjob(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };

	assert_int_equal(katib_mkdir(f->k, "k8spt", &err), 0);
	write_spec(f->k, "k8spt", pytorch_fmt, "", 2, 3);
	check_done(f->k, "k8spt", 3);
}

static void test_trainjob(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char buf[8192], tmpl[4096];
	int n;

	/* the primary container of a TrainJob is the runtime's "node" */
	snprintf(tmpl, sizeof(tmpl), trainjob_fmt, "");
	n = snprintf(buf, sizeof(buf), head_fmt, "k8stj", 2, 3);
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", tmpl);
	memcpy(strstr(buf, "primaryContainerName: training-container"),
	       "primaryContainerName: node              ",
	       strlen("primaryContainerName: training-container"));
	assert_int_equal(katib_mkdir(f->k, "k8stj", &err), 0);
	if (katib_write_spec(f->k, "k8stj", buf, (size_t)n, &err)) {
		char msg[600];

		kb_error_format(&err, msg, sizeof(msg));
		fail_msg("spec: %s", msg);
	}
	check_done(f->k, "k8stj", 3);
}

static void test_tfjob(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };

	assert_int_equal(katib_mkdir(f->k, "k8stf", &err), 0);
	write_spec(f->k, "k8stf", tfjob_fmt, "", 2, 2);
	check_done(f->k, "k8stf", 2);
}

/* The trialTemplate of the MPIJob and XGBoostJob tests (after the head's
 * parameters): each worker prints a loss line of its own and (MPI) runs
 * on as sshd does, so a log read from any pod but the primary one shows.
 * MPI_TRIAL: its trialParameters and the MPIJob's apiVersion, kind and
 * replicas (a Launcher, `workers` Workers). */
#define MPI_TRIAL(api_version, workers)                                        \
	"    trialParameters:\n"                                               \
	"      - name: learningRate\n"                                         \
	"        description: Learning rate for the training model\n"          \
	"        reference: lr\n"                                              \
	"    trialSpec:\n"                                                     \
	"      apiVersion: " api_version "\n"                                  \
	"      kind: MPIJob\n"                                                 \
	"      spec:\n"                                                        \
	"        slotsPerWorker: 1\n"                                          \
	"        mpiReplicaSpecs:\n"                                           \
	"          Launcher:\n"                                                \
	"            replicas: 1\n"                                            \
	"            template:\n"                                              \
	"              spec:\n"                                                \
	"                containers:\n"                                        \
	"                  - image: docker.io/kubeflow/mpi-horovod-mnist\n"    \
	"                    name: mpi-launcher\n"                             \
	"                    command: [sh, -c, \"echo start; %s echo "         \
	"loss=${trialParameters.learningRate}\"]\n"                            \
	"          Worker:\n"                                                  \
	"            replicas: " workers "\n"                                  \
	"            template:\n"                                              \
	"              spec:\n"                                                \
	"                containers:\n"                                        \
	"                  - image: docker.io/kubeflow/mpi-horovod-mnist\n"    \
	"                    name: mpi-worker\n"                               \
	"                    command: [sh, -c, \"echo loss=99; exec sleep "    \
	"600\"]\n"

/* As Katib's mpijob-horovod example (the training operator's v1). */
static const char mpijob_v1_tmpl[] =
	"  trialTemplate:\n"
	"    primaryPodLabels:\n"
	"      mpi-job-role: launcher\n"
	"    primaryContainerName: mpi-launcher\n"
	"    successCondition: status.conditions.#(type==\"Succeeded\")#|"
	"#(status==\"True\")#\n"
	"    failureCondition: status.conditions.#(type==\"Failed\")#|"
	"#(status==\"True\")#\n" MPI_TRIAL("kubeflow.org/v1", "2");

/* The MPI operator's own API (kubeflow.org/v2beta1): its launcher is
 * labelled job-role launcher; the conditions are the kind's defaults. */
static const char mpijob_v2_tmpl[] =
	"  trialTemplate:\n"
	"    primaryPodLabels:\n"
	"      training.kubeflow.org/job-role: launcher\n"
	"    primaryContainerName: mpi-launcher\n" MPI_TRIAL(
		"kubeflow.org/v2beta1", "1");

/* As Katib's xgboostjob-lightgbm example: Master (the primary, by the
 * default primaryPodLabels) and Worker, restartPolicy ExitCode. */
static const char xgboost_tmpl[] =
	"  trialTemplate:\n"
	"    primaryContainerName: xgboost\n"
	"    trialParameters:\n"
	"      - name: learningRate\n"
	"        description: Learning rate for the training model\n"
	"        reference: lr\n"
	"    trialSpec:\n"
	"      apiVersion: kubeflow.org/v1\n"
	"      kind: XGBoostJob\n"
	"      spec:\n"
	"        xgbReplicaSpecs:\n"
	"          Master:\n"
	"            replicas: 1\n"
	"            restartPolicy: ExitCode\n"
	"            template:\n"
	"              spec:\n"
	"                containers:\n"
	"                  - name: xgboost\n"
	"                    image: docker.io/kubeflow/xgboost-dist-lightgbm\n"
	"                    command: [sh, -c, \"echo start; %s echo "
	"loss=${trialParameters.learningRate}\"]\n"
	"          Worker:\n"
	"            replicas: 2\n"
	"            restartPolicy: ExitCode\n"
	"            template:\n"
	"              spec:\n"
	"                containers:\n"
	"                  - name: xgboost\n"
	"                    image: docker.io/kubeflow/xgboost-dist-lightgbm\n"
	"                    command: [sh, -c, \"echo loss=99\"]\n";

/* head_fmt's experiment with `tmpl` (a printf format of one %s, the
 * primary's shell before its loss line) as its trialTemplate. */
static void write_template(struct katib *k, const char *name, const char *tmpl,
			   const char *script, int parallel, int max)
{
	char buf[8192], *p;
	struct kb_error err = { 0 };
	int n;

	snprintf(buf, sizeof(buf), head_fmt, name, parallel, max);
	p = strstr(buf, "  trialTemplate:");
	assert_non_null(p);
	n = (int)(p - buf);
	n += snprintf(p, sizeof(buf) - (size_t)n, tmpl, script);
	assert_true(n < (int)sizeof(buf));
	assert_int_equal(katib_mkdir(k, name, &err), 0);
	if (katib_write_spec(k, name, buf, (size_t)n, &err)) {
		char msg[600];

		kb_error_format(&err, msg, sizeof(msg));
		fail_msg("spec %s: %s", name, msg);
	}
}

/* MPIJob as the training operator (v1) and the MPI operator (v2beta1)
 * serve it: the launcher, made once the workers run, is the primary. */
static void test_mpijob(void **state)
{
	struct daemon_fixture *f = *state;

	write_template(f->k, "k8smpi", mpijob_v1_tmpl, "", 2, 3);
	write_template(f->k, "k8smpi2", mpijob_v2_tmpl, "", 2, 2);
	check_done(f->k, "k8smpi", 3);
	check_done(f->k, "k8smpi2", 2);
}

static void test_xgboostjob(void **state)
{
	struct daemon_fixture *f = *state;

	write_template(f->k, "k8sxgb", xgboost_tmpl, "", 2, 3);
	check_done(f->k, "k8sxgb", 3);
}

/* One trial whose primary exits 3 after "start": it fails, and its log
 * is the primary's alone. */
static void check_primary_fails(struct daemon_fixture *f, const char *name,
				const char *tmpl)
{
	char *s;

	write_template(f->k, name, tmpl, "exit 3;", 1, 1);
	if (katib_wait_finished(f->k, name, 90000))
		fail_msg("%s did not finish", name);
	s = daemon_render(f->k, name, 1, KFILE_T_STATUS);
	assert_has(s, "state=Failed\n");
	free(s);
	s = read_log(f->k, name, 1);
	if (count(s, "start\n") != 1 || count(s, "loss=") != 0)
		fail_msg("%s trial 1 log:\n%s", name, s);
	free(s);
}

/* The primary replica fails: the operator fails the job, and the trial
 * fails by the failureCondition. */
static void test_training_job_fails(void **state)
{
	struct daemon_fixture *f = *state;

	check_primary_fails(f, "k8sxgbf", xgboost_tmpl);
	check_primary_fails(f, "k8smpif", mpijob_v1_tmpl);
}

/* The fake server's directory (its ca.crt, port, kubeconfig). */
static void server_dir(char *dir, size_t size)
{
	char *slash;

	snprintf(dir, size, "%s", getenv("KATIBFS_TEST_KUBECONFIG"));
	slash = strrchr(dir, '/');
	assert_non_null(slash);
	*slash = '\0';
}

/* Wait (30 s at most, or fail) until the fake server holds at least one
 * Job of experiment `exp` and every one has ended (status.succeeded or
 * status.failed), asking it as a client would: a list by label. The
 * faults a test run injects (5xx, 429) are retried. */
static void wait_jobs_ended(const char *exp)
{
	char cmd[2048], dir[512];

	server_dir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd),
		 "for i in $(seq 300); do "
		 "curl -sf --cacert %s/ca.crt -H 'Authorization: Bearer "
		 "katibfs-test-token' 'https://127.0.0.1:'$(cat %s/port)"
		 "'/apis/batch/v1/namespaces/default/jobs?labelSelector="
		 "katib.kubeflow.org%%2Fexperiment%%3D%s' | python3 -c '"
		 "import json, sys; j = json.load(sys.stdin)[\"items\"]; "
		 "sys.exit(not j or any(not (x.get(\"status\", {}).get("
		 "\"succeeded\") or x.get(\"status\", {}).get(\"failed\")) "
		 "for x in j))' 2>/dev/null && exit 0; sleep 0.1; done; exit 1",
		 dir, dir, exp);
	if (system(cmd) != 0)
		fail_msg("%s: its Jobs did not all end within 30 s", exp);
}

/* Close while trials run, open again: every trial ends once, its log
 * is neither cut nor doubled. */
static void test_restart(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };

	assert_int_equal(katib_mkdir(f->k, "k8sre", &err), 0);
	write_spec(f->k, "k8sre", job_fmt, "sleep 3;", 2, 4);
	wait_started(f->k, "k8sre", 1);
	katib_close(f->k);
	f->k = NULL;
	/* the trials created before the close end meanwhile: their logs are
	 * read after */
	wait_jobs_ended("k8sre");
	assert_int_equal(katib_open(&f->opt, &f->k, &err), 0);
	check_done(f->k, "k8sre", 4);
}

/* A trial killed through trials/N/control ends Killed; its object goes. */
static void test_kill(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char *s;

	assert_int_equal(katib_mkdir(f->k, "k8skill", &err), 0);
	write_spec(f->k, "k8skill", job_fmt, "sleep 30;", 1, 1);
	wait_started(f->k, "k8skill", 1);
	assert_int_equal(
		katib_write_trial_control(f->k, "k8skill", 1, "kill", 4, &err),
		0);
	assert_int_equal(katib_wait_finished(f->k, "k8skill", 60000), 0);
	s = daemon_render(f->k, "k8skill", 1, KFILE_T_STATUS);
	assert_has(s, "state=Killed\n");
	free(s);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(buf);
	assert_true(fread(buf, 1, 65535, f) > 0);
	fclose(f);
	return buf;
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A kubeconfig like the test server's, its user block replaced. */
static void kubeconfig_with_user(struct daemon_fixture *f, const char *user,
				 char *path, size_t size)
{
	char *text = slurp(getenv("KATIBFS_TEST_KUBECONFIG"));
	char *u = strstr(text, "    token: "), *end, out[16384];

	assert_non_null(u);
	end = strchr(u, '\n');
	assert_non_null(end);
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(u - text), text, user,
		 end + 1);
	snprintf(path, size, "%s/kubeconfig", f->dir);
	spit(path, out);
	free(text);
}

static void reopen_with(struct daemon_fixture *f, const char *kubeconfig)
{
	struct kb_error err = { 0 };

	katib_close(f->k);
	f->opt.kubeconfig = kubeconfig;
	assert_int_equal(katib_open(&f->opt, &f->k, &err), 0);
}

/* A token the server refuses: the trial fails and its log says why. */
static void test_unauthorized(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char path[256], *s;

	kubeconfig_with_user(f, "    token: wrong-token\n", path, sizeof(path));
	reopen_with(f, path);
	assert_int_equal(katib_mkdir(f->k, "k8s401", &err), 0);
	write_spec(f->k, "k8s401", job_fmt, "", 1, 1);
	assert_int_equal(katib_wait_finished(f->k, "k8s401", 60000), 0);
	s = daemon_render(f->k, "k8s401", 1, KFILE_T_STATUS);
	assert_has(s, "state=Failed\n");
	free(s);
	s = read_log(f->k, "k8s401", 1);
	assert_has(s, "401 Unauthorized");
	assert_has(s, "create Job k8s401-");
	free(s);
}

/* File collector: a sidecar streams the metrics file; its stream is
 * kept in the trial directory (collector.log), each line once. The fake
 * kubelet runs containers on this host without volumes, so the file is
 * one host path: one trial at a time, each removes it at its end. */
static void test_file_collector(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char head[8192], tmpl[4096], sh[1024], buf[16384], path[256], *s, *p;
	int n, i;

	snprintf(head, sizeof(head), head_fmt, "k8sfile", 1, 2);
	p = strstr(head, "  trialTemplate:");
	assert_non_null(p);
	*p = '\0';
	snprintf(sh, sizeof(sh),
		 "echo loss=9 >%s/m.log; sleep 1.5; "
		 "echo loss=${trialParameters.learningRate} >>%s/m.log; "
		 "sleep 1.5; rm %s/m.log;",
		 f->dir, f->dir, f->dir);
	snprintf(tmpl, sizeof(tmpl), job_fmt, sh);
	n = snprintf(buf, sizeof(buf),
		     "%s"
		     "  metricsCollectorSpec:\n"
		     "    collector: {kind: File}\n"
		     "    source:\n"
		     "      fileSystemPath: {path: %s/m.log, "
		     "kind: File, format: TEXT}\n"
		     "%s%s",
		     head, f->dir, strstr(head_fmt, "  trialTemplate:"), tmpl);
	assert_int_equal(katib_mkdir(f->k, "k8sfile", &err), 0);
	assert_int_equal(
		katib_write_spec(f->k, "k8sfile", buf, (size_t)n, &err), 0);
	assert_int_equal(katib_wait_finished(f->k, "k8sfile", 60000), 0);
	for (i = 1; i <= 2; i++) {
		snprintf(path, sizeof(path),
			 "%s/experiments/k8sfile/%d/collector.log", f->dir, i);
		s = slurp(path);
		if (count(s, "loss=9\n") != 1 || count(s, "loss=0.0") != 1)
			fail_msg("trial %d collector.log:\n%s", i, s);
		free(s);
		s = daemon_render(f->k, "k8sfile", i, KFILE_T_STATUS);
		assert_has(s, "state=Succeeded\n");
		assert_has(s, "observations=2\n");
		free(s);
	}
}

/* ---- every metrics collector (issue 10) ---- */

/* A Job whose primary container runs `sh -c SCRIPT` (SCRIPT: a YAML
 * single-quoted scalar's text), with a metricsCollectorSpec. */
static const char coll_job_fmt[] =
	"  metricsCollectorSpec:\n"
	"%s"
	"  trialTemplate:\n"
	"    primaryContainerName: training-container\n"
	"    trialParameters:\n"
	"      - name: learningRate\n"
	"        description: Learning rate for the training model\n"
	"        reference: lr\n"
	"    trialSpec:\n" FIXTURE_JOB
	"                image: docker.io/kubeflowkatib/pytorch-mnist-cpu\n"
	"                command: [sh, -c, '%s']\n"
	"            restartPolicy: Never\n";

/* Write an experiment of `max` trials, one at a time: rc of the write. */
static int collector_spec(struct daemon_fixture *f, const char *name, int max,
			  const char *collector, const char *script,
			  struct kb_error *err)
{
	char buf[16384], *p;
	int n;

	n = snprintf(buf, sizeof(buf), head_fmt, name, 1, max);
	p = strstr(buf, "  trialTemplate:");
	assert_non_null(p);
	n = (int)(p - buf);
	n += snprintf(p, sizeof(buf) - (size_t)n, coll_job_fmt, collector,
		      script);
	assert_int_equal(katib_mkdir(f->k, name, err), 0);
	return katib_write_spec(f->k, name, buf, (size_t)n, err);
}

static void run_collector_spec(struct daemon_fixture *f, const char *name,
			       int max, const char *collector,
			       const char *script)
{
	struct kb_error err = { 0 };
	char msg[700];

	if (collector_spec(f, name, max, collector, script, &err)) {
		kb_error_format(&err, msg, sizeof(msg));
		fail_msg("spec %s: %s", name, msg);
	}
	if (katib_wait_finished(f->k, name, 90000))
		fail_msg("%s did not finish:\n%s", name,
			 daemon_render(f->k, name, 0, KFILE_STATUS));
}

static char *read_events(struct katib *k, const char *exp)
{
	char *buf = calloc(1, 262144);
	ssize_t n;

	assert_non_null(buf);
	n = katib_stream_read(k, exp, 0, KFILE_EVENTS, buf, 262143, 0);
	if (n < 0)
		buf[0] = '\0';
	return buf;
}

static void assert_trial(struct katib *k, const char *exp, int trial,
			 const char *state, int observations)
{
	char want[64], *s = daemon_render(k, exp, trial, KFILE_T_STATUS);

	snprintf(want, sizeof(want), "state=%s\n", state);
	if (!strstr(s, want))
		fail_msg("%s trial %d: want %s in:\n%s\nevents:\n%s", exp,
			 trial, want, s, read_events(k, exp));
	snprintf(want, sizeof(want), "observations=%d\n", observations);
	if (!strstr(s, want))
		fail_msg("%s trial %d: want %s in:\n%s\nevents:\n%s", exp,
			 trial, want, s, read_events(k, exp));
	free(s);
}

/* None: nothing is collected; a trial succeeds or fails on its exit
 * status alone (its log has a line the default regex would take). */
static void test_none_collector(void **state)
{
	struct daemon_fixture *f = *state;

	run_collector_spec(
		f, "k8snone", 2, "    collector: {kind: None}\n",
		"echo start; echo loss=${trialParameters.learningRate}");
	assert_trial(f->k, "k8snone", 1, "Succeeded", 0);
	assert_trial(f->k, "k8snone", 2, "Succeeded", 0);
	run_collector_spec(f, "k8snonef", 1, "    collector: {kind: None}\n",
			   "echo loss=${trialParameters.learningRate}; exit 3");
	assert_trial(f->k, "k8snonef", 1, "Failed", 0);
}

/* Push is the local backend's: refused naming the field. */
static void test_push_refused(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };

	assert_int_equal(
		collector_spec(f, "k8spush", 1, "    collector: {kind: Push}\n",
			       "echo loss=${trialParameters.learningRate}",
			       &err),
		-EINVAL);
	assert_string_equal(err.field,
			    "spec.metricsCollectorSpec.collector.kind");
	assert_has(err.message, "collector Push is not available on the "
				"kubernetes backend; use StdOut, File, ");
	assert_has(err.message, "Custom or None (Push takes writes to "
				"trials/N/metrics, which a trial running "
				"elsewhere cannot reach)");
}

/* A Custom collector `name` that waits for the primary's <pod>.done in
 * dir, prints its <pod>.m, then runs `then` (shell); and the primary's
 * script that writes them (two loss lines) after `first`. */
static void custom_collector(char *coll, size_t csize, char *script,
			     size_t ssize, const char *name, const char *dir,
			     const char *then, const char *first)
{
	snprintf(coll, csize,
		 "    collector:\n"
		 "      kind: Custom\n"
		 "      customCollector:\n"
		 "        name: %s\n"
		 "        image: example.com/collector\n"
		 "        command: [sh, -c, 'while [ ! -f %s/$HOSTNAME.done ]; "
		 "do sleep 0.1; done; cat %s/$HOSTNAME.m%s']\n"
		 "    source:\n"
		 "      filter:\n"
		 "        metricsFormat: "
		 "['(loss)\\s*:\\s*([+-]?\\d*(\\.\\d+)?)']\n",
		 name, dir, dir, then);
	snprintf(script, ssize,
		 "%sprintf \"loss: %%s\\nloss: 0.5\\n\" "
		 "${trialParameters.learningRate} >%s/$HOSTNAME.m; "
		 "touch %s/$HOSTNAME.done",
		 first, dir, dir);
}

/* Custom: the spec's container beside the primary one; its output,
 * parsed with metricsFormat, is what counts (the trial's own log is
 * not read). A collector whose command cannot run: an events line. */
static void test_custom_collector(void **state)
{
	struct daemon_fixture *f = *state;
	char coll[2048], script[1024], *s;

	custom_collector(coll, sizeof(coll), script, sizeof(script),
			 "my-collector", f->dir, "", "echo loss=99; ");
	run_collector_spec(f, "k8scustom", 2, coll, script);
	assert_trial(f->k, "k8scustom", 1, "Succeeded", 2);
	assert_trial(f->k, "k8scustom", 2, "Succeeded", 2);

	snprintf(coll, sizeof(coll),
		 "    collector:\n"
		 "      kind: Custom\n"
		 "      customCollector:\n"
		 "        name: bad-collector\n"
		 "        image: example.com/collector\n"
		 "        command: [%s/no-such-collector]\n",
		 f->dir);
	run_collector_spec(f, "k8scbad", 1, coll,
			   "echo loss=${trialParameters.learningRate}");
	s = read_events(f->k, "k8scbad");
	assert_has(s, "trial 1: Custom collector (collector.customCollector):"
		      " container bad-collector of pod default/k8scbad-");
	assert_has(s, "could not start with exit code 128 (StartError");
	assert_has(s, "no-such-collector");
	free(s);
}

/* A Custom collector that never exits (it prints, then sleeps as a
 * server would): once the primary container has ended it has a few
 * seconds, then it is stopped with the trial's object; the trial ends on
 * the primary's exit code with what the collector printed. */
static void test_custom_collector_forever(void **state)
{
	struct daemon_fixture *f = *state;
	char coll[2048], script[1024], *s;

	custom_collector(coll, sizeof(coll), script, sizeof(script), "forever",
			 f->dir, "; exec sleep 600", "");
	run_collector_spec(f, "k8sforever", 2, coll, script);
	assert_trial(f->k, "k8sforever", 1, "Succeeded", 2);
	assert_trial(f->k, "k8sforever", 2, "Succeeded", 2);
	s = read_events(f->k, "k8sforever");
	assert_has(s, "trial 1: Custom collector (collector.customCollector):"
		      " container forever of pod default/k8sforever-");
	assert_has(s, "did not exit within 2 s of the primary container's "
		      "end and was stopped (Job k8sforever-");
	assert_has(s, "the trial ends on the primary's exit code 0, with the "
		      "observations collected");
	free(s);

	/* the primary fails: so does the trial, on its exit code */
	strcat(script, "; exit 3");
	run_collector_spec(f, "k8sforeverf", 1, coll, script);
	assert_trial(f->k, "k8sforeverf", 1, "Failed", 2);
	s = read_events(f->k, "k8sforeverf");
	assert_has(s, "the trial ends on the primary's exit code 3");
	free(s);
}

/* A free TCP port of this host (the fake kubelet's pods are processes
 * of it). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A metrics server: serves the text format on 127.0.0.1:PORT/metrics
 * until it has been scraped twice (at most 30 s), then exits. */
static const char prom_server[] =
	"import http.server, sys, threading, time\n"
	"port, v = int(sys.argv[1]), sys.argv[2]\n"
	"hits = []\n"
	"class H(http.server.BaseHTTPRequestHandler):\n"
	"    def do_GET(self):\n"
	"        if self.path != '/metrics':\n"
	"            self.send_error(404)\n"
	"            return\n"
	"        b = ('# HELP loss the loss\\n# TYPE loss gauge\\n'\n"
	"             'loss{phase=\"train\"} %s\\nother_metric 7\\n' % v)\n"
	"        b = b.encode()\n"
	"        self.send_response(200)\n"
	"        self.send_header('Content-Type', 'text/plain')\n"
	"        self.send_header('Content-Length', str(len(b)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(b)\n"
	"        hits.append(1)\n"
	"    def log_message(self, *a):\n"
	"        pass\n"
	"s = http.server.HTTPServer(('127.0.0.1', port), H)\n"
	"threading.Thread(target=s.serve_forever, daemon=True).start()\n"
	"end = time.time() + 30\n"
	"while len(hits) < 2 and time.time() < end:\n"
	"    time.sleep(0.1)\n"
	"print('served', len(hits))\n";

/* PrometheusMetric: scraped through the API server's pod proxy at
 * source.httpGet's port and path; a target that never answers: an
 * events line naming the pod, port and path. */
static void test_prometheus_collector(void **state)
{
	struct daemon_fixture *f = *state;
	char coll[512], script[1024], path[256], *s;
	int port = free_port();
	FILE *fp;

	snprintf(path, sizeof(path), "%s/serve.py", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(prom_server, fp);
	fclose(fp);
	snprintf(coll, sizeof(coll),
		 "    collector: {kind: PrometheusMetric}\n"
		 "    source:\n"
		 "      httpGet: {port: %d, path: /metrics}\n",
		 port);
	snprintf(script, sizeof(script),
		 "echo loss=99; python3 %s %d ${trialParameters.learningRate}",
		 path, port);
	run_collector_spec(f, "k8sprom", 2, coll, script);
	assert_trial(f->k, "k8sprom", 1, "Succeeded", 1);
	assert_trial(f->k, "k8sprom", 2, "Succeeded", 1);
	s = daemon_render(f->k, "k8sprom", 1, KFILE_T_OBSERVATIONS);
	assert_has(s, ",loss,0.0");
	free(s);

	snprintf(coll, sizeof(coll),
		 "    collector: {kind: PrometheusMetric}\n"
		 "    source:\n"
		 "      httpGet: {port: %d, path: /nowhere}\n",
		 port);
	run_collector_spec(
		f, "k8spnone", 1, coll,
		"echo loss=${trialParameters.learningRate}; sleep 3");
	assert_trial(f->k, "k8spnone", 1, "MetricsUnavailable", 0);
	s = read_events(f->k, "k8spnone");
	assert_has(s, "trial 1: PrometheusMetric collector: "
		      "/api/v1/namespaces/default/pods/k8spnone-");
	assert_has(s, "/proxy/nowhere (the pod's port");
	assert_has(s, "never answered");
	free(s);
}

/* TensorFlowEvent: a sidecar ships the event files' new bytes through its
 * log; katibfs mirrors them into the trial directory and reads them as
 * on the local backend: every record once (also when the log stream is
 * cut: run.sh's second pass), a corrupt one skipped with an events line.
 * The fake kubelet has no volumes: the directory is a host path, so one
 * trial. */
static void test_tfevent_collector(void **state)
{
	struct daemon_fixture *f = *state;
	const char *top = getenv("KATIBFS_TEST_TOP");
	char coll[512], script[1024], path[256], writer[512], *s;
	FILE *fp;

	snprintf(writer, sizeof(writer), "%s/tests/fs/tfevent_writer.py",
		 top ? top : ".");
	if (access(writer, R_OK))
		fail_msg("no %s (set KATIBFS_TEST_TOP)", writer);
	snprintf(path, sizeof(path), "%s/write.py", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "import os, sys, time\n"
		    "sys.path.insert(0, os.path.dirname(sys.argv[1]))\n"
		    "import tfevent_writer\n"
		    "os.makedirs(sys.argv[2] + '/train', exist_ok=True)\n"
		    "w = tfevent_writer.Writer(sys.argv[2] + "
		    "'/train/events.out.tfevents.1')\n"
		    "for i in range(5):\n"
		    "    w.scalar('loss', float(sys.argv[3]) + i, step=i)\n"
		    "    time.sleep(0.5)\n"
		    "w.scalar('loss', 42.0, step=9, corrupt=True)\n"
		    "print('wrote 6 records')\n");
	fclose(fp);
	snprintf(coll, sizeof(coll),
		 "    collector: {kind: TensorFlowEvent}\n"
		 "    source:\n"
		 "      fileSystemPath: {path: %s/tfev, kind: Directory}\n",
		 f->dir);
	snprintf(script, sizeof(script),
		 "python3 %s %s %s/tfev ${trialParameters.learningRate}", path,
		 writer, f->dir);
	run_collector_spec(f, "k8stfev", 1, coll, script);
	assert_trial(f->k, "k8stfev", 1, "Succeeded", 5);
	s = read_events(f->k, "k8stfev");
	assert_has(s, "trial 1: TensorFlowEvent collector: ");
	assert_has(s, "tfev/train/events.out.tfevents.1");
	free(s);
}

static char *b64(const char *path)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				  "opqrstuvwxyz0123456789+/";
	char *in = slurp(path), *out = calloc(1, 65536);
	size_t n = strlen(in), i, o = 0;

	assert_non_null(out);
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;

		v |= i + 1 < n ? (unsigned char)in[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)in[i + 2] : 0;
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	free(in);
	return out;
}

/* client-certificate-data/client-key-data instead of a token. */
static void test_client_cert(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char dir[512], file[600], path[256], *user, *cert, *key;

	server_dir(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/client.crt", dir);
	cert = b64(file);
	snprintf(file, sizeof(file), "%s/client.key", dir);
	key = b64(file);
	user = calloc(1, 200000);
	assert_non_null(user);
	snprintf(user, 200000,
		 "    client-certificate-data: %s\n"
		 "    client-key-data: %s\n",
		 cert, key);
	kubeconfig_with_user(f, user, path, sizeof(path));
	free(user);
	free(cert);
	free(key);
	reopen_with(f, path);
	assert_int_equal(katib_mkdir(f->k, "k8scert", &err), 0);
	write_spec(f->k, "k8scert", job_fmt, "", 1, 1);
	check_done(f->k, "k8scert", 1);
}

/* No kubeconfig anywhere: the in-cluster service account files. */
static void test_in_cluster(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char dir[512], sa[300], file[700], cmd[2048], home[300], *port;
	const char *saved_home = getenv("HOME");

	server_dir(dir, sizeof(dir));
	snprintf(sa, sizeof(sa), "%s/sa", f->dir);
	snprintf(home, sizeof(home), "%s/home", f->dir);
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %s %s && cp %s/ca.crt %s/ca.crt && "
		 "echo katibfs-test-token >%s/token && echo default "
		 ">%s/namespace",
		 sa, home, dir, sa, sa, sa);
	assert_int_equal(system(cmd), 0);
	snprintf(file, sizeof(file), "%s/port", dir);
	port = slurp(file);
	port[strcspn(port, "\n")] = '\0';
	katib_close(f->k);
	setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", port, 1);
	setenv("KATIBFS_SERVICEACCOUNT_DIR", sa, 1);
	setenv("HOME", home, 1);
	f->opt.kubeconfig = NULL;
	assert_int_equal(katib_open(&f->opt, &f->k, &err), 0);
	if (saved_home)
		setenv("HOME", saved_home, 1);
	unsetenv("KUBERNETES_SERVICE_HOST");
	free(port);
	assert_int_equal(katib_mkdir(f->k, "k8ssa", &err), 0);
	write_spec(f->k, "k8ssa", job_fmt, "", 1, 1);
	check_done(f->k, "k8ssa", 1);
}

/* restartPolicy OnFailure: the container fails once and runs again; the
 * trial's log has both instances, each once, nothing cut. */
static void test_container_restart(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char buf[16384], *s;
	int n, i;

	n = snprintf(buf, sizeof(buf), head_fmt, "k8srs", 2, 2);
	n += snprintf(
		buf + n, sizeof(buf) - (size_t)n,
		"      apiVersion: batch/v1\n"
		"      kind: Job\n"
		"      spec:\n"
		"        template:\n"
		"          spec:\n"
		"            restartPolicy: OnFailure\n"
		"            containers:\n"
		"              - name: training-container\n"
		"                image: busybox\n"
		"                command:\n"
		"                  - sh\n"
		"                  - -c\n"
		"                  - \"if [ -e %s/$HOSTNAME ]; then echo "
		"start; "
		"sleep 1; echo loss=${trialParameters.learningRate}; else "
		"touch %s/$HOSTNAME; echo first attempt; sleep 1; exit 1; "
		"fi\"\n",
		f->dir, f->dir);
	assert_int_equal(katib_mkdir(f->k, "k8srs", &err), 0);
	assert_int_equal(katib_write_spec(f->k, "k8srs", buf, (size_t)n, &err),
			 0);
	check_done(f->k, "k8srs", 2);
	for (i = 1; i <= 2; i++) {
		s = read_log(f->k, "k8srs", i);
		if (count(s, "first attempt\n") != 1)
			fail_msg("trial %d log:\n%s", i, s);
		free(s);
	}
}

/* Set faults in the fake server (POST /fake/faults). */
static void fake_fault(const char *json)
{
	char cmd[1024], dir[512];

	server_dir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd),
		 "curl -sf --cacert %s/ca.crt -H 'Authorization: Bearer "
		 "katibfs-test-token' -d '%s' "
		 "https://127.0.0.1:$(cat %s/port)/fake/faults >/dev/null",
		 dir, json, dir);
	assert_int_equal(system(cmd), 0);
}

/* RBAC says no: 403 names the verb, the resource and the rule. */
static void test_forbidden(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char *s;

	fake_fault("{\"forbidden_create\": 1}");
	assert_int_equal(katib_mkdir(f->k, "k8s403", &err), 0);
	write_spec(f->k, "k8s403", job_fmt, "", 1, 1);
	assert_int_equal(katib_wait_finished(f->k, "k8s403", 60000), 0);
	s = read_log(f->k, "k8s403", 1);
	assert_has(s, "403 Forbidden");
	assert_has(s, "cannot create resource \"jobs\" in API group "
		      "\"batch\"");
	assert_has(s, "RBAC rule {apiGroups: [\"batch\"], resources: "
		      "[\"jobs\"], verbs: [\"create\"]}");
	free(s);
}

/* The server fails every request for a while (longer than one request's
 * retries): trials wait and are created once it answers again. */
static void test_outage(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };

	fake_fault("{\"fail5xx\": 40}");
	assert_int_equal(katib_mkdir(f->k, "k8sout", &err), 0);
	write_spec(f->k, "k8sout", job_fmt, "", 2, 2);
	check_done(f->k, "k8sout", 2);
}

/* ---- trialTemplate.configMap ---- */

/* POST obj (JSON) to path of the fake server, through a file: created,
 * or there already (a test run again on the same server); the faults
 * injected (5xx, 429) are retried, 30 times at most. */
static void fake_post(const char *path, cJSON *obj)
{
	char cmd[2048], dir[512], file[600], *text;
	FILE *f;

	server_dir(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/post.json", dir);
	text = cJSON_PrintUnformatted(obj);
	assert_non_null(text);
	assert_non_null(f = fopen(file, "w"));
	fputs(text, f);
	fclose(f);
	free(text);
	snprintf(cmd, sizeof(cmd),
		 "for i in $(seq 30); do "
		 "code=$(curl -s -o /dev/null -w '%%{http_code}' --cacert "
		 "%s/ca.crt -H 'Authorization: Bearer katibfs-test-token' "
		 "-H 'Content-Type: application/json' --data-binary @%s "
		 "https://127.0.0.1:$(cat %s/port)%s); "
		 "case $code in 201|409) exit 0;; 429|5*|000) sleep 0.2;; "
		 "*) exit 1;; esac; done; exit 1",
		 dir, file, dir, path);
	assert_int_equal(system(cmd), 0);
}

/* ConfigMap `name` in namespace default, holding the Job of job_fmt
 * (unindented) under key `key`. */
static void create_configmap(const char *name, const char *key)
{
	char job[4096], flat[4096], *w = flat;
	const char *p = job;
	cJSON *cm = cJSON_CreateObject(), *md, *data;
	int sp;

	snprintf(job, sizeof(job), job_fmt, "");
	while (*p) { /* each line without the 6 spaces of nesting */
		for (sp = 0; sp < 6 && *p == ' '; sp++)
			p++;
		while (*p && *p != '\n')
			*w++ = *p++;
		if (*p)
			*w++ = *p++;
	}
	*w = '\0';
	cJSON_AddStringToObject(cm, "apiVersion", "v1");
	cJSON_AddStringToObject(cm, "kind", "ConfigMap");
	md = cJSON_AddObjectToObject(cm, "metadata");
	cJSON_AddStringToObject(md, "name", name);
	data = cJSON_AddObjectToObject(cm, "data");
	cJSON_AddStringToObject(data, key, flat);
	fake_post("/api/v1/namespaces/default/configmaps", cm);
	cJSON_Delete(cm);
}

/* head_fmt's spec with a configMap source instead of its trialSpec. */
static int configmap_spec(char *buf, size_t size, const char *exp,
			  const char *name, const char *key)
{
	int n = snprintf(buf, size, head_fmt, exp, 2, 2);

	n -= (int)strlen("    trialSpec:\n");
	n += snprintf(buf + n, size - (size_t)n,
		      "    configMap:\n"
		      "      configMapName: %s\n"
		      "      configMapNamespace: default\n"
		      "      templatePath: %s\n",
		      name, key);
	return n;
}

/* Katib's trial-configmap-source: the template read from the cluster
 * runs as an inline trialSpec would; trials/N/spec shows it rendered. */
static void test_configmap(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char buf[8192], *s;
	int n;

	create_configmap("trial-templates", "defaultTrialTemplate.yaml");
	n = configmap_spec(buf, sizeof(buf), "k8scm", "trial-templates",
			   "defaultTrialTemplate.yaml");
	assert_int_equal(katib_mkdir(f->k, "k8scm", &err), 0);
	if (katib_write_spec(f->k, "k8scm", buf, (size_t)n, &err))
		fail_msg("spec: %s: %s", err.field, err.message);
	check_done(f->k, "k8scm", 2);
	s = daemon_render(f->k, "k8scm", 1, KFILE_T_SPEC);
	assert_has(s, "\"kind\":\t\"Job\"");
	assert_has(s, "docker.io/kubeflowkatib/pytorch-mnist-cpu");
	assert_has(s, "echo start;  echo loss=0.0");
	free(s);
	s = daemon_render(f->k, "k8scm", 0, KFILE_SPEC);
	assert_has(s, "configMapName: trial-templates");
	free(s);
	/* a restart reads the ConfigMap again: the experiment is back */
	katib_close(f->k);
	f->k = NULL;
	assert_int_equal(katib_open(&f->opt, &f->k, &err), 0);
	s = daemon_render(f->k, "k8scm", 0, KFILE_STATUS);
	assert_has(s, "state=Succeeded\n");
	free(s);
}

/* No such ConfigMap, no such key, or no right to read it: the spec is
 * refused (EINVAL naming the field, an events line saying what would be
 * right), and no trial is made. */
static void configmap_refused(struct katib *k, const char *exp,
			      const char *name, const char *key,
			      const char *field, const char *why)
{
	struct kb_error err = { 0 };
	char buf[8192], *s;
	int n = configmap_spec(buf, sizeof(buf), exp, name, key);

	assert_int_equal(katib_mkdir(k, exp, &err), 0);
	kb_error_clear(&err);
	assert_int_equal(katib_write_spec(k, exp, buf, (size_t)n, &err),
			 -EINVAL);
	assert_string_equal(err.field, field);
	assert_has(err.message, why);
	s = read_events(k, exp);
	assert_has(s, "rejected spec.yaml: ");
	assert_has(s, field);
	assert_has(s, why);
	free(s);
	s = daemon_render(k, exp, 0, KFILE_STATUS);
	assert_has(s, "state=Invalid\n");
	assert_has(s, "trials=0\n");
	free(s);
}

static void test_configmap_refused(void **state)
{
	struct daemon_fixture *f = *state;

	create_configmap("templates-b", "job.yaml");
	configmap_refused(f->k, "k8scm404", "no-such-configmap", "job.yaml",
			  "spec.trialTemplate.configMap.configMapName",
			  "there is no ConfigMap no-such-configmap in "
			  "namespace default");
	configmap_refused(f->k, "k8scmkey", "templates-b", "other.yaml",
			  "spec.trialTemplate.configMap.templatePath",
			  "has no key \"other.yaml\" in its data (it has: "
			  "job.yaml)");
	fake_fault("{\"forbidden_get\": 1}");
	configmap_refused(f->k, "k8scm403", "templates-b", "job.yaml",
			  "spec.trialTemplate.configMap.configMapName",
			  "RBAC rule {apiGroups: [\"\"], resources: "
			  "[\"configmaps\"], verbs: [\"get\"]}");
}

/* The fake server's current `slow` fault (seconds), to put it back. */
static double fake_slow(void)
{
	char cmd[1024], dir[512];
	double slow = 0;
	FILE *p;

	server_dir(dir, sizeof(dir));
	snprintf(cmd, sizeof(cmd),
		 "curl -sf --cacert %s/ca.crt -H 'Authorization: Bearer "
		 "katibfs-test-token' -d '{}' "
		 "https://127.0.0.1:$(cat %s/port)/fake/faults | python3 -c "
		 "'import json,sys; print(json.load(sys.stdin).get(\"slow\") "
		 "or 0)'",
		 dir, dir);
	assert_non_null(p = popen(cmd, "r"));
	assert_int_equal(fscanf(p, "%lf", &slow), 1);
	assert_int_equal(pclose(p), 0);
	return slow;
}

struct spec_writer {
	struct katib *k;
	char text[8192];
	int len, rc;
	struct kb_error err;
};

static void *write_spec_thread(void *arg)
{
	struct spec_writer *w = arg;

	w->rc = katib_write_spec(w->k, "k8scmgone", w->text, (size_t)w->len,
				 &w->err);
	return NULL;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The API server does not answer in time (each answer 15 s late, where a
 * request may take 30 s): the write waits its bound (10 s) and fails EIO,
 * the spec not at fault, and meanwhile the daemon serves everyone else
 * (the read of a ConfigMap holds no lock). */
static void test_configmap_no_answer(void **state)
{
	struct daemon_fixture *f = *state;
	struct spec_writer w = { .k = f->k };
	double start, t, worst = 0, was;
	char put_back[64];
	pthread_t th;
	char *s;

	w.len = configmap_spec(w.text, sizeof(w.text), "k8scmgone",
			       "trial-templates", "defaultTrialTemplate.yaml");
	assert_int_equal(katib_mkdir(f->k, "k8scmgone", &w.err), 0);
	was = fake_slow();
	fake_fault("{\"slow\": 15}");
	start = now_s();
	assert_int_equal(pthread_create(&th, NULL, write_spec_thread, &w), 0);
	while (now_s() - start < 3) { /* the writer is waiting by now */
		t = now_s();
		s = daemon_render(f->k, "k8scmgone", 0, KFILE_STATUS);
		free(s);
		if (now_s() - t > worst)
			worst = now_s() - t;
		usleep(50000);
	}
	pthread_join(th, NULL);
	t = now_s() - start;
	snprintf(put_back, sizeof(put_back), "{\"slow\": %g}", was);
	fake_fault(put_back);
	if (worst > 0.5)
		fail_msg("a status read took %.1f s while the spec waited",
			 worst);
	if (t > 10 + 3)
		fail_msg("the spec write took %.1f s (bound: 10 s)", t);
	assert_int_equal(w.rc, -EIO);
	assert_string_equal(w.err.field,
			    "spec.trialTemplate.configMap.configMapName");
	if (t < 9)
		fail_msg(
			"the spec write gave up after %.1f s, before its bound",
			t);
	assert_has(w.err.message, "write the spec again once the cluster");
}

/* An exec credential plugin gives the token, run once (cached). */
static void test_exec_plugin(void **state)
{
	struct daemon_fixture *f = *state;
	struct kb_error err = { 0 };
	char path[256], plugin[256], user[1024], calls[256], *s;

	snprintf(plugin, sizeof(plugin), "%s/plugin.sh", f->dir);
	snprintf(calls, sizeof(calls), "%s/calls", f->dir);
	snprintf(user, sizeof(user),
		 "#!/bin/sh\necho x >>%s\n"
		 "[ \"$KATIB_PLUGIN_ARG\" = yes ] || exit 3\n"
		 "echo '{\"apiVersion\": \"client.authentication.k8s.io/"
		 "v1beta1\", \"kind\": \"ExecCredential\", \"status\": "
		 "{\"token\": \"katibfs-test-token\", "
		 "\"expirationTimestamp\": \"2099-01-01T00:00:00Z\"}}'\n",
		 calls);
	spit(plugin, user);
	assert_int_equal(chmod(plugin, 0755), 0);
	snprintf(user, sizeof(user),
		 "    exec:\n"
		 "      apiVersion: client.authentication.k8s.io/v1beta1\n"
		 "      command: %s\n"
		 "      env:\n"
		 "      - {name: KATIB_PLUGIN_ARG, value: \"yes\"}\n",
		 plugin);
	kubeconfig_with_user(f, user, path, sizeof(path));
	reopen_with(f, path);
	assert_int_equal(katib_mkdir(f->k, "k8sexec", &err), 0);
	write_spec(f->k, "k8sexec", job_fmt, "", 1, 2);
	check_done(f->k, "k8sexec", 2);
	s = slurp(calls);
	assert_string_equal(s, "x\n");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pytorchjob, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_trainjob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tfjob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mpijob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xgboostjob, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_training_job_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unauthorized, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_configmap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_configmap_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_configmap_no_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forbidden, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exec_plugin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_outage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_collector, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_cert, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_cluster, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_container_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_none_collector, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_push_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_custom_collector, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_custom_collector_forever,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_prometheus_collector,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tfevent_collector, setup,
						teardown),
	};

	if (getenv("KATIBFS_TEST_ONLY")) /* e.g. "test_*_collector" */
		cmocka_set_test_filter(getenv("KATIBFS_TEST_ONLY"));
	if (!getenv("KATIBFS_TEST_KUBECONFIG")) {
		printf("test_kube_e2e: skipped (no $KATIBFS_TEST_KUBECONFIG; "
		       "tests/k8s/run.sh sets it)\n");
		return 0;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
