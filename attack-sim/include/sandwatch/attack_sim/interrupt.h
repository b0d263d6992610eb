// SIGINT/SIGTERM/SIGHUP handling: the run stops its current step, ends the shell and still
// runs --cleanup. Waits in attack-sim check Interrupted() at least every 100 ms.
#pragma once

namespace sandwatch::attacksim {

void InstallInterruptHandlers();
bool Interrupted();
void SleepInterruptibly(double ms);

}  // namespace sandwatch::attacksim
