// The CLI tests run the real binary, which loads dist/: see test/helpers/dist-build.ts.
export { ensureDistFresh as ensureBuilt, UMBRA_BIN } from '../helpers/dist-build.js';
