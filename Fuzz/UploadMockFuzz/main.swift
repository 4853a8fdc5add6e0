import CLibFuzzer
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer parses its own flags (-max_total_time=…, corpus directories) from the command
// line and calls `fuzzOneInput` for every input; scripts/fuzz runs this.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
