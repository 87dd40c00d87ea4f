// A first-class (latency-critical) service as a request queue.
//
// Requests arrive open-loop (Poisson at the profile's current rate; a rate
// change restarts the exponential gap, which is exact because it is
// memoryless). Each carries a lognormal number of instructions. One worker
// thread per granted core takes requests from a central FCFS queue; a request's
// service time is its instructions divided by the speed of the core it runs on
// (frequency x the share of the core the thread gets / the service's CPI under
// current contention). Latency runs from arrival (intended send time) to
// completion, so queueing is never hidden. Requests beyond `maxQueue` waiting
// are rejected and count as infinitely late.
import type { Rng } from '../../util/rng.js';
import { F64Buffer } from '../../util/f64-buffer.js';
import { windowPercentiles } from '../../util/select.js';
import { fastExp } from '../../util/fast-exp.js';
import type { DemandProfile } from '../workloads/demand-profile.js';

const BUSY_SLOT_NS = 1_000_000;
const BUSY_SLOTS = 10;

export interface LcServiceOptions {
  rpsProfile: DemandProfile;
  instrPerRequest: number;
  requestCv: number;
  sloP99Ns: number;
  /** The service's own: it draws arrivals ahead of need (see DrawnAhead). */
  arrivalsRng: Rng;
  /** The service's own, like arrivalsRng. */
  serviceRng: Rng;
  maxQueue?: number;
}

/**
 * The service's own requests are drawn DRAW_AHEAD at a time (arrival times
 * and instructions, each from its own stream, in a tight loop of their own)
 * and then served in order from these arrays. Their arrivals and sizes depend
 * on nothing the service does (the arrivals are open-loop), so drawing them
 * before they are needed gives the same values in the same order; it keeps
 * the per-request loop small and free of calls, which V8 compiles as one
 * piece (a call it does not inline costs the call and a boxed double for each
 * number crossing it). Drawing ahead moves the random streams' state ahead of
 * use, which is why they must be the service's alone.
 */
const DRAW_AHEAD = 256;

interface Server {
  coreId: number;
  /** Instructions per ns this worker executes now. */
  speed: number;
  /** When the worker is done with its current request. */
  freeAtNs: number;
  /** When the worker became usable (cold start of a newly granted core). */
  readyAtNs: number;
}

export interface LcWindowStats {
  requests: number;
  rejected: number;
  p50Ns: number;
  p95Ns: number;
  p99Ns: number;
  /** Mean latency of the requests that completed within bounds (rejected ones left out). */
  meanNs: number;
  offeredRps: number;
  completedRps: number;
  queueLength: number;
  /** Fraction of the workers' time spent serving, over the window. */
  utilisation: number;
  instructions: number;
}

export class LcService {
  private servers: Server[] = [];
  private readonly sigma: number;
  private readonly halfSigmaSq: number;
  private readonly maxQueue: number;
  /** Start times of accepted requests, FCFS so non-decreasing; [queueHead, length) may still be waiting. */
  private starts = new F64Buffer();
  private queueHead = 0;
  // window accumulators
  private latencies = new F64Buffer();
  private windowArrivals = 0;
  private windowRejected = 0;
  private windowBusyNs = 0;
  private windowInstructions = 0;
  private lastUtilisation = 0;
  /**
   * Busy time in BUSY_SLOTS slots of BUSY_SLOT_NS (a ring indexed by arrival
   * time), for a load estimate over the last few milliseconds that does not
   * jitter with each observation window.
   */
  private readonly busySlots = new Float64Array(BUSY_SLOTS);
  private busySlotAt = -1; // index (arrival / BUSY_SLOT_NS) of the newest slot written
  private busyRingAt = 0; // its place in the ring (busySlotAt % BUSY_SLOTS, kept: a modulo of a double is a library call)
  /** The newest slot's span [start, end) in ns: an arrival inside it needs no division to find its slot. */
  private busySlotStartNs = Infinity;
  private busySlotEndNs = -Infinity;
  private seenRequest = false;
  private completions = new F64Buffer(); // completion times not yet counted, for completedRps
  /**
   * A probe burst (SimPlatform's echo as the host runner does it): extra
   * open-loop requests at `rate` until endNs, served by the same workers and
   * queue, left out of the service's own latency windows and arrival counts.
   */
  private burst: { endNs: number; nextNs: number; meanGapNs: number; rng: Rng; accepted: number; cycles: number } | null = null;
  /**
   * The service's own requests drawn ahead (see DRAW_AHEAD): arrival times and
   * the instructions of each; [aheadAt, DRAW_AHEAD) are still to be served.
   */
  private readonly aheadArrivals = new Float64Array(DRAW_AHEAD);
  private readonly aheadInstructions = new Float64Array(DRAW_AHEAD);
  private aheadAt = DRAW_AHEAD;
  /**
   * The arrival rate holds until rateUntilNs (cached so arrivals do not query
   * the profile each time; -Infinity: not known yet). A time is a double from
   * the start: V8 keeps a field first given a small integer as one until a
   * value past 2^30 (1.07 s in ns) arrives, and then discards the compiled
   * code of every function that used it.
   */
  private rate = 0;
  private meanGapNs = Infinity;
  private rateUntilNs = -Infinity;
  private readonly percentiles = { p50: 0, p95: 0, p99: 0 };

