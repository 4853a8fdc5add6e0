// libFuzzer's entry point for programs that own main(): SwiftPM points an executable's main
// at the module's own entry point (--defsym main=UploadMockFuzz_main), so libFuzzer's main()
// never runs and the harness starts the driver itself. The symbol comes from the runtime
// that -sanitize=fuzzer links.
#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
