// The built CLI for policy tests: the experiment tests' runner (dist/ rebuilt
// when older than the sources, see test/helpers/dist-build.ts).
import { runCli } from '../experiments/helpers.js';

export const umbra = runCli;
