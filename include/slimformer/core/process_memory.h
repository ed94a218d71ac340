// This process's memory as Linux reports it, in MB.
#pragma once

namespace slimformer::core {

// Resident memory now (VmRSS; 0 where /proc is missing).
double resident_mb();
// Peak resident memory so far (the kernel's high-water mark, VmHWM).
double peak_resident_mb();

}  // namespace slimformer::core
