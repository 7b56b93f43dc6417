#ifndef REHABHOST_CLIBFUZZER_H
#define REHABHOST_CLIBFUZZER_H

// libFuzzer's entry point for programs that have a main of their own (compiler-rt's
// FuzzerInterface.h, LLVM 11 and later). rehabfuzz needs it because SwiftPM links every executable
// with `--defsym main=rehabfuzz_main`: the program's own main always wins over libFuzzer's, so in
// the fuzzing build (-DFUZZING, scripts/fuzz.sh) rehabfuzz's main hands over to libFuzzer here.
// Only declared: the normal build never calls it and never links libFuzzer.

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
