// A growable Float64Array: append-heavy hot loops (per-request latencies, start
// times) without per-element allocation or boxed arrays.
export class F64Buffer {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  push(x: number): void {
    if (this.length === this.data.length) this.grow();
    this.data[this.length++] = x;
  }
  /**
   * Room for n more values: a loop that writes at most n can then store into
   * `data` directly (re-read `data` after this call: it may be a new array).
   */
  reserve(n: number): void {
    while (this.length + n > this.data.length) this.grow();
  }
  /** Double the capacity (out of push, so that push stays small enough to inline everywhere). */
  private grow(): void {
    const next = new Float64Array(Math.max(16, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }
  clear(): void {
    this.length = 0;
  }
  /** Drop the first n elements (moves the rest down). */
  dropFront(n: number): void {
    if (n <= 0) return;
    this.data.copyWithin(0, n, this.length);
    this.length -= n;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}