  constructor(private readonly o: LcServiceOptions) {
    this.sigma = Math.sqrt(Math.log(1 + o.requestCv * o.requestCv));
    this.halfSigmaSq = (this.sigma * this.sigma) / 2;
    this.maxQueue = o.maxQueue ?? 20_000;
  }

  get sloP99Ns(): number {
    return this.o.sloP99Ns;
  }

  /** Worker cores and when each becomes usable; keeps the state of workers that stay. */
  setServers(cores: { coreId: number; readyAtNs: number }[]): void {
    const old = new Map(this.servers.map((s) => [s.coreId, s]));
    this.servers = cores.map((c) => {
      const prev = old.get(c.coreId);
      return prev ? prev : { coreId: c.coreId, speed: 0, freeAtNs: c.readyAtNs, readyAtNs: c.readyAtNs };
    });
  }

  serverCores(): number[] {
    return this.servers.map((s) => s.coreId);
  }

  /**
   * Instructions per ns of each worker (its share of its core x clock / CPI)
   * and the CPI itself, which the CPU-time accounting needs: a request's
   * CPU time is its instructions x CPI / clock, whatever its share of the core.
   */
  setSpeeds(speedOf: (coreId: number) => number, cpi: number): void {
    for (const s of this.servers) s.speed = speedOf(s.coreId);
    this.cpi = cpi;
  }

  /** Instructions and core cycles of every request dispatched so far (counted at dispatch). */
  dispatchedInstructions = 0;
  dispatchedCycles = 0;
  private cpi = 1;

  /**
   * Fraction of time a worker is busy, decayed over the last few milliseconds
   * (before the first requests: the primed value).
   */
  busyEstimate(nowNs: number): number {
    const workers = this.servers.length;
    if (workers === 0) return 0;
    if (!this.seenRequest) return this.lastUtilisation;
    this.advanceSlots(Math.floor(nowNs / BUSY_SLOT_NS));
    let busy = 0;
    for (let i = 0; i < BUSY_SLOTS; i++) busy += this.busySlots[i];
    // the newest slot is partly elapsed: the window is (BUSY_SLOTS - 1) whole slots plus that part
    const span = (BUSY_SLOTS - 1) * BUSY_SLOT_NS + (nowNs - this.busySlotAt * BUSY_SLOT_NS);
    return Math.min(1, busy / (workers * span));
  }

  /** Clear the slots between the newest written one (if any) and `slot`. */
  private advanceSlots(slot: number): void {
    if (slot <= this.busySlotAt) return;
    if (this.busySlotAt >= 0) {
      const gap = Math.min(BUSY_SLOTS, slot - this.busySlotAt);
      for (let k = 1; k <= gap; k++) this.busySlots[(this.busySlotAt + k) % BUSY_SLOTS] = 0;
    }
    this.busySlotAt = slot;
    this.busyRingAt = slot % BUSY_SLOTS;
    this.busySlotStartNs = slot * BUSY_SLOT_NS;
    this.busySlotEndNs = (slot + 1) * BUSY_SLOT_NS;
  }

