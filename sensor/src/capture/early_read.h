// The early read: what a capture source reads about a pid right after the kernel
// told it about the process, on the source's own thread, before a short-lived
// process can exit. cmdline and exe first (they are what is lost), then stat.
// The text is parsed by core/procfs's parsers.
#pragma once

#include <string>

#include "sandwatch/sensor/capture_source.h"

namespace sandwatch::sensor {

// Reads PID/cmdline, PID/exe and PID/stat relative to `proc_dirfd` (an open
// O_PATH or O_DIRECTORY fd of the procfs root). Never fails: fields that could
// not be read stay empty and `complete` is false. An empty cmdline (zombie or
// kernel thread) counts as not read.
EarlyRead ReadEarly(int proc_dirfd, int pid);

// Reads PID/fd (at most `max_fds` descriptors) into er->fds and, when one is a
// socket, resolves the sockets through PID/net/{tcp,tcp6,udp,udp6} into
// er->sockets. A process gone meanwhile leaves what was read. Returns the number of
// descriptors read.
size_t ReadEarlyFds(int proc_dirfd, int pid, EarlyRead* er, size_t max_fds = 64);

// Reads only PID/exe (for waiting until an exec finished). Empty when gone.
std::string ReadExe(int proc_dirfd, int pid);

}  // namespace sandwatch::sensor
