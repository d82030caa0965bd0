/*
 * record.h - the record katibfs-shim keeps in each trial's directory: its
 * name. The lines it holds ("exit CODE SIGNAL", "collector-stopped GRACE
 * SIGNAL", ...) are described at the head of katibfs-shim.c. Written by
 * the shim; read by the local backend (core/backends/executor_local.c) and
 * by the Custom collector's report (core/collectors/collect.c), which
 * include this rather than the backend's own header.
 */
#ifndef KATIB_SHIM_RECORD_H
#define KATIB_SHIM_RECORD_H

#define SUPERVISOR_FILE "supervisor"

#endif
