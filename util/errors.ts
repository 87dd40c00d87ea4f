// Error kinds the CLI maps to exit codes: bad usage or invalid input exits 2,
// anything that went wrong while running exits 1. Messages are one line and
// name the file, line, column or field at fault and what was expected.

/** Bad command-line usage (unknown option, missing argument). Exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Invalid input: a malformed file, an invalid spec or machine description. Exit 2. */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    message: string,
    /** Where: a file path, optionally with :line:column, or a field path. */
    readonly where?: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }
}

/** The host cannot do what was asked (no PMU, no resctrl, not root). Exit 1. */
export class UnsupportedError extends Error {
  override readonly name = 'UnsupportedError';
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError || err instanceof InputError) return 2;
  return 1;
}
