#!/bin/sh
# cmaes end to end: bad settings rejected at write, a seeded experiment with
# parallel trials runs to completion with distinct in-bounds trials, and an
# unmount/mount in the middle resumes the CMA-ES state.
. "$(dirname "$0")/lib.sh"
mount_fs

SETTINGS='      - {name: random_state, value: "42"}\
      - {name: restart_strategy, value: ipop}\
      - {name: sigma, value: "0.3"}'

mkdir "$MNT/bad" "$MNT/cma" "$MNT/resume" || fail "mkdir"
algo_expect_bad_setting cmaes '      - {name: sigma, value: "0"}' \
	"sigma 0" "sigma"
algo_expect_bad_setting cmaes '      - {name: restart_strategy, value: lipop}' \
	"restart_strategy" "restart_strategy"

# A whole experiment two trials at a time, then a resume across a remount.
algo_run_and_resume cmaes "$SETTINGS"
exit 0