  private addBusy(arrivalNs: number, serviceNs: number): void {
    this.seenRequest = true;
    if (arrivalNs >= this.busySlotStartNs && arrivalNs < this.busySlotEndNs) {
      // the newest slot (arrivals are whole ns, so this is floor(arrival / BUSY_SLOT_NS) === busySlotAt)
      this.busySlots[this.busyRingAt] += serviceNs;
      return;
    }
    const slot = Math.floor(arrivalNs / BUSY_SLOT_NS);
    // (the test is advanceSlots' own, made here so that the call, once a
    // millisecond, stays out of line and addBusy small enough to inline)
    if (slot > this.busySlotAt) this.advanceSlots(slot);
    this.busySlots[slot === this.busySlotAt ? this.busyRingAt : slot % BUSY_SLOTS] += serviceNs;
  }

  /** Prime the estimate before any request has been seen. */
  primeUtilisation(u: number): void {
    this.lastUtilisation = Math.max(0, Math.min(1, u));
  }

  /**
   * The arrivals after the last one drawn, in order: Infinity once the rate
   * stays 0 (and then no more draws). The last one drawn ends the previous
   * batch, still in `out` (0, the start, before the first batch); kept there
   * rather than in a field for the reason given at rateUntilNs.
   */
  private drawArrivals(out: Float64Array): void {
    let t = out[out.length - 1];
    for (let i = 0; i < out.length; i++) {
      if (t !== Infinity) t = this.drawArrival(t);
      out[i] = t;
    }
  }

  private drawArrival(fromNs: number): number {
    let t = fromNs;
    for (;;) {
      if (t >= this.rateUntilNs) {
        this.rate = this.o.rpsProfile.valueAt(t);
        this.meanGapNs = 1e9 / this.rate;
        this.rateUntilNs = this.o.rpsProfile.nextChangeNs(t);
      }
      const change = this.rateUntilNs;
      if (this.rate > 0) {
        const gap = this.o.arrivalsRng.exp(this.meanGapNs);
        if (t + gap < change) return Math.ceil(t + gap);
      }
      if (change === Infinity) return Infinity;
      t = change;
    }
  }

  /** Requests' instructions, in order: lognormal around instrPerRequest. */
  private drawInstructions(out: Float64Array): void {
    for (let i = 0; i < out.length; i++) out[i] = this.instructionsFor(this.o.serviceRng.normal());
  }

  /**
   * Instructions of a request for a standard normal z (from the service's
   * stream, or a burst's). fastExp, not Math.exp: on these random arguments
   * Math.exp's range branches mispredict and cost more than the normal draw
   * itself (util/fast-exp.ts).
   */
  private instructionsFor(z: number): number {
    return this.o.instrPerRequest * fastExp(this.sigma * z - this.halfSigmaSq);
  }

  /** Start a probe burst of extra requests at `ratePerSec` for durationNs (see `burst`); false while one is running. */
  startBurst(nowNs: number, durationNs: number, ratePerSec: number, rng: Rng): boolean {
    if (this.burst && this.burst.endNs > nowNs) return false;
    const meanGapNs = 1e9 / ratePerSec;
    this.burst = { endNs: nowNs + durationNs, nextNs: Math.ceil(nowNs + rng.exp(meanGapNs)), meanGapNs, rng, accepted: 0, cycles: 0 };
    return true;
  }

  /** The last burst's accepted requests and the core cycles they took (run up to its end first). */
  burstResult(): { accepted: number; cycles: number } | null {
    return this.burst ? { accepted: this.burst.accepted, cycles: this.burst.cycles } : null;
  }

