// The CLI tests load dist/: see test/helpers/dist-build.ts.
export { ensureDistFresh, ROOT } from '../../helpers/dist-build.js';
