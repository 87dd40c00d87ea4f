// Ziggurat samplers for the standard normal and the unit exponential
// (Marsaglia & Tsang, "The Ziggurat Method for Generating Random Variables",
// J. Stat. Software 5(8), 2000): a table lookup and one multiply for ~98% of
// draws, against a log (and for Box–Muller a sqrt and a sine) every time. The
// simulator draws two per request, so this is on its hottest path. The inputs
// are 32-bit integers and uniforms from the caller's seeded generator, so the
// streams stay reproducible.

const KN = new Uint32Array(128);
const WN = new Float64Array(128);
const FN = new Float64Array(128);
const KE = new Uint32Array(256);
const WE = new Float64Array(256);
const FE = new Float64Array(256);
const R_NORMAL = 3.442619855899;
const R_EXP = 7.69711747013104972;

(function setup() {
  const m1 = 2147483648.0;
  const m2 = 4294967296.0;
  let dn = R_NORMAL;
  let tn = dn;
  const vn = 9.91256303526217e-3;
  let q = vn / Math.exp(-0.5 * dn * dn);
  KN[0] = Math.floor((dn / q) * m1);
  KN[1] = 0;
  WN[0] = q / m1;
  WN[127] = dn / m1;
  FN[0] = 1.0;
  FN[127] = Math.exp(-0.5 * dn * dn);
  for (let i = 126; i >= 1; i--) {
    dn = Math.sqrt(-2.0 * Math.log(vn / dn + Math.exp(-0.5 * dn * dn)));
    KN[i + 1] = Math.floor((dn / tn) * m1);
    tn = dn;
    FN[i] = Math.exp(-0.5 * dn * dn);
    WN[i] = dn / m1;
  }
  let de = R_EXP;
  let te = de;
  const ve = 3.949659822581572e-3;
  q = ve / Math.exp(-de);
  KE[0] = Math.floor((de / q) * m2);
  KE[1] = 0;
  WE[0] = q / m2;
  WE[255] = de / m2;
  FE[0] = 1.0;
  FE[255] = Math.exp(-de);
  for (let i = 254; i >= 1; i--) {
    de = -Math.log(ve / de + Math.exp(-de));
    KE[i + 1] = Math.floor((de / te) * m2);
    te = de;
    FE[i] = Math.exp(-de);
    WE[i] = de / m2;
  }
})();

export interface UniformSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform signed 32-bit integer. */
  int32(): number;
}

/** One standard normal draw. */
export function zigguratNormal(src: UniformSource): number {
  for (;;) {
    const hz = src.int32() | 0;
    const iz = hz & 127;
    if (Math.abs(hz) < KN[iz]) return hz * WN[iz];
    // rare paths: the base strip's tail, or the wedge of a rectangle
    const x = hz * WN[iz];
    if (iz === 0) {
      let xx: number;
      let y: number;
      do {
        xx = -Math.log(1 - src.next()) / R_NORMAL;
        y = -Math.log(1 - src.next());
      } while (y + y < xx * xx);
      return hz > 0 ? R_NORMAL + xx : -R_NORMAL - xx;
    }
    if (FN[iz] + src.next() * (FN[iz - 1] - FN[iz]) < Math.exp(-0.5 * x * x)) return x;
  }
}

/** One unit-mean exponential draw. */
export function zigguratExponential(src: UniformSource): number {
  for (;;) {
    const jz = src.int32() >>> 0;
    const iz = jz & 255;
    if (jz < KE[iz]) return jz * WE[iz];
    if (iz === 0) return R_EXP - Math.log(1 - src.next());
    const x = jz * WE[iz];
    if (FE[iz] + src.next() * (FE[iz - 1] - FE[iz]) < Math.exp(-x)) return x;
  }
}
