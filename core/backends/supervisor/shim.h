/*
 * shim.h - the two halves of the katibfs-shim program: the per-trial
 * supervisor (katibfs-shim.c) and the daemon's fork server that starts
 * supervisors without an exec each (spawn_server.c).
 */
#ifndef KATIB_SHIM_H
#define KATIB_SHIM_H

/* One trial's supervisor, argv as for katibfs-shim (fd 3: the locked
 * record); the process's exit status. */
int supervise(int argc, char **argv);

/* katibfs-shim --serve (fd 3: the daemon's socket); returns when the
 * daemon has gone. */
int spawn_serve(void);

#endif
