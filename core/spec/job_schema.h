/*
 * job_schema.h - the batch/v1 Job schema as data: for each object type a
 * Job is made of (Job, JobSpec, PodTemplateSpec, PodSpec, Container,
 * Volume, ObjectMeta, ...), its fields and their kinds. The table is
 * generated from Kubernetes' OpenAPI definitions by tools/gen_job_schema.py
 * into core/spec/job_schema.c (never edited by hand); core/spec/job_check.c
 * checks a trialSpec against it.
 */
#ifndef KATIB_JOB_SCHEMA_H
#define KATIB_JOB_SCHEMA_H

#include <stddef.h>

enum job_kind {
	JOB_STRING,
	JOB_INT32,
	JOB_INT64,
	JOB_BOOL,
	JOB_NUMBER,
	JOB_OBJECT,	   /* fields of job_types[type] */
	JOB_ARRAY,	   /* a list of `elem` */
	JOB_MAP,	   /* string keys to `elem` */
	JOB_INT_OR_STRING, /* intstr.IntOrString */
	JOB_QUANTITY,	   /* resource.Quantity: "500m", "1Gi", 2 */
	JOB_TIME,	   /* metav1.Time: an RFC 3339 string */
	JOB_ANY,	   /* anything (FieldsV1) */
};

struct job_field {
	const char *name;
	enum job_kind kind;
	enum job_kind elem; /* ARRAY and MAP: the kind of each element */
	int type; /* OBJECT, or elements that are: index in job_types */
};

struct job_type {
	const char *name; /* "Container" */
	const struct job_field *fields;
	size_t nfields;
};

/* job_types[0] is the Job. */
extern const struct job_type job_types[];
extern const size_t job_ntypes;
/* The Kubernetes version the definitions came from ("v1.26.4"). */
extern const char job_schema_version[];

#endif