  /** Serve every arrival (the service's, and a burst's) up to and including tNs. */
  runUntil(tNs: number): void {
    for (;;) {
      if (this.aheadAt === DRAW_AHEAD) {
        this.drawArrivals(this.aheadArrivals);
        this.drawInstructions(this.aheadInstructions);
        this.aheadAt = 0;
      }
      // the service's own requests come first up to the next burst request
      // (a burst request goes before an own one only if strictly earlier)
      const b = this.burst;
      const burstNext = b !== null && b.nextNs < b.endNs ? b.nextNs : Infinity;
      const limit = burstNext <= tNs ? burstNext : tNs;
      this.serveOwn(limit);
      if (this.aheadAt === DRAW_AHEAD) continue;
      if (!(burstNext <= tNs)) break;
      // the next own arrival is past the burst's next request: serve that
      b!.nextNs = Math.ceil(burstNext + b!.rng.exp(b!.meanGapNs));
      const instr = this.instructionsFor(b!.rng.normal());
      if (this.dispatchBurst(burstNext, instr)) {
        b!.accepted++;
        b!.cycles += instr * this.cpi;
      }
    }
    if (this.queueHead > 4096 && this.queueHead * 2 > this.starts.length) {
      this.starts.dropFront(this.queueHead);
      this.queueHead = 0;
    }
  }

  /**
   * The service's own requests drawn ahead that arrive by `limit`, each
   * dispatched FCFS onto the worker that can start it first,
   * in one loop over locals: this is the simulator's hottest path (tens of
   * thousands of requests per simulated second on a loaded machine).
   */
  private serveOwn(limit: number): void {
    const arrivals = this.aheadArrivals;
    const instructions = this.aheadInstructions;
    let at = this.aheadAt;
    if (!(arrivals[at] <= limit)) return;
    // at most the rest of the drawn batch is served here
    const room = DRAW_AHEAD - at;
    this.starts.reserve(room);
    this.latencies.reserve(room);
    this.completions.reserve(room);
    const starts = this.starts.data;
    const latencies = this.latencies.data;
    const completions = this.completions.data;
    let startsLength = this.starts.length;
    let latenciesLength = this.latencies.length;
    let completionsLength = this.completions.length;
    let queueHead = this.queueHead;
    let windowArrivals = this.windowArrivals;
    let windowRejected = this.windowRejected;
    let windowBusyNs = this.windowBusyNs;
    let windowInstructions = this.windowInstructions;
    let dispatchedInstructions = this.dispatchedInstructions;
    let dispatchedCycles = this.dispatchedCycles;
    const servers = this.servers;
    const maxQueue = this.maxQueue;
    const cpi = this.cpi;
    while (at < DRAW_AHEAD) {
      const arrival = arrivals[at];
      if (!(arrival <= limit)) break;
      const instr = instructions[at];
      at++;
      windowArrivals++;
      // drop started requests from the waiting list
      while (queueHead < startsLength && starts[queueHead] <= arrival) queueHead++;
      const best = this.earliestServer();
      if (best < 0 || startsLength - queueHead >= maxQueue) {
        windowRejected++;
        latencies[latenciesLength++] = Infinity;
        continue;
      }
      const s = servers[best];
      const start = Math.max(arrival, this.earliestStartNs);
      const serviceNs = instr / s.speed;
      const done = start + serviceNs;
      s.freeAtNs = done;
      starts[startsLength++] = start;
      windowBusyNs += serviceNs;
      this.addBusy(arrival, serviceNs);
      dispatchedInstructions += instr;
      dispatchedCycles += instr * cpi;
      latencies[latenciesLength++] = done - arrival;
      windowInstructions += instr;
      completions[completionsLength++] = done;
    }
    this.aheadAt = at;
    this.starts.length = startsLength;
    this.latencies.length = latenciesLength;
    this.completions.length = completionsLength;
    this.queueHead = queueHead;
    this.windowArrivals = windowArrivals;
    this.windowRejected = windowRejected;
    this.windowBusyNs = windowBusyNs;
    this.windowInstructions = windowInstructions;
    this.dispatchedInstructions = dispatchedInstructions;
    this.dispatchedCycles = dispatchedCycles;
  }

