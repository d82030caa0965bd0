# trial_job.sh - the Job trial template the tests' Experiments share.
# Sourced by lib.sh (every mounted test) and tests/k8s/fake.sh; it only
# defines a function. POSIX sh.

# trial_job CONTAINER IMAGE [INDENT]
# A trialTemplate's `trialSpec:` key and its batch/v1 Job, up to the image
# of its one container CONTAINER (restartPolicy Never). INDENT is the
# indentation of `trialSpec:` (4 spaces, as in a whole Experiment, if not
# given; 2 in a spec.yaml written to a mount); the caller's container
# lines (command, args, env ...) follow at INDENT plus 12 spaces.
trial_job() {
	sed "s/^/${3-    }/" <<END_OF_JOB
trialSpec:
  apiVersion: batch/v1
  kind: Job
  spec:
    template:
      spec:
        restartPolicy: Never
        containers:
          - name: $1
            image: $2
END_OF_JOB
}
