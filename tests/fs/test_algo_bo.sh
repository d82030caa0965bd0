#!/bin/sh
# bayesianoptimization end to end: bad settings rejected at write, a seeded experiment with
# parallel trials runs to completion with distinct in-bounds trials, and an
# unmount/mount in the middle resumes the GP state.
. "$(dirname "$0")/lib.sh"
mount_fs

SETTINGS='      - {name: random_state, value: "42"}\
      - {name: acq_func, value: EI}\
      - {name: n_initial_points, value: "5"}'

mkdir "$MNT/bad" "$MNT/cma" "$MNT/resume" || fail "mkdir"
algo_expect_bad_setting bayesianoptimization '      - {name: base_estimator, value: SVM}' \
	"base_estimator SVM" "base_estimator"
algo_expect_bad_setting bayesianoptimization '      - {name: base_estimator, value: RF}\
      - {name: acq_optimizer, value: lbfgs}' \
	"base_estimator RF with acq_optimizer lbfgs" "acq_optimizer"
algo_expect_bad_setting bayesianoptimization '      - {name: acq_func, value: EIps}' \
	"acq_func EIps" "duration model"

# A whole experiment two trials at a time, then a resume across a remount.
algo_run_and_resume bayesianoptimization "$SETTINGS"
exit 0
