// The DRAM package's public surface: configuration, the cycle-level memory
// system and trace replay, page colouring, and the analytical model the
// machine simulator's fast mode calls.
export { DDR4_3200_8GB_X8, MACHINE_DEFAULT_DRAM, DRAM_PRESETS, dramConfigSchema, parseDramConfig, ddr4PeakBytesPerSec, requestBytes, type DramConfig } from './dram-config.js';
export { AddressDecoder, addressLayout, type DramCoordinates } from './address-mapping.js';
export { MemorySystem } from './memory-system.js';
export { TraceReplayer, replayRequests, replayStream, type RequestBatch, type ReplayResult } from './trace-replay.js';
export { readTraceFile } from './trace-file.js';
export { generateTrace, parseTraceSpec, referenceTraceSpec, type SyntheticTraceSpec } from './synthetic-traces.js';
export { bankColourCount, colourOfAddress, frameAddressForPage, banksOfColours, PAGE_BYTES, type FramePlacement } from './page-colouring.js';
export { solveDram, lastSolveIterations, type DramStreamDemand, type DramStreamAnswer, type DramSolution, type SolveDramOptions } from './dram-analytic-model.js';
export { runStreams, type DriverStream, type DriverResult } from './multi-stream-driver.js';