  /**
   * The worker that can start a request first (on a tie the faster one), or
   * -1 when none has a share of a core; its start time in earliestStartNs.
   */
  private earliestServer(): number {
    const servers = this.servers;
    let best = -1;
    let bestStart = Infinity;
    for (let i = 0; i < servers.length; i++) {
      const s = servers[i];
      if (!(s.speed > 0)) continue;
      const start = Math.max(s.freeAtNs, s.readyAtNs);
      if (start < bestStart || (start === bestStart && best >= 0 && s.speed > servers[best].speed)) {
        bestStart = start;
        best = i;
      }
    }
    this.earliestStartNs = bestStart;
    return best;
  }
  private earliestStartNs = Infinity;

  /**
   * A burst's request, FCFS onto the earliest worker as the service's own
   * (serveOwn) but left out of its windows. False when rejected (no worker,
   * or the queue is full).
   */
  private dispatchBurst(arrival: number, instr: number): boolean {
    const starts = this.starts.data;
    while (this.queueHead < this.starts.length && starts[this.queueHead] <= arrival) this.queueHead++;
    const best = this.earliestServer();
    if (best < 0 || this.starts.length - this.queueHead >= this.maxQueue) return false;
    const s = this.servers[best];
    const start = Math.max(arrival, this.earliestStartNs);
    const serviceNs = instr / s.speed;
    s.freeAtNs = start + serviceNs;
    this.starts.push(start);
    this.windowBusyNs += serviceNs;
    this.addBusy(arrival, serviceNs);
    this.dispatchedInstructions += instr;
    this.dispatchedCycles += instr * this.cpi;
    return true;
  }

  /** Close the observation window ending at nowNs (everything up to nowNs must have been run). */
  takeWindow(nowNs: number, windowNs: number): LcWindowStats {
    const starts = this.starts.data;
    while (this.queueHead < this.starts.length && starts[this.queueHead] <= nowNs) this.queueHead++;
    const lat = this.latencies.view();
    const n = lat.length;
    // the mean in arrival order, then the percentiles (which reorder the window)
    let sum = 0;
    let finite = 0;
    for (let i = 0; i < n; i++) {
      if (lat[i] === Infinity) continue; // rejected requests
      sum += lat[i];
      finite++;
    }
    const pct = this.percentiles;
    windowPercentiles(lat, pct);
    // count completions reached; keep the rest (compacted in place)
    let completed = 0;
    let kept = 0;
    const comp = this.completions.data;
    for (let i = 0; i < this.completions.length; i++) {
      if (comp[i] <= nowNs) completed++;
      else comp[kept++] = comp[i];
    }
    this.completions.length = kept;
    const workers = Math.max(1, this.servers.length);
    const util = windowNs > 0 ? Math.min(1, this.windowBusyNs / (workers * windowNs)) : 0;
    const stats: LcWindowStats = {
      requests: n,
      rejected: this.windowRejected,
      p50Ns: pct.p50,
      p95Ns: pct.p95,
      p99Ns: pct.p99,
      meanNs: finite > 0 ? sum / finite : 0,
      offeredRps: windowNs > 0 ? (this.windowArrivals * 1e9) / windowNs : 0,
      completedRps: windowNs > 0 ? (completed * 1e9) / windowNs : 0,
      queueLength: this.starts.length - this.queueHead,
      utilisation: util,
      instructions: this.windowInstructions,
    };
    // a zero-length window (an observe at the instant of the last) says
    // nothing about utilisation: keep the estimate (it primes busyEstimate
    // until the first request)
    if (windowNs > 0) this.lastUtilisation = util;
    this.latencies.clear();
    this.windowArrivals = 0;
    this.windowRejected = 0;
    this.windowBusyNs = 0;
    this.windowInstructions = 0;
    return stats;
  }

  /** Busy workers expected from the offered load now (used before any window has been seen). */
  offeredWorkers(tNs: number, cpi: number, freqGHz: number): number {
    const rps = this.o.rpsProfile.valueAt(tNs);
    return (rps * this.o.instrPerRequest * cpi) / (freqGHz * 1e9);
  }
}
