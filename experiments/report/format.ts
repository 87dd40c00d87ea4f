// Number formatting for reports: three significant digits, no exponent for
// ordinary magnitudes; intervals as "mean [lo, hi]".

export function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  if (a >= 10) return x.toFixed(2);
  if (a >= 0.01) return x.toFixed(3);
  return x.toExponential(2);
}

export function fmtInterval(mean: number | null, lo: number | null, hi: number | null): string {
  if (mean === null) return '–';
  if (lo === null || hi === null || (lo === mean && hi === mean)) return fmt(mean);
  return `${fmt(mean)} [${fmt(lo)}, ${fmt(hi)}]`;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function escapeLatex(s: string): string {
  return s.replace(/\\/g, '\\textbackslash{}').replace(/([&%$#_{}])/g, '\\$1').replace(/~/g, '\\textasciitilde{}').replace(/\^/g, '\\textasciicircum{}').replace(/–/g, '--');
}
